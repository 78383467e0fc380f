/*
 * kmalloc(0) returns ZERO_SIZE_PTR (16): kfree and ksize accept it quietly, but a
 * dereference is a null-ptr-deref (address 16 is in the first page), then a SIGSEGV.
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
	// CHECK-NEXT: ==================================================================
	// CHECK-NEXT: BUG: KASAN: null-ptr-deref in read_byte+0x
	// CHECK-NEXT: {^}Read of size 1 at addr 0000000000000010 by task {comm}/{pid}{$}
	char c = read_byte(opaque_ptr(p), opaque_size(0));
	kt_barrier();
	(void)c;
	return 0;
}
