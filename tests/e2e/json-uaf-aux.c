/*
 * JSON mode, a slab-use-after-free with two aux stacks and kasan.extra_info: the
 * report line carries the free track, the aux stacks newest first (the text's "Last
 * potentially related work creation" / "Second to last ..."), each track's CPU and
 * time (the text's "by task N on cpu N at T s"), the object's state and the first
 * bad address. The text twin is aux-stack.c.
 */
// ENV: KASAN_OPTIONS=kasan.report_format=json kasan.extra_info=on
// JSON-LINES: all
// REPORTS: 1
#include <kasan.h>

#include "e2e.h"

struct work {
	int data;
	int more[3];
};

KT_NOINLINE struct work *make(void)
{
	struct work *w = kmalloc(sizeof(struct work), GFP_KERNEL);

	kt_barrier();
	return opaque_ptr(w);
}

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

KT_NOINLINE void drop(struct work *w)
{
	kfree(w);
	kt_barrier();
}

KT_NOINLINE int read_data(struct work *w)
{
	return *(volatile int *)&w->data;
}

int main(void)
{
	struct work *w = make();

	KT_ADDR("w", w);
	queue_first(w);
	queue_second(w);
	drop(w);
	// CHECK: {^}{"version":1,"kind":"report","mode":"generic","bug_type":"slab-use-after-free","access":"read","size":4,"addr":"{hex:w}","first_bad_addr":"{hex:w}",
	// CHECK-SAME: "function":"read_data"
	// CHECK-SAME: "memory":"slab","alloc_track":{"task":{pid},"cpu":{*},"time_ns":{*},"frames":[{"ip":"0x{*}","function":"make",
	// CHECK-SAME: "free_track":{"task":{pid},"cpu":{*},"time_ns":{*},"frames":[{"ip":"0x{*}","function":"drop",
	// CHECK-SAME: "aux_stacks":[{"frames":[{"ip":"0x{*}","function":"queue_second",{*}]},{"frames":[{"ip":"0x{*}","function":"queue_first",
	// CHECK-SAME: "object":{"cache":"kmalloc-16","start":"{hex:w}","size":16,"object_size":16,"state":"freed","offset_relation":"inside","distance":0}
	// CHECK-SAME: "page":{"pfn":{*},"order":{*},"refcount":0,"mapcount":0,"mapping":"0x0","index":0,"flags":"0x17ff{*}node=0|zone=2|lastcpupid=0x7ff)","page_type":"f5(slab)","owner":null},"vmalloc":null,"stack":null,"variable":null,"shadow":[{"addr":"0x
	// CHECK-SAME: ,"fault":null}{$}
	// CHECK-NOT: "cpu":null,"time_ns":null
	read_data(opaque_ptr(w));
	kt_barrier();
	return 0;
}
