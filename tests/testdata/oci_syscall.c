/*
 * oci_syscall.c — makes the raw syscall NR with up to six arguments and prints what it
 * returned and its errno's name: a container's seccomp profile answers some calls
 * with an errno of its own or kills the process (TestOCIPodmanSeccomp).
 *
 *   oci_syscall NR [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "ename.h"

int main(int argc, char **argv)
{
	long a[6] = {0};
	if (argc < 2 || argc > 8) {
		fprintf(stderr, "usage: oci_syscall NR [ARG...]\n");
		return 2;
	}
	long nr = strtol(argv[1], NULL, 0);
	for (int i = 2; i < argc; i++)
		a[i - 2] = strtol(argv[i], NULL, 0);
	errno = 0;
	long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	printf("syscall %ld: %s\n", nr, r < 0 ? ename(errno) : (r == 0 ? "0" : "ok"));
	return 0;
}
