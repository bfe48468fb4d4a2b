#!/usr/bin/env python3
"""Runs raft_trace over the seeds of a recorded upstream trace list and compares line by line.

usage: compare_trace.py RAFT_TRACE compat/raft/trace_upstream.txt
"""
import subprocess
import sys

exe, golden = sys.argv[1:3]
want = [l.strip() for l in open(golden) if l.strip() and not l.startswith("#")]
first = int(want[0].split()[1])
got = subprocess.run([exe, str(first), str(len(want))], check=True, capture_output=True,
                     text=True).stdout.split("\n")
bad = [(w, g) for w, g in zip(want, got) if w != g]
for w, g in bad[:10]:
    print("upstream: %s\noxidaos:  %s" % (w, g))
print("%d passed, %d failed" % (len(want) - len(bad), len(bad)))
sys.exit(1 if bad or len(got) < len(want) else 0)
