/*
 * For the rt-opt-* tests: run this program again with a KASAN_OPTIONS value an ENV
 * line cannot hold (bytes that are not UTF-8, tens of KiB). The first run builds the
 * value and execs itself (by its real path, so the comm stays the file's name); the
 * second run, marked by RT_OPT_STAGE, goes on with the test. The first run's runtime
 * has no KASAN_OPTIONS (the harness removes it) and prints nothing.
 */
#ifndef RT_OPT_H
#define RT_OPT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e.h"

/* Returns in the second run; in the first, execs with KASAN_OPTIONS=value. */
static inline void rt_opt_rerun(char **argv, const char *value)
{
	char self[4096];
	ssize_t n;

	if (getenv("RT_OPT_STAGE"))
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(99);
	}
	self[n] = 0;
	if (setenv("KASAN_OPTIONS", value, 1) || setenv("RT_OPT_STAGE", "1", 1)) {
		perror("setenv");
		exit(99);
	}
	execv(self, argv);
	perror("execv");
	exit(99);
}

/*
 * A value of exactly `len` bytes: `head`, then " kasan.stacktrace=on" fillers, commas
 * to make up the length, then `tail`, which ends at byte `len`. Never freed (the
 * program execs or exits).
 */
static inline char *rt_opt_value(size_t len, const char *head, const char *tail)
{
	static const char filler[] = " kasan.stacktrace=on";
	size_t at = strlen(head), tail_len = strlen(tail);
	char *v = malloc(len + 1);

	if (!v || at + tail_len > len)
		exit(99);
	memcpy(v, head, at);
	while (at + strlen(filler) + 1 + tail_len <= len) {
		memcpy(v + at, filler, strlen(filler));
		at += strlen(filler);
	}
	memset(v + at, ',', len - tail_len - at);
	memcpy(v + len - tail_len, tail, tail_len + 1);
	return v;
}

/* The bug of every rt-opt test: reads `i` bytes into a 16-byte object. */
KT_NOINLINE char rt_opt_read_byte(const char *p, long i)
{
	return ((const volatile char *)p)[i];
}

#endif
