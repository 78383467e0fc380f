/*
 * sw-tags clean twin: the generic clean-fork.c, built with --mode=sw-tags: objects used and freed on both sides of fork, a thread in the child.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "clean-fork.c"
