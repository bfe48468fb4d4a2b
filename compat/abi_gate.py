#!/usr/bin/env python3
"""The ABI gate: a built shared library must export exactly the names of its compat list, with
upstream's soname and data-object sizes.

usage: abi_gate.py LIB.so EXPORTS SONAME [options]   (EXPORTS: a list, or a directory of *.txt)
       abi_gate.py --selftest LIB.so EXPORTS SONAME [options]   (proves the gate catches drift)

options:
  --upstream FILE   upstream's measured export list (NAME TYPE SIZE-hex): every listed name
                    must be an upstream name, every data size upstream's
  --complete        the library claims all of upstream's list: a missing name fails
  --archive FILE.a  the static archive: a C-API-looking global it defines (matching --api)
                    that the list does not export fails (an export forgotten in the list)
  --api REGEX       what a C API name looks like (default: ^(d_|DB_|crt_|raft_|log_))
"""
import re
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


def read_upstream(path):
    up = {}
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        size = int(f[2], 16) if len(f) > 2 and f[2] != "-" else None
        up[f[0]] = (f[1], size)
    return up


def archive_api_symbols(archive, api):
    """Global functions and objects the archive's members define (readelf: binutils' nm reads
    no symbols from rustc's LTO objects)."""
    out = subprocess.run(["readelf", "-sW", archive], check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        f = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(f) == 8 and f[3] in ("FUNC", "OBJECT") and f[4] in ("GLOBAL", "WEAK") \
                and f[6] != "UND" and api.match(f[7]) and not f[7].endswith("__extern"):
            names.add(f[7])
    return names


def gate(lib, exports, want_soname, opts=None):
    opts = opts or {}
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
    if opts.get("upstream"):
        up = read_upstream(opts["upstream"])
        for n in sorted(set(want) - set(up)):
            errors.append("not an upstream symbol: " + n)
        for n in sorted(set(got) & set(up)):
            usize = up[n][1]
            if up[n][0] in "BDRV" and usize is not None and got[n][1] != usize:
                errors.append("%s: size %s, upstream's %d" % (n, got[n][1], usize))
        if opts.get("complete"):
            for n in sorted(set(up) - set(want)):
                errors.append("missing upstream symbol: " + n)
    if opts.get("archive"):
        api = re.compile(opts.get("api") or r"^(d_|DB_|crt_|raft_|log_)")
        for n in sorted(archive_api_symbols(opts["archive"], api) - set(want)):
            errors.append("defined but not in the export list: " + n)
    return errors


def parse_opts(args):
    opts, rest, i = {}, [], 0
    while i < len(args):
        a = args[i]
        if a in ("--upstream", "--archive", "--api"):
            opts[a[2:]] = args[i + 1]
            i += 2
        elif a == "--complete":
            opts["complete"] = True
            i += 1
        else:
            rest.append(a)
            i += 1
    return rest, opts


def main(argv):
    argv, opts = parse_opts(argv)
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
                errs = gate(lib, p, so, opts)
                print("selftest: %s -> %s" % (what, "; ".join(errs) if errs else "NOT CAUGHT"))
                ok &= bool(errs)
            if opts.get("upstream"):
                p = os.path.join(tmp, "exports.txt")
                open(p, "w").writelines(list(export_lines(exports)) + ["not_upstream T\n"])
                errs = [e for e in gate(lib, p, so, opts) if "not an upstream" in e]
                print("selftest: a non-upstream name listed -> %s" % ("; ".join(errs) or "NOT CAUGHT"))
                ok &= bool(errs)
            errs = gate(lib, exports, so + ".x", opts)
            print("selftest: wrong soname -> %s" % ("; ".join(errs) if errs else "NOT CAUGHT"))
            ok &= bool(errs)
        return 0 if ok else 1
    lib, exports, so = argv[:3]
    errors = gate(lib, exports, so, opts)
    n = len(read_exports(exports))
    for e in errors:
        print("abi-gate: %s: %s" % (os.path.basename(lib), e))
    print("abi-gate: %s: soname %s, %d/%d listed exports, %d problems"
          % (os.path.basename(lib), soname(lib), n - sum(e.startswith("missing export") for e in errors),
             n, len(errors)))
    if opts.get("upstream"):
        up = read_upstream(opts["upstream"])
        print("abi-gate: %s: %d/%d upstream names exported%s"
              % (os.path.basename(lib), len(set(up) & set(exported(lib))), len(up),
                 " (complete)" if opts.get("complete") else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
