/*
 * kasan.fault=panic_on_write (with kasan_multi_shot so that both bugs are reported): a
 * bad read is reported and the program goes on; a bad write is reported, then the
 * process panics.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot,kasan.fault=panic_on_write
// EXIT: SIGABRT
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

KT_NOINLINE void write_byte(char *p, long i)
{
	((volatile char *)p)[i] = 0;
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	KT_ADDR("p", p);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr {p+16} by task
	// CHECK: {^}=================================================================={$}
	read_byte(p, (long)opaque_size(16));
	KT_MARK("went on after the bad read");
	// CHECK-NEXT: {^}went on after the bad read{$}
	// CHECK: BUG: KASAN: slab-out-of-bounds in write_byte+0x
	// CHECK-NEXT: {^}Write of size 1 at addr {p+17} by task
	// CHECK: {^}=================================================================={$}
	// CHECK-NEXT: {^}Kernel panic - not syncing: kasan.fault=panic_on_write set ...
	write_byte(p, (long)opaque_size(17));
	KT_MARK("survived the panic");
	// CHECK-NOT: survived the panic
	free(p);
	return 0;
}
