/*
 * sw-tags clean twin: the generic clean-stress.c, built with --mode=sw-tags: a tree built and torn down, then four threads over a shared table.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
// RUN: -lpthread
#include "clean-stress.c"
