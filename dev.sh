#!/usr/bin/env bash
# oxidaos developer entry point. On a fresh Debian 12 machine:
#   ./dev.sh demo   installs what is missing, builds every library, installs them into
#                   ./_install and runs the demos against the installed libraries via pkg-config
#                   (libgurt's, then cart_demo: five engines, collectives, SWIM)
#   ./dev.sh test   installs what is missing, builds, and runs every test: cargo tests, the ABI
#                   gate, the C tests, and the C tests again under valgrind memcheck
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
build=${OXIDAOS_BUILD:-$top/build}
prefix=$top/_install

apt_packages=(build-essential pkg-config python3 meson ninja-build libcmocka-dev libclang-dev
  clang valgrind libyaml-dev uuid-dev libfabric-dev libboost-dev)

deps() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
    echo "== installing: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ! command -v cargo >/dev/null; then
    [[ -x $HOME/.cargo/bin/cargo ]] && export PATH=$HOME/.cargo/bin:$PATH
  fi
  if ! command -v cargo >/dev/null; then
    echo "== no cargo: installing Debian's"
    local sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cargo rustc
  fi
}

configure() {
  if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" --prefix "$prefix" --libdir lib
  fi
}

compile() {
  configure
  ninja -C "$build"
}

demo() {
  deps
  compile
  meson install -C "$build" --quiet
  mkdir -p "$top/_demo"
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  local flags; flags=$(pkg-config --cflags --libs gurt)
  for d in errno_demo gurt_demo; do
    echo "== building examples/$d.c against the installed libgurt: $flags"
    # shellcheck disable=SC2086
    cc -Wall -o "$top/_demo/$d" "$top/examples/$d.c" $flags -Wl,-rpath,"$prefix/lib"
  done
  echo "== errno_demo"
  "$top/_demo/errno_demo"
  echo "== gurt_demo (log lines at INFO and above echo to stderr; the log file is _demo/gurt_demo.log)"
  D_LOG_FILE="$top/_demo/gurt_demo.log" D_LOG_MASK=INFO DD_STDERR=INFO "$top/_demo/gurt_demo"
  flags=$(pkg-config --cflags --libs cart)
  echo "== building examples/cart_demo.c against the installed libcart: $flags"
  # shellcheck disable=SC2086
  cc -Wall -o "$top/_demo/cart_demo" "$top/examples/cart_demo.c" $flags -Wl,-rpath,"$prefix/lib"
  echo "== cart_demo (five engines on loopback; the log file is _demo/cart_demo.log)"
  D_LOG_FILE="$top/_demo/cart_demo.log" "$top/_demo/cart_demo"
}

tests() {
  deps
  echo "== cargo test"
  cargo test --workspace --locked
  compile
  echo "== meson test (ABI gate, layouts, C tests)"
  meson test -C "$build" --print-errorlogs
  echo "== C tests under valgrind memcheck"
  meson test -C "$build" --setup valgrind --suite c --print-errorlogs
}

case ${1:-} in
  demo) demo ;;
  test) tests ;;
  deps) deps ;;
  build) deps; compile ;;
  *) echo "usage: $0 demo|test|build|deps" >&2; exit 2 ;;
esac
