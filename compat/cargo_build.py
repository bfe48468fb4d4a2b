#!/usr/bin/env python3
"""Builds one workspace crate's staticlib with cargo and copies it where meson expects it.

usage: cargo_build.py CARGO TOP TARGET_DIR PACKAGE OUTPUT.a [PROFILE]

meson owns the shared libraries (as librsvg does): cargo makes the static archive, meson links
it whole into lib<name>.so.<version> with the export map from compat/. cargo decides what is
stale, so meson runs this on every build.
"""
import os
import shutil
import subprocess
import sys

cargo, top, target_dir, package, output = sys.argv[1:6]
profile = sys.argv[6] if len(sys.argv) > 6 else "release"
cmd = [cargo, "build", "--locked", "--manifest-path", os.path.join(top, "Cargo.toml"),
       "--target-dir", target_dir, "-p", package, "--lib"]
if profile == "release":
    cmd.append("--release")
if os.environ.get("CARGO_OFFLINE") == "1":
    cmd.append("--offline")
subprocess.run(cmd, check=True)
built = os.path.join(target_dir, profile if profile == "release" else "debug",
                     "lib" + package.replace("-", "_") + ".a")
tmp = output + ".tmp"
shutil.copyfile(built, tmp)
os.replace(tmp, output)
