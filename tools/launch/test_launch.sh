#!/bin/sh
# oxidaos-launch's own test: the environment contract crt_launch gives its programs, the MPMD
# (':') form with a client block, per-block -x, exit statuses and the time limit.
#   test_launch.sh PATH/TO/oxidaos-launch
set -u
L=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Each rank writes what it was given; the group file is copied (the launcher removes it).
cat > "$T/rank.sh" <<'EOS'
#!/bin/sh
out=$1/r$CRT_L_RANK
{ echo "rank=$CRT_L_RANK port=$D_PORT adj=$D_PORT_AUTO_ADJUST prov=$D_PROVIDER if=$D_INTERFACE x=${XV:-} args=$2,$3"; } > "$out"
cp "$CRT_L_GRP_CFG" "$out.grp"
EOS
chmod +x "$T/rank.sh"

unset D_PROVIDER D_INTERFACE
"$L" -q -np 3 -e "$T/rank.sh" "$T" a b : -np 1 -c -x XV=cli -e "$T/rank.sh" "$T" c d \
  || fail "job status $?"
for r in 0 1 2 3; do [ -f "$T/r$r" ] || fail "rank $r did not run"; done
grep -q "x=cli args=c,d" "$T/r3" || fail "client block: $(cat "$T/r3")"
grep -q "x= args=a,b" "$T/r0" || fail "server block: $(cat "$T/r0")"
grep -q "adj=1 prov=ofi+tcp if=lo" "$T/r1" || fail "defaults: $(cat "$T/r1")"
# every rank's file: the three servers, rank and URI, and not the client
for r in 0 1 2 3; do
  [ "$(wc -l < "$T/r$r.grp")" -eq 3 ] || fail "group file of $r: $(cat "$T/r$r.grp")"
  awk '{ if ($1 != NR - 1 || $2 !~ /^ofi\+tcp:\/\/127\.0\.0\.1:[0-9]+$/) exit 1 }' "$T/r$r.grp" \
    || fail "group file lines: $(cat "$T/r$r.grp")"
done
# D_PORT is the port of the rank's URI; ranks are 32 ports apart
for r in 0 1 2; do
  p=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$T/r$r")
  grep -q "^$r ofi+tcp://127.0.0.1:$p\$" "$T/r0.grp" || fail "rank $r port $p not in its URI"
done
p0=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$T/r0"); p1=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$T/r1")
[ $((p1 - p0)) -eq 32 ] || fail "port spacing $p0 $p1"
for f in /tmp/crt_launch-info-*; do
  [ -f "$f" ] && grep -q "127.0.0.1:$p0\$" "$f" && fail "group file $f left behind"
done

# the first failing rank's status is the job's; an exec failure is 127; -t kills at the limit
"$L" -q -np 2 -e sh -c 'exit $((CRT_L_RANK * 3))'; [ $? -eq 3 ] || fail "exit status"
"$L" -q -np 1 -e /nonexistent/prog 2>/dev/null; [ $? -eq 127 ] || fail "exec failure"
"$L" -q -t 1 -np 1 -e sleep 30 2>/dev/null; [ $? -eq 124 ] || fail "time limit"
"$L" -q -np 1 2>/dev/null; [ $? -eq 2 ] || fail "missing -e accepted"
echo "oxidaos-launch: all checks passed"
