/*
 * raise(SIGSEGV) in a program with no handler of its own: the runtime's fault handler
 * sees a signal some process sent (si_code <= 0), not a fault, and gives it the default
 * action, exactly as without the runtime: killed by SIGSEGV, nothing printed.
 */
// EXIT: SIGSEGV
#include <signal.h>

#include "e2e.h"

int main(void)
{
	raise(SIGSEGV);
	KT_NUM("survived", 1);
	return 0;
}
