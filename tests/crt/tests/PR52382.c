// ORIGIN: compiler-rt/test/asan/TestCases/PR52382.c
// global_array[103] of int[100]: 412 bytes in, past the end but inside the global's redzone.
// EXPECT: global-out-of-bounds Read
// EXPECT-SIZE: 4
// EXPECT-TEXT: global_array+0x19c/
int global_array[100] = {-1};
int main(void) { return ((volatile int *)global_array)[103]; }
