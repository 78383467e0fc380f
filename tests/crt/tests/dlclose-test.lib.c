#include <stdio.h>
static int pad1;
static int static_var;
static int pad2;
int *get_address_of_static_var(void) { pad1 = pad2 = 1; return &static_var; }
__attribute__((constructor)) static void at_dlopen(void) { printf("I am being dlopened\n"); }
__attribute__((destructor)) static void at_dlclose(void) { printf("I am being dlclosed\n"); }
