/*
 * hostile_chrootfd.c — after chroot(2) into DIR (argv[1], relative to the working
 * directory), reads the links of descriptors it opened before, to its working directory
 * and to DIR's parent, through a descriptor of /proc/self/fd also opened before (the
 * chroot has no /proc). Linux names a directory outside the new root from the
 * namespace's root (fs/d_path.c, d_path), which is what getcwd(2) said before the chroot;
 * inside, from the new root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ename.h"

static void link_of(int procfd, int fd, const char *what, const char *want)
{
	char name[16], buf[4096];
	snprintf(name, sizeof name, "%d", fd);
	ssize_t n = readlinkat(procfd, name, buf, sizeof buf - 1);
	if (n < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	buf[n] = 0;
	printf("%s: %s\n", what, strcmp(buf, want) == 0 ? "as before the chroot" : buf);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return 1;
	int procfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	int here = open(".", O_RDONLY | O_DIRECTORY);
	int inside = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (procfd < 0 || here < 0 || inside < 0) {
		printf("open: %s\n", ename(errno));
		return 1;
	}
	if (chroot(argv[1]) < 0) {
		printf("chroot: %s\n", ename(errno));
		return 1;
	}
	link_of(procfd, here, "the working directory, outside the new root", cwd);
	link_of(procfd, inside, "the new root", "/");
	return 0;
}
