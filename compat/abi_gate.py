#!/usr/bin/env python3
"""The ABI gate: a built shared library must export exactly the names of its compat list, with
upstream's soname and data-object sizes.

usage: abi_gate.py LIB.so EXPORTS SONAME        (EXPORTS: a list, or a directory of *.txt)
       abi_gate.py --selftest LIB.so EXPORTS.txt SONAME   (proves the gate catches drift)
"""
import os
import subprocess
import sys
import tempfile


def export_lines(path):
    """The lines of an export list: a file, or every *.txt in a directory."""
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith(".txt"):
                yield from open(os.path.join(path, name))
    else:
        yield from open(path)


def read_exports(path):
    want = {}
    for line in export_lines(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split()
        want[f[0]] = (f[1] if len(f) > 1 else "T", int(f[2]) if len(f) > 2 else None)
    return want


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", "-S", lib], check=True,
                         capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4:
            got[f[3]] = (f[2], int(f[1], 16))
        elif len(f) == 3:
            got[f[2]] = (f[1], None)
    return got


def soname(lib):
    out = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "(SONAME)" in line:
            return line.split("[", 1)[1].rstrip("]")
    return None


def gate(lib, exports, want_soname):
    errors = []
    so = soname(lib)
    if so != want_soname:
        errors.append("soname %r, want %r" % (so, want_soname))
    want, got = read_exports(exports), exported(lib)
    for n in sorted(set(want) - set(got)):
        errors.append("missing export: " + n)
    for n in sorted(set(got) - set(want)):
        errors.append("extra export: " + n)
    for n in sorted(set(want) & set(got)):
        kind, size = want[n]
        gkind, gsize = got[n]
        if kind == "T" and gkind not in "Ti":
            errors.append("%s: want a function, got type %s" % (n, gkind))
        if kind == "D":
            if gkind not in "BDRV":
                errors.append("%s: want a data object, got type %s" % (n, gkind))
            elif size is not None and gsize != size:
                errors.append("%s: size %s, want %d" % (n, gsize, size))
    return errors


def main(argv):
    if argv and argv[0] == "--selftest":
        lib, exports, so = argv[1:4]
        want = read_exports(exports)
        first = sorted(want)[0]
        cases = {
            "a symbol removed from the list (so the library has one extra)":
                [l for l in export_lines(exports) if l.split()[:1] != [first]],
            "a symbol added to the list (so the library misses one)":
                list(export_lines(exports)) + ["oxidaos_not_a_gurt_symbol T\n"],
        }
        data = [n for n, (k, s) in want.items() if k == "D" and s]
        if data:
            cases["a data object's size changed"] = [
                ("%s D %d\n" % (data[0], want[data[0]][1] + 8)) if l.split()[:1] == [data[0]] else l
                for l in export_lines(exports)]
        ok = True
        with tempfile.TemporaryDirectory() as tmp:
            for what, lines in cases.items():
                p = os.path.join(tmp, "exports.txt")
                open(p, "w").writelines(lines)
                errs = gate(lib, p, so)
                print("selftest: %s -> %s" % (what, "; ".join(errs) if errs else "NOT CAUGHT"))
                ok &= bool(errs)
            errs = gate(lib, exports, so + ".x")
            print("selftest: wrong soname -> %s" % ("; ".join(errs) if errs else "NOT CAUGHT"))
            ok &= bool(errs)
        return 0 if ok else 1
    lib, exports, so = argv[:3]
    errors = gate(lib, exports, so)
    n = len(read_exports(exports))
    for e in errors:
        print("abi-gate: %s: %s" % (os.path.basename(lib), e))
    print("abi-gate: %s: soname %s, %d/%d exports, %d problems"
          % (os.path.basename(lib), soname(lib), n - sum(e.startswith("missing") for e in errors),
             n, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
