/*
 * kill(getpid(), SIGBUS) and, had it survived, sigqueue(SIGSEGV): signals sent to the
 * process get the default action as without the runtime (killed by SIGBUS, nothing
 * printed), not the fault handler's report.
 */
// EXIT: SIGBUS
#include <signal.h>
#include <unistd.h>

#include "e2e.h"

int main(void)
{
	union sigval v = { .sival_int = 0 };

	kill(getpid(), SIGBUS);
	sigqueue(getpid(), SIGSEGV, v);
	KT_NUM("survived", 1);
	return 0;
}
