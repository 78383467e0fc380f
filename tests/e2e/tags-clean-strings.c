/*
 * sw-tags clean twin: the generic clean-strings.c, built with --mode=sw-tags: every string and memory function on exact-fit heap buffers.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-strings.c"
