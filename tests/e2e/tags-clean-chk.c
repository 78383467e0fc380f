/*
 * sw-tags clean twin: the generic chk-clean.c (every checked function on exact-fit
 * buffers at every length and alignment), built with --mode=sw-tags: the string
 * functions' scans must use the tag check (16-byte granules), not generic shadow.
 */
// RUN: -fno-builtin -Werror=implicit-function-declaration
#include "chk-clean.c"
