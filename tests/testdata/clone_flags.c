// clone(2) flag combinations Linux refuses before it makes anything (kernel/fork.c,
// copy_process), and one it accepts that golos cannot give (a thread with a descriptor
// table of its own). Each refused combination prints its errno; a fork-like one that
// succeeds has its child exit at once.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ename.h"

static char stack[65536] __attribute__((aligned(16)));

static void try(const char *what, unsigned long flags) {
	// The raw syscall: clone(flags, stack, parent_tid, child_tid, tls). A child made
	// by a combination Linux accepts exits at once (only the fork-like ones are tried).
	long r = syscall(SYS_clone, flags, flags & CLONE_VM ? stack + sizeof stack : 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	int st;
	waitpid(r, &st, __WALL);
	printf("%s: ok\n", what);
}

int main(void) {
	try("CLONE_THREAD alone", CLONE_THREAD);
	try("CLONE_THREAD|CLONE_SIGHAND without CLONE_VM", CLONE_THREAD | CLONE_SIGHAND);
	try("CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND | SIGCHLD);
	try("CLONE_NEWNS|CLONE_FS", CLONE_NEWNS | CLONE_FS | SIGCHLD);
	try("CLONE_NEWUSER|CLONE_FS", CLONE_NEWUSER | CLONE_FS | SIGCHLD);
	try("CLONE_THREAD|CLONE_SIGHAND|CLONE_VM|CLONE_NEWUSER",
	    CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWUSER);
	try("CLONE_PIDFD|CLONE_DETACHED", CLONE_PIDFD | CLONE_DETACHED | SIGCHLD);
	try("exit signal 65", 65);
	try("plain fork", SIGCHLD);
	return 0;
}
