/*
 * panic_on_warn: as in Linux, the first report is followed by a panic (without
 * kasan_multi_shot).
 */
// ENV: KASAN_OPTIONS=panic_on_warn
// EXIT: SIGABRT
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = malloc(opaque_size(16));

	memset(p, 0, 16);
	// CHECK: BUG: KASAN: slab-out-of-bounds in read_byte+0x
	// CHECK: {^}=================================================================={$}
	// CHECK-NEXT: {^}Kernel panic - not syncing: 
	read_byte(p, (long)opaque_size(16));
	KT_MARK("survived the panic");
	// CHECK-NOT: survived the panic
	free(p);
	return 0;
}
