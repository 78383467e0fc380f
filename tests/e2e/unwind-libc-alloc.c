/*
 * Allocations made inside glibc, whose code keeps no frame pointer: getline's buffer
 * (malloc called from __getdelim) and a FILE (malloc called from fopen's internals).
 * The alloc track must go on through those frames to the program's own, found by
 * each return address's unwind rule; the frame-pointer chain alone loses the
 * program's function that called into libc, or ends in libc.
 */
// ENV: KASAN_OPTIONS=kasan_multi_shot
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

KT_NOINLINE char *read_first_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	kt_barrier();
	return n > 0 ? line : NULL;
}

KT_NOINLINE FILE *open_input(const char *path)
{
	FILE *f = fopen(path, "r");
	kt_barrier();
	return f;
}

KT_NOINLINE char read_at(const char *p, size_t off)
{
	return *(const volatile char *)(p + off);
}

int main(void)
{
	char path[] = "/tmp/kasan-e2e-unwind-XXXXXX";
	FILE *w = fdopen(mkstemp(path), "w");
	fputs("hello, world\n", w);
	fclose(w);

	FILE *f = open_input(path);
	char *line = read_first_line(f);
	KT_ADDR("line", line);
	free(line);
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK: {^} read_first_line+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK-NEXT: {^} main+0x
	read_at(opaque_ptr(line), opaque_size(2));
	kt_barrier();

	KT_ADDR("file", f);
	fclose(f);
	remove(path);
	// CHECK: BUG: KASAN: slab-use-after-free in read_at+0x
	// CHECK: {^}Allocated by task {pid}:{$}
	// CHECK-NEXT: {^} malloc+0x
	// CHECK: {^} open_input+0x
	// CHECK-NEXT: {^} main+0x
	// CHECK: {^}Freed by task {pid}:{$}
	// CHECK-NEXT: {^} free+0x
	// CHECK: {^} main+0x
	read_at(opaque_ptr(f), opaque_size(4));
	kt_barrier();
	return 0;
}
