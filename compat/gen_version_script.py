#!/usr/bin/env python3
"""compat/<lib>/exports.txt -> a GNU ld version script: exactly those names global, all else
local (no Rust symbols, no rust_eh_personality). Upstream's libraries carry no symbol versions,
so neither do these: the script has one anonymous node."""
import sys

src, out = sys.argv[1:3]
names = []
for line in open(src):
    line = line.strip()
    if line and not line.startswith("#"):
        names.append(line.split()[0])
with open(out, "w") as f:
    f.write("/* generated from %s */\n{\n  global:\n" % src)
    for n in sorted(set(names)):
        f.write("    %s;\n" % n)
    f.write("  local:\n    *;\n};\n")
