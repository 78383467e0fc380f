/*
 * "The buggy address belongs to the variable:" names the global with its size
 * including the redzone after it, as Linux's %pS does: kallsyms has no symbol sizes
 * and counts a symbol up to the next one, which for an instrumented global lies past
 * its redzone (mm/kasan/report.c print_address_description, kernel/kallsyms.c
 * kallsyms_lookup_size_offset). A 40-byte array has a 56-byte redzone (a 96-byte
 * global): global_array+0x28/0x60 with both compilers (clang's ELF symbol already
 * covers the redzone, gcc's does not). Linux's form, e.g. syzkaller
 * pkg/report/testdata/linux/report/306: "The buggy address belongs to the
 * variable:" / " __start_rodata+0x8/0x1000".
 */
#include "e2e.h"

int global_array[10];

KT_NOINLINE int read_int(const int *p, size_t i)
{
	return ((const volatile int *)p)[i];
}

int main(void)
{
	KT_ADDR("g", global_array);
	// CHECK: BUG: KASAN: global-out-of-bounds in read_int+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {g+40} by task {comm}/{pid}{$}
	// CHECK: {^}The buggy address belongs to the variable:{$}
	// CHECK-NEXT: {^} global_array+0x28/0x60{$}
	// CHECK-NEXT: {^}{$}
	int v = read_int(opaque_ptr(global_array), opaque_size(10));
	kt_barrier();
	return v;
}
