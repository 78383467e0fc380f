int pad[10];
int GLOB[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
void inc(int index) { GLOB[index]++; }
void inc2(int *a, int index) { a[index]++; }
