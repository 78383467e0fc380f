/*
 * sw-tags clean twin: the generic cache-clean.c, built with --mode=sw-tags: kmem_cache with every flag and a constructor (ctor and TYPESAFE_BY_RCU caches keep their tags), bulk and single allocations.
 * Every pointer the program gets carries a random tag; nothing may be reported.
 */
#include "cache-clean.c"
