/*
 * sw-tags clean twin: the generic clean-free.c, built with --mode=sw-tags: every way of freeing.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-free.c"
