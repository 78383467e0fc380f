#!/usr/bin/env bash
# bench/depot/capture.sh - builds bench/micro/capture.c with `kasan cc -O2` and runs it:
# capture of a 10- and a 30-frame stack by our runtime (frame-pointer walk + depot
# save, measured through malloc+free pairs against kasan.stacktrace=off), glibc's
# backtrace() and a bare frame-pointer walk. About 10 s. A benchmark, not a test.
#
#   bash bench/depot/capture.sh [--no-build]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
KASAN=$TARGET/release/kasan
if [ "${1:-}" != --no-build ]; then
	(cd "$ROOT" && cargo build --release -q -p kasan-rt -p kasan-cli) >&2
fi
[ -x "$KASAN" ] || { echo "capture.sh: $KASAN missing (build it, or drop --no-build)" >&2; exit 1; }
W=$(mktemp -d /tmp/kasan-capture.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$KASAN" cc -O2 "$ROOT/bench/micro/capture.c" -o "$W/capture"
"$W/capture"
