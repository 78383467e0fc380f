/*
 * sw-tags clean twin: the generic clean-threads.c, built with --mode=sw-tags: four threads allocating, copying, reallocating and freeing, objects handed between threads.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-threads.c"
