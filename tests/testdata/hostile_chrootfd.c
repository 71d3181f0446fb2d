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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ename.h"

static void link_of(int procfd, int fd, const char *what, const char *want)
{
	char name[32], buf[4096];
	snprintf(name, sizeof name, "fd/%d", fd);
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
	int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	int netfd = open("/proc/self/net", O_RDONLY | O_DIRECTORY);
	int here = open(".", O_RDONLY | O_DIRECTORY);
	int inside = open(argv[1], O_RDONLY | O_DIRECTORY);
	int marker = open("marker", O_RDWR | O_CREAT, 0644);
	if (procfd < 0 || netfd < 0 || here < 0 || inside < 0 || marker < 0 || ftruncate(marker, 4096) < 0 ||
	    mmap(NULL, 4096, PROT_READ, MAP_SHARED, marker, 0) == MAP_FAILED) {
		printf("open: %s\n", ename(errno));
		return 1;
	}
	char sockname[4200];
	snprintf(sockname, sizeof sockname, "%s%ssock", cwd, strcmp(cwd, "/") == 0 ? "" : "/");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (strlen(sockname) >= sizeof sa.sun_path)
		return 3;
	strcpy(sa.sun_path, sockname);
	unlink(sockname);
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
		printf("bind: %s\n", ename(errno));
		return 1;
	}
	if (chroot(argv[1]) < 0) {
		printf("chroot: %s\n", ename(errno));
		return 1;
	}
	link_of(procfd, here, "the working directory, outside the new root", cwd);
	link_of(procfd, inside, "the new root", "/");
	char want[4200], maps[65536];
	snprintf(want, sizeof want, " %s%smarker\n", cwd, strcmp(cwd, "/") == 0 ? "" : "/");
	int m = openat(procfd, "maps", O_RDONLY);
	long n = 0, r;
	while (m >= 0 && n < (long)sizeof maps - 1 && (r = read(m, maps + n, sizeof maps - 1 - n)) > 0)
		n += r;
	maps[n] = 0;
	printf("maps names the file mapped before as before the chroot: %s\n", strstr(maps, want) ? "yes" : "no");
	if (!strstr(maps, want) && strstr(maps, "marker"))
		for (char *l = strtok(maps, "\n"); l; l = strtok(NULL, "\n"))
			if (strstr(l, "marker"))
				printf("  %s\n", l);
	struct sockaddr_un got;
	socklen_t len = sizeof got;
	memset(&got, 0, sizeof got);
	getsockname(sock, (struct sockaddr *)&got, &len);
	printf("getsockname: %s\n", strcmp(got.sun_path, sockname) == 0 ? "as bound" : got.sun_path);
	snprintf(want, sizeof want, " %s\n", sockname);
	int u = openat(procfd, "net/unix", O_RDONLY);
	n = 0;
	while (u >= 0 && n < (long)sizeof maps - 1 && (r = read(u, maps + n, sizeof maps - 1 - n)) > 0)
		n += r;
	maps[n] = 0;
	printf("net/unix names the socket as bound: %s\n", strstr(maps, want) ? "yes" : "no");
	u = openat(netfd, "unix", O_RDONLY);
	n = 0;
	while (u >= 0 && n < (long)sizeof maps - 1 && (r = read(u, maps + n, sizeof maps - 1 - n)) > 0)
		n += r;
	maps[n] = 0;
	printf("unix in net names the socket as bound: %s\n", strstr(maps, want) ? "yes" : "no");
	unlink(sockname); /* still the name outside the new root natively: nothing there */
	return 0;
}
