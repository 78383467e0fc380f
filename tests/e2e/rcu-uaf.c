/*
 * call_rcu (Linux KUnit rcu_uaf): the callback frees the object, then reads it.
 * The report comes from the RCU callback thread and shows call_rcu's stack as
 * "Last potentially related work creation" (Linux's __call_rcu_common records it).
 */
#include <kasan.h>

#include "e2e.h"

struct info {
	int i;
	struct rcu_head rcu;
};

KT_NOINLINE void reclaim(struct rcu_head *head)
{
	struct info *p = container_of(head, struct info, rcu);

	kfree(p);
	(void)((volatile struct info *)p)->i;
}

KT_NOINLINE void retire(struct info *p)
{
	call_rcu(&p->rcu, reclaim);
	kt_barrier();
}

int main(void)
{
	struct info *p = kmalloc(sizeof(*p), GFP_KERNEL);

	KT_ADDR("p", p);
	retire(p);
	rcu_barrier();
	// CHECK: BUG: KASAN: slab-use-after-free in reclaim+0x
	// CHECK-NEXT: {^}Read of size 4 at addr {p} by task rcuc/0/
	// CHECK: {^}Freed by task
	// CHECK-NEXT: {^} kfree+0x
	// CHECK-NEXT: {^} reclaim+0x
	// CHECK: {^}Last potentially related work creation:{$}
	// CHECK-NEXT: {^} call_rcu+0x
	// CHECK-NEXT: {^} retire+0x
	KT_MARK("after barrier");
	// CHECK: after barrier
	return 0;
}
