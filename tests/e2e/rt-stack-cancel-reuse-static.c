/*
 * rt-stack-cancel-reuse, linked -static (the runtime calls glibc's __pthread_create_2_1
 * from libc.a): the same program, included whole; it must stay as silent.
 */
// RUN: -static
#include "rt-stack-cancel-reuse.c"
