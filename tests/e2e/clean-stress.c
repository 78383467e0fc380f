/*
 * Clean twin of every heap bug, under load: a binary tree built and torn down, then
 * four threads mixing malloc/realloc/strndup/free, a kmem_cache and kmalloc/krealloc
 * over a table of live buffers. Must stay silent. (This program found a race that
 * poisoned live objects and a crash in kmem_cache_destroy.)
 */
// RUN: -lpthread
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kasan.h>
struct node { struct node *l, *r; int v; char pad[20]; };
static struct node *make(int d) { struct node *n = malloc(sizeof *n); n->v = d; if (d) { n->l = make(d-1); n->r = make(d-1);} else n->l = n->r = 0; return n; }
static int check(struct node *n) { int s = n->v; if (n->l) s += check(n->l) + check(n->r); free(n); return s; }
static struct kmem_cache *cache;
static void *worker(void *arg) {
  long id = (long)arg; unsigned x = id * 7919 + 1; long sum = 0;
  char **tab = calloc(1024, sizeof *tab); size_t *len = calloc(1024, sizeof *len);
  for (int it = 0; it < 60000; it++) {
    x = x * 1103515245 + 12345; int k = (x >> 8) & 1023; size_t n = (x >> 16) % 3000 + 1;
    switch (x % 5) {
    case 0: free(tab[k]); tab[k] = malloc(n); memset(tab[k], k, n); len[k] = n; break;
    case 1: if (tab[k]) { tab[k] = realloc(tab[k], n); if (n > len[k]) memset(tab[k] + len[k], 1, n - len[k]); len[k] = n; } break;
    case 2: if (tab[k]) { char *d = strndup(tab[k], len[k]); sum += strlen(d); free(d); } break;
    case 3: { void *o = kmem_cache_alloc(cache, GFP_KERNEL); memset(o, 3, 72); kmem_cache_free(cache, o); } break;
    case 4: { void *p = kmalloc(n, GFP_KERNEL); memset(p, 4, n); p = krealloc(p, n / 2 + 1, GFP_KERNEL); kfree(p); } break;
    }
  }
  for (int k = 0; k < 1024; k++) free(tab[k]);
  free(tab); free(len);
  return (void *)sum;
}
int main(void) {
  cache = kmem_cache_create("stress", 72, 0, 0, NULL);
  printf("tree %d\n", check(make(14)));
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, worker, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  kmem_cache_destroy(cache);
  return kasan_reports_count();
}
