#include <stdlib.h>
void *foo(void) { return malloc(1); }
