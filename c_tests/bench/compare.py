#!/usr/bin/env python3
"""Run gurt_bench against two libgurt.so.4 directories, alternating, and compare medians.

usage: compare.py BENCH DIR_A DIR_B [--rounds K] [-- BENCH-ARGS...]

Each round runs BENCH once with LD_LIBRARY_PATH=DIR_A and once with DIR_B (order alternating,
so drift in machine load hits both alike). For every case the median of all the runs' medians
is reported, with the ratio B/A (below 1: B is faster), and the ratio of the fastest runs
(less sensitive to other load on a shared machine).
"""
import os
import re
import statistics
import subprocess
import sys

args = sys.argv[1:]
extra = []
if "--" in args:
    i = args.index("--")
    args, extra = args[:i], args[i + 1:]
rounds = 5
if "--rounds" in args:
    i = args.index("--rounds")
    rounds = int(args[i + 1])
    del args[i:i + 2]
bench, dir_a, dir_b = args
line = re.compile(r"^(\S+)\s+(.+?)\s+([\d.]+) ns/op")
samples = {dir_a: {}, dir_b: {}}
order = []
for r in range(rounds):
    for d in ([dir_a, dir_b] if r % 2 == 0 else [dir_b, dir_a]):
        env = dict(os.environ, LD_LIBRARY_PATH=d)
        out = subprocess.run([bench] + extra, env=env, check=True, capture_output=True,
                             text=True).stdout
        for l in out.splitlines():
            m = line.match(l)
            if m:
                key = (m.group(1), m.group(2))
                if key not in order:
                    order.append(key)
                samples[d].setdefault(key, []).append(float(m.group(3)))
print("%-8s %-34s %10s %10s %6s %10s %10s %6s" % ("section", "case", "A median", "B median",
      "B/A", "A min", "B min", "B/A"))
for key in order:
    sa, sb = samples[dir_a][key], samples[dir_b][key]
    a, b = statistics.median(sa), statistics.median(sb)
    print("%-8s %-34s %10.1f %10.1f %6.2f %10.1f %10.1f %6.2f" % (key[0], key[1], a, b, b / a,
          min(sa), min(sb), min(sb) / min(sa)))
