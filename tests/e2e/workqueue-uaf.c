/*
 * A work item that frees itself (Linux KUnit workqueue_uaf): after
 * destroy_workqueue (which runs what is queued) a read of it is a
 * slab-use-after-free whose aux stack is the queue_work (Linux's insert_work).
 */
#include <kasan.h>

#include "e2e.h"

KT_NOINLINE void work_fn(struct work_struct *w)
{
	kfree(w);
	kt_barrier();
}

KT_NOINLINE void submit(struct workqueue_struct *wq, struct work_struct *w)
{
	queue_work(wq, w);
	kt_barrier();
}

KT_NOINLINE unsigned long read_data(struct work_struct *w)
{
	return ((volatile struct work_struct *)w)->data;
}

int main(void)
{
	struct workqueue_struct *wq = create_workqueue("kasan_wq_test");
	struct work_struct *w = kmalloc(sizeof(*w), GFP_KERNEL);

	KT_ADDR("w", w);
	INIT_WORK(w, work_fn);
	submit(wq, w);
	destroy_workqueue(wq);
	// CHECK: BUG: KASAN: slab-use-after-free in read_data+0x
	// CHECK-NEXT: {^}Read of size 8 at addr {w} by task {comm}/{pid}{$}
	// CHECK: {^}Freed by task
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} work_fn+0x
	// CHECK: {^}Last potentially related work creation:{$}
	// CHECK-NEXT: {^} queue_work+0x
	// CHECK-NEXT: {^} submit+0x
	(void)read_data(opaque_ptr(w));
	kt_barrier();
	return 0;
}
