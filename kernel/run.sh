#!/usr/bin/env bash
# Builds the bare-metal KASAN kernel and boots it in QEMU (TCG).
#
#   kernel/run.sh              KASAN on: exits 0 exactly when the in-kernel suite passed
#   kernel/run.sh --kasan-off  the same kernel with kasan=off on its command line: exits
#                              0 exactly when every expectation was missed (no report)
#   kernel/run.sh --build      build only (and run fmt/clippy on the kernel crate)
#   kernel/run.sh --plain      for boot-time comparisons: the C cases built without
#                              -fsanitize, no Rust case, kasan=off; exits 0 when it booted
#                              and printed its result line
#
# Environment: KERNEL_TIMEOUT (seconds, default 120), KERNEL_APPEND (extra command line).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

mode=on
case "${1:-}" in
--kasan-off) mode=off ;;
--build) mode=build ;;
--plain) mode=plain ;;
"") ;;
*) echo "usage: $0 [--kasan-off|--build|--plain]" >&2; exit 2 ;;
esac

out=target/kernel
mkdir -p "$out"

# The Rust part: a no_std staticlib for the installed x86_64-unknown-linux-gnu
# target (no rust-src, no x86_64-unknown-none needed), code model kernel, static
# relocations, no red zone (exceptions push onto the interrupted stack), frame
# pointers for the unwinder.
export RUSTFLAGS="-C code-model=kernel -C relocation-model=static -C no-redzone=yes -C force-frame-pointers=yes -C panic=abort"
cargo fmt --check
cargo clippy --release --quiet -- -D warnings
cargo build --release --quiet

# The C part: gcc's kernel-address instrumentation, inline, stack, globals and
# allocas, at Linux's shadow offset.
CFLAGS=(-ffreestanding -fno-pic -mcmodel=kernel -mno-red-zone -fno-omit-frame-pointer
    -fno-stack-protector -O2 -g0 -Wall -Wextra -Werror -Wno-unused-parameter
    -fsanitize=kernel-address -fasan-shadow-offset=0xdffffc0000000000
    --param asan-stack=1 --param asan-globals=1 --param asan-instrument-allocas=1
    --param asan-instrumentation-with-call-threshold=10000)
if [ "$mode" = plain ]; then
    CFLAGS=("${CFLAGS[@]:0:11}")
    out=target/kernel-plain
    mkdir -p "$out"
fi
gcc "${CFLAGS[@]}" -c c/kasan_test.c -o "$out/kasan_test.o"
gcc -c boot.S -o "$out/boot.o"

# Rust code sanitized too, where the nightly toolchain is there (rustc's
# -Zsanitizer=address at the kernel's offset; -Zsanitizer=kernel-address needs a
# *-none target). Without it the rust_uaf case skips itself.
rust_obj=()
if [ "$mode" != plain ] && rustc +nightly --version >/dev/null 2>&1; then
    RUSTFLAGS= rustc +nightly --edition 2021 --crate-type=lib --emit=obj -O -C panic=abort \
        -C code-model=kernel -C relocation-model=static -C no-redzone=yes \
        -C force-frame-pointers=yes -Zsanitizer=address -Zsanitizer-recover=address \
        -Cllvm-args=-asan-mapping-offset=0xdffffc0000000000 -Cllvm-args=-asan-globals=0 \
        rust/kasan_test_rust.rs -o "$out/kasan_test_rust.o"
    rust_obj=("$out/kasan_test_rust.o")
else
    echo "run.sh: no nightly rustc: the Rust case (rust_uaf) will be skipped" >&2
fi

lib=target/release/libkasan_kernel.a
link() {
    ld -n -T linker.ld --gc-sections -z noexecstack --no-warn-rwx-segments -o "$1" "$out/boot.o" "$out/kasan_test.o" \
        "${rust_obj[@]}" \
        "$2" --whole-archive "$lib" --no-whole-archive
}
# Two links: the first with an empty symbol table, the second with the table made
# from the first (.kallsyms is last, so nothing before it moves).
printf '\0\0\0\0' >"$out/kallsyms.bin"
objcopy -I binary -O elf64-x86-64 --rename-section .data=.kallsyms,alloc,load,readonly,data,contents \
    "$out/kallsyms.bin" "$out/kallsyms.o"
link "$out/kernel1.elf" "$out/kallsyms.o"
nm -n -S --defined-only -C "$out/kernel1.elf" >"$out/kernel1.nm"
python3 tools/kallsyms.py "$out/kernel1.nm" "$out/kallsyms.bin"
objcopy -I binary -O elf64-x86-64 --rename-section .data=.kallsyms,alloc,load,readonly,data,contents \
    "$out/kallsyms.bin" "$out/kallsyms.o"
link "$out/kernel.elf" "$out/kallsyms.o"
# Only the image's end may move.
keep() { nm -n --defined-only "$1" | grep -vE ' (_binary_.*|__image_end|__load_end_phys|__bss_end_phys)$'; }
if ! diff -q <(keep "$out/kernel1.elf") <(keep "$out/kernel.elf") >/dev/null; then
    echo "run.sh: the second link moved symbols" >&2
    exit 1
fi
objcopy -O binary "$out/kernel.elf" "$out/kernel.bin"
[ "$mode" = build ] && { echo "built $out/kernel.bin"; exit 0; }

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "run.sh: qemu-system-x86_64 is missing (apt-get install -y qemu-system-x86)" >&2
    exit 1
fi
append="${KERNEL_APPEND:-}"
[ "$mode" != on ] && append="kasan=off $append"
log="$out/serial-$mode.log"
start=$(date +%s%N)
set +e
timeout "${KERNEL_TIMEOUT:-120}" qemu-system-x86_64 -machine pc,accel=tcg -cpu qemu64 -m 256M \
    -no-reboot -nographic -monitor none -serial stdio -display none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$out/kernel.bin" -append "$append" | tr -d '\r' | tee "$log"
status=${PIPESTATUS[0]}
set -e
end=$(date +%s%N)
echo "run.sh: QEMU ran $(( (end - start) / 1000000 )) ms (kasan $mode), exit status $status"
if [ "$status" = 124 ]; then
    echo "run.sh: timed out" >&2
    exit 1
fi
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 || true)
[ -n "$last" ] || { echo "run.sh: no result line" >&2; exit 1; }
passed=${last%% passed*}
failed=${last#*, }; failed=${failed%% failed}
exp=$(grep -E '^kasan: expectations: ' "$log" | tail -1)
caught=$(echo "$exp" | sed -E 's/.*: ([0-9]+) caught, ([0-9]+) missed.*/\1/')
missed=$(echo "$exp" | sed -E 's/.*: ([0-9]+) caught, ([0-9]+) missed.*/\2/')
if [ "$mode" = plain ]; then
    echo "run.sh: uninstrumented boot: $last"
    exit 0
fi
if [ "$mode" = on ]; then
    # Exit status 1 is the debug-exit device's for 0 (all passed).
    [ "$status" = 1 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ] && [ "$missed" = 0 ] && exit 0
    echo "run.sh: the in-kernel suite failed ($last)" >&2
    exit 1
fi
# kasan=off: every expectation must have been missed, and every case failed.
if [ "$caught" = 0 ] && [ "$missed" -gt 0 ] && [ "$passed" = 0 ] && ! grep -q '^BUG: KASAN' "$log"; then
    echo "run.sh: kasan=off: all $missed expected bugs were NOT caught, as they must not be"
    exit 0
fi
echo "run.sh: kasan=off: some bug was still reported ($caught caught, $passed passed)" >&2
exit 1
