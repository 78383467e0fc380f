/*
 * kasan_record_aux_stack: the two newest recorded stacks are shown as "Last
 * potentially related work creation" and "Second to last ..." (Linux's rcu_uaf /
 * workqueue_uaf shape: work queued, then the object freed, then used).
 */
#include <kasan.h>

#include "e2e.h"

struct work {
	int data;
};

KT_NOINLINE void queue_first(struct work *w)
{
	kasan_record_aux_stack(w);
	kt_barrier();
}

KT_NOINLINE void queue_second(struct work *w)
{
	kasan_record_aux_stack(w);
	kt_barrier();
}

KT_NOINLINE int read_data(struct work *w)
{
	return *(volatile int *)&w->data;
}

int main(void)
{
	struct work *w = kmalloc(sizeof(*w), GFP_KERNEL);

	KT_ADDR("w", w);
	queue_first(w);
	queue_second(w);
	kfree(w);
	// CHECK: BUG: KASAN: slab-use-after-free in read_data+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK: {^}Last potentially related work creation:{$}
	// CHECK-NEXT: {^} kasan_record_aux_stack+0x
	// CHECK-NEXT: {^} queue_second+0x
	// CHECK: {^}Second to last potentially related work creation:{$}
	// CHECK-NEXT: {^} kasan_record_aux_stack+0x
	// CHECK-NEXT: {^} queue_first+0x
	// CHECK: The buggy address belongs to the object at {w}
	read_data(opaque_ptr(w));
	kt_barrier();
	return 0;
}
