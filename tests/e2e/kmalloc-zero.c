/*
 * kmalloc(0) returns ZERO_SIZE_PTR (16): kfree and ksize accept it quietly, but a
 * dereference is a null-ptr-deref (address 16 is in the first page), then a SIGSEGV.
 * Outline builds report it as `BUG: KASAN: null-ptr-deref`; inline builds as an
 * inline x86-64 kernel does (its shadow check of address 16 faults on the
 * non-canonical 0xdffffc0000000002): a general protection fault with KASAN's range
 * line (layout: syzkaller pkg/report/testdata/linux/report/738).
 */
// EXIT: SIGSEGV
#include <string.h>

#include <kasan.h>

#include "e2e.h"

KT_NOINLINE char read_byte(const char *p, size_t i)
{
	return ((const volatile char *)p)[i];
}

int main(void)
{
	char *p = kmalloc(opaque_size(0), GFP_KERNEL);

	fprintf(stderr, "kmalloc(0)=%p zero_size=%d ksize=%zu\n", (void *)p, p == ZERO_SIZE_PTR, ksize(p));
	// CHECK: {^}kmalloc(0)=0x10 zero_size=1 ksize=0{$}
	kfree(p);
	kfree(NULL);
	KT_MARK("kfree(ZERO_SIZE_PTR) and kfree(NULL) were quiet");
	// CHECK-NEXT: {^}kfree(ZERO_SIZE_PTR) and kfree(NULL) were quiet{$}
	// CHECK-NEXT(outline): ==================================================================
	// CHECK-NEXT(outline): BUG: KASAN: null-ptr-deref in read_byte+0x
	// CHECK-NEXT(outline): {^}Read of size 1 at addr 0000000000000010 by task {comm}/{pid}{$}
	// REPORTS(inline): 0
	// CHECK-NEXT(inline): {^}Oops: general protection fault, probably for non-canonical address 0xdffffc0000000002: 0000 [#1] SMP KASAN{$}
	// CHECK-NEXT(inline): {^}KASAN: null-ptr-deref in range [0x0000000000000010-0x0000000000000017]{$}
	// CHECK(inline): {^}RIP: 0010:read_byte+0x
	char c = read_byte(opaque_ptr(p), opaque_size(0));
	kt_barrier();
	(void)c;
	return 0;
}
