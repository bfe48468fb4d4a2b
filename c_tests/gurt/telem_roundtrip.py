#!/usr/bin/env python3
"""Runs telem_tool against the built libgurt: produce a tree (segments kept after exit),
consume it from a second process, compare the text with telem_tool.expected (what upstream
DAOS's library prints for the same tree; @ID@ stands for the instance id, @ROOT@ for the padded
root line), then destroy the
segments and check that none is left.

usage: telem_roundtrip.py TELEM_TOOL EXPECTED"""
import os
import subprocess
import sys

tool, expected = sys.argv[1], sys.argv[2]
ident = str(30000 + os.getpid() % 20000)
key = 0x10242048 + int(ident)


def run(*args):
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def segment_keys():
    out = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    return {int(line.split()[0], 16) for line in out.splitlines() if line.startswith("0x")}


run("produce", ident)
try:
    got = run("consume", ident)
finally:
    run("destroy", ident)
# the root directory line is padded to 8 columns ("%-8s")
want = open(expected).read().replace("@ROOT@", ("ID: " + ident).ljust(8)).replace("@ID@", ident)
if got != want:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got"))
    sys.exit(1)
if key in segment_keys():
    print("root segment left behind")
    sys.exit(1)
print("consumer output matches upstream's (%d lines); segments removed" % got.count("\n"))
