/*
 * Clean twin of rcu-uaf / workqueue-uaf / rcu-typesafe-uaf: RCU readers, call_rcu
 * callbacks that free (and one that queues another callback), synchronize_rcu from
 * two threads while a third reads, a TYPESAFE_BY_RCU object read under
 * rcu_read_lock after its free, work items that free themselves, a pending item
 * queued twice (false the second time), flush, schedule_work, a fork whose child
 * uses both. Nothing may be reported.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kasan.h>

#include "e2e.h"

struct obj {
	int v;
	struct rcu_head rcu;
};

static int freed;

static void free_obj(struct rcu_head *h)
{
	kfree(container_of(h, struct obj, rcu));
	__atomic_fetch_add(&freed, 1, __ATOMIC_RELAXED);
}

static void requeue(struct rcu_head *h)
{
	call_rcu(h, free_obj);
}

static void *reader(void *arg)
{
	for (int i = 0; i < 2000; i++) {
		rcu_read_lock();
		rcu_read_lock();
		(void)*(volatile int *)arg;
		rcu_read_unlock();
		rcu_read_unlock();
	}
	return NULL;
}

static void *syncer(void *arg)
{
	for (int i = 0; i < 20; i++)
		synchronize_rcu();
	return arg;
}

static int ran;

static void self_free(struct work_struct *w)
{
	kfree(w);
	__atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
}

static void count_only(struct work_struct *w)
{
	(void)w;
	__atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
}

static int exercise(void)
{
	int bad = 0;
	for (int i = 0; i < 100; i++) {
		struct obj *o = kmalloc(sizeof(*o), GFP_KERNEL);
		call_rcu(&o->rcu, i % 10 ? free_obj : requeue);
	}
	rcu_barrier();
	rcu_barrier(); /* the requeued ones */
	bad |= freed != 100;

	struct workqueue_struct *wq = alloc_workqueue("clean", 0, 1);
	for (int i = 0; i < 50; i++) {
		struct work_struct *w = kmalloc(sizeof(*w), GFP_KERNEL);
		INIT_WORK(w, self_free);
		bad |= !queue_work(wq, w);
	}
	flush_workqueue(wq);
	bad |= ran != 50;
	struct work_struct stat;
	INIT_WORK(&stat, count_only);
	schedule_work(&stat);
	flush_scheduled_work();
	destroy_workqueue(wq);
	bad |= ran != 51;
	return bad;
}

int main(void)
{
	int bad = 0;
	int *shared = kmalloc(sizeof(int), GFP_KERNEL);
	pthread_t r, s1, s2;

	pthread_create(&r, NULL, reader, shared);
	pthread_create(&s1, NULL, syncer, NULL);
	pthread_create(&s2, NULL, syncer, NULL);
	pthread_join(r, NULL);
	pthread_join(s1, NULL);
	pthread_join(s2, NULL);
	kfree(shared);

	struct kmem_cache *c = kmem_cache_create("tsbrcu", 64, 0, SLAB_TYPESAFE_BY_RCU, NULL);
	int *t = kmem_cache_alloc(c, GFP_KERNEL);
	rcu_read_lock();
	kmem_cache_free(c, t);
	(void)*(volatile int *)t; /* still accessible until a grace period has passed */
	rcu_read_unlock();
	kmem_cache_destroy(c);

	bad |= exercise();
	freed = 0;
	ran = 0;
	pid_t child = fork();
	if (child == 0)
		_exit(exercise());
	int status = 0;
	waitpid(child, &status, 0);
	bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return bad;
}
