#!/usr/bin/env python3
"""Checks that gurt's header macros compile into callers the same symbol references as
upstream's headers do.

usage: check_macro_refs.py FACTS OBJECT_OR_ARCHIVE

FACTS: lines `NAME: sym sym ...` (compat/gurt/macro_refs.txt, measured from upstream).
OBJECT: built from c_tests/gurt/macro_refs.c with -O2 -ffunction-sections: one function
probe_NAME per macro. Each function's relocations (undefined symbols it references, minus the
probe's own variables probe_v_*) must equal the facts for NAME.
"""
import re
import subprocess
import sys

facts_path, obj = sys.argv[1], sys.argv[2]
facts = {}
for line in open(facts_path):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    name, syms = line.split(":", 1)
    facts[name.strip()] = set(syms.split())

out = subprocess.run(["objdump", "-r", obj], check=True, capture_output=True, text=True).stdout
refs = {}
cur = None
for line in out.splitlines():
    m = re.match(r"RELOCATION RECORDS FOR \[\.text\.probe_(\w+)\]:", line)
    if m:
        cur = m.group(1)
        refs.setdefault(cur, set())
        continue
    if line.startswith("RELOCATION RECORDS"):
        cur = None
        continue
    parts = line.split()
    if cur and len(parts) == 3 and parts[1].startswith("R_X86_64"):
        sym = re.split(r"[-+]", parts[2])[0]
        if sym.startswith(".") or sym.startswith("probe_v_"):
            continue
        refs[cur].add(sym)

bad = 0
for name, want in sorted(facts.items()):
    got = refs.get(name)
    if got is None:
        print("MISSING probe for %s" % name)
        bad += 1
    elif got != want:
        print("%s: extra %s, missing %s" % (name, sorted(got - want), sorted(want - got)))
        bad += 1
print("gurt macros: %d of %d compile into upstream's symbol references" % (len(facts) - bad, len(facts)))
sys.exit(1 if bad else 0)
