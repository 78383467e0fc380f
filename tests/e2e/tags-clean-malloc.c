/*
 * sw-tags clean twin: the generic clean-malloc.c, built with --mode=sw-tags: the malloc family, every size, every byte.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-malloc.c"
