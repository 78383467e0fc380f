/*
 * sw-tags: kasan.stats at exit in JSON mode: the mode is sw-tags, and heap_resident
 * counts the tagged heap's pages once (8 MiB written through 14 tag aliases here:
 * VmRSS would count them up to 14 times).
 */
// ENV: KASAN_OPTIONS=kasan.stats=on kasan.report_format=json
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

int main(void)
{
	static char *p[512];

	for (int i = 0; i < 512; i++) {
		p[i] = malloc(opaque_size(16384));
		memset(p[i], i, 16384);
	}
	for (int i = 0; i < 512; i++)
		free(p[i]);
	// CHECK: {^}{"version":1,"kind":"stats","mode":"sw-tags","stats":{"reports":0,
	// CHECK-SAME: "heap_resident":
	return 0;
}
