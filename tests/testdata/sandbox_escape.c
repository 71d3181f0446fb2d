/*
 * sandbox_escape.c — a program that has taken over golos: it makes syscalls straight from
 * a "syscall; ret" (0f 05 c3) it finds in golos's own text, which golos never sees, as
 * code that had taken over golos's memory could. Only golos run --sandbox, which has the
 * host kernel confine golos's whole process, stops them.
 *
 * usage: sandbox_escape ACTION [ARG]
 *   create PATH    openat(PATH, O_CREAT|O_WRONLY) and write "escaped\n" to it
 *   read PATH      openat(PATH, O_RDONLY) and print what it holds
 *   connect PORT   a TCP connection to 127.0.0.1:PORT
 *   kill PID       SIGTERM to process PID (a process of the host's)
 *   unix PATH      a connection to the unix socket at host path PATH
 *   denied         mount, kcmp and perf_event_open, which --sandbox's filter refuses
 *
 * Each prints "WHAT: ok" (with what it read) or "WHAT: ERRNO". It is meant to run only
 * under golos: natively there is no golos text to find (golos is linked at
 * 0x7e0000000000, its text one page in).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "ename.h"

static void *gadget;

/* sys makes syscall nr from the gadget: the call pushes the return address that the
 * gadget's ret takes, below the red zone the compiler may be using. */
static long sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("sub $128, %%rsp\n\tcall *%[g]\n\tadd $128, %%rsp"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9), [g] "b"(gadget)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

static void report(const char *what, long ret)
{
	if (ret < 0 && ret > -4096)
		printf("%s: %s\n", what, ename((int)-ret));
	else
		printf("%s: ok\n", what);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sandbox_escape create|read|connect|unix|kill|denied [ARG]\n");
		return 2;
	}
	/* golos's text: a page into its image, and more than 1 MiB long. */
	const unsigned char *p = (const unsigned char *)0x7e0000001000UL;
	for (size_t i = 0; i < (1 << 20); i++) {
		if (p[i] == 0x0f && p[i + 1] == 0x05 && p[i + 2] == 0xc3) {
			gadget = (void *)(p + i);
			break;
		}
	}
	if (!gadget) {
		printf("no gadget\n");
		return 1;
	}
	printf("gadget found\n");
	fflush(stdout);
	const char *act = argv[1];
	if (strcmp(act, "create") == 0 && argc == 3) {
		long fd = sys(SYS_openat, AT_FDCWD, (long)argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644, 0, 0);
		report("create", fd);
		if (fd >= 0) {
			report("write", sys(SYS_write, fd, (long)"escaped\n", 8, 0, 0, 0));
			sys(SYS_close, fd, 0, 0, 0, 0, 0);
		}
	} else if (strcmp(act, "read") == 0 && argc == 3) {
		long fd = sys(SYS_openat, AT_FDCWD, (long)argv[2], O_RDONLY, 0, 0, 0);
		report("open", fd);
		if (fd >= 0) {
			char buf[256];
			long n = sys(SYS_read, fd, (long)buf, sizeof buf - 1, 0, 0, 0);
			report("read", n);
			if (n > 0) {
				buf[n] = 0;
				printf("content: %s", buf);
			}
		}
	} else if (strcmp(act, "connect") == 0 && argc == 3) {
		long fd = sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0);
		report("socket", fd);
		if (fd >= 0) {
			struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2])),
						.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			report("connect", sys(SYS_connect, fd, (long)&a, sizeof a, 0, 0, 0));
		}
	} else if (strcmp(act, "unix") == 0 && argc == 3) {
		long fd = sys(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0);
		report("socket", fd);
		if (fd >= 0) {
			struct sockaddr_un a = {.sun_family = AF_UNIX};
			strncpy(a.sun_path, argv[2], sizeof a.sun_path - 1);
			report("connect", sys(SYS_connect, fd, (long)&a, sizeof a, 0, 0, 0));
		}
	} else if (strcmp(act, "kill") == 0 && argc == 3) {
		report("kill", sys(SYS_kill, atol(argv[2]), 15 /* SIGTERM */, 0, 0, 0, 0));
	} else if (strcmp(act, "denied") == 0) {
		long pid = sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
		report("mount", sys(SYS_mount, 0, 0, 0, 0, 0, 0));
		report("kcmp", sys(SYS_kcmp, pid, pid, 0 /* KCMP_FILE */, 1, 1, 0));
		report("perf_event_open", sys(SYS_perf_event_open, 0, 0, -1, -1, 0, 0));
	} else {
		fprintf(stderr, "sandbox_escape: unknown action %s\n", act);
		return 2;
	}
	return 0;
}
