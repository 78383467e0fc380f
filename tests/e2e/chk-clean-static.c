/*
 * chk-clean, linked -static: the checked functions call glibc's other names for the
 * real ones (__read, _IO_fgets, __vfprintf_chk, ...), pulled out of libc.a, and glibc's
 * own code then calls the checked string functions: the same program, included whole;
 * it must stay as silent.
 */
// RUN: -static -fno-builtin -Werror=implicit-function-declaration
#include "chk-clean.c"
