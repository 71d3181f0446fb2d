/*
 * oci_crash.c — a program that dies of SIGSEGV by a real fault (a store through a null
 * pointer), after a line on stdout: a container's first process dies of it under runc
 * too, where a kill(2) of itself would be ignored (a pid namespace's init ignores the
 * signals it has no handler for, pid_namespaces(7)).
 */
#include <stdio.h>

int main(void)
{
	printf("about to crash\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	return 0;
}
