/*
 * sw-tags clean twin: the generic poison-partial-clean.c, built with --mode=sw-tags: user poisoning of partial granules (a granule is poisoned only when the range covers it whole).
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "poison-partial-clean.c"
