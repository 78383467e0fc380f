/*
 * chk-own-definitions, linked -static: the program's strlcpy and kstrdup replace the
 * runtime's weak ones there too, and glibc's libc.a members are not pulled in for them.
 */
// RUN: -static -fno-builtin -Werror=implicit-function-declaration
#include "chk-own-definitions.c"
// (the included file's expectations, which the harness reads from this file only)
// CHECK: strnlen
// CHECK: BUG: KASAN: slab-out-of-bounds in strnlen+0x{*}/0x
// CHECK-NEXT: Read of size 1 at addr {p+4} by task
