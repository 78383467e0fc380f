/*
 * Clean twin of rt-oom-rlimit-as: under setrlimit(RLIMIT_AS, 64 MiB) set after
 * start-up, the program's small allocations, frees (whose stacks the runtime saves
 * and stores) and string functions keep working and nothing is printed; the limit
 * really holds (a 128 MiB mmap fails).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "e2e.h"

int main(void)
{
	struct rlimit lim = { 64ul << 20, 64ul << 20 };
	char *keep[256];

	if (setrlimit(RLIMIT_AS, &lim) != 0)
		return 1;
	if (mmap(NULL, 128ul << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED)
		return 2;
	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 256; i++) {
			keep[i] = malloc(opaque_size(16 + i));
			if (!keep[i])
				return 3;
			memset(keep[i], i, 16 + i);
		}
		for (int i = 0; i < 256; i++) {
			if (keep[i][15 + i] != (char)i)
				return 4;
			free(keep[i]);
		}
	}
	return 0;
}
