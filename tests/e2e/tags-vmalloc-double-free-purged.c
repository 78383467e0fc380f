/*
 * sw-tags twin of vmalloc-double-free-purged.c (included below): vfree of an area
 * already freed and purged. Its tag shadow page is unmapped again, and the free
 * path's tag check must not read it (the runtime would die of SIGSEGV in its own
 * free check): the second vfree is a double-free and the program goes on. The first
 * vfree and the purge are the clean twin: nothing is reported for them.
 */
// ENV: KASAN_OPTIONS=kasan.quarantine_size=0
// REPORTS: 1
// CHECK: BUG: KASAN: double-free in put+0x
// CHECK-NEXT: {^}Free of addr {p} by task {comm}/{pid}{$}
// CHECK: still running
#include "vmalloc-double-free-purged.c"
