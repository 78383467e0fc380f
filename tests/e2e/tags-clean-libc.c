/*
 * sw-tags clean twin: the generic clean-libc.c, built with --mode=sw-tags: libc's own functions on heap memory.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-libc.c"
