#!/usr/bin/env python3
"""compat/<lib>/exports/*.txt -> a GNU ld version script: exactly those names global, all else
local (no Rust symbols, no rust_eh_personality). Upstream's libraries carry no symbol versions,
so neither do these: the script has one anonymous node."""
import sys

out, srcs = sys.argv[1], sys.argv[2:]
names = []
for src in srcs:
    for line in open(src):
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line.split()[0])
with open(out, "w") as f:
    f.write("/* generated from compat/ export lists */\n{\n  global:\n")
    for n in sorted(set(names)):
        f.write("    %s;\n" % n)
    f.write("  local:\n    *;\n};\n")
