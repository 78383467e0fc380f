/*
 * JSON mode: a fault that is no KASAN bug (a write to an unmapped address, which
 * outline code does not check) prints its line and call trace as one JSON object,
 * then the process dies of SIGSEGV.
 */
// ONLY: outline inline code faults in its shadow check first
// ENV: KASAN_OPTIONS=kasan.report_format=json
// JSON-LINES: all
// EXIT: SIGSEGV
// REPORTS: 0
// CHECK: {^}{"version":1,"kind":"warning","mode":"generic","warning":"SEGV on unknown address 0000000001234000 (pc {*} write_word+0x{*}, write access) by task {comm}/{pid}\nCall Trace:\n <TASK>\n write_word+0x
#include "e2e.h"

KT_NOINLINE void write_word(long addr)
{
	*(volatile int *)addr = 1;
}

int main(void)
{
	write_word((long)opaque_size(0x1234000));
	kt_barrier();
	return 0;
}
