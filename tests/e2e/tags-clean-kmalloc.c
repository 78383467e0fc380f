/*
 * sw-tags clean twin: the generic clean-kmalloc.c, built with --mode=sw-tags: the kmalloc family (krealloc, ksize, kfree_sensitive, large kmalloc, pages, vmalloc).
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-kmalloc.c"
