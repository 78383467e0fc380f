/*
 * sw-tags twin of rt-fork-vmalloc-threads.c: fork while two threads churn vmalloc
 * areas, whose tag shadow is populated outside the lock too (the runtime at 2316e13
 * hung in the child's first vmalloc). Every child reads an area allocated before the
 * fork, allocates, frees and purges, and exits 0; nothing is reported.
 */
#include "rt-fork-vmalloc-threads.c"
