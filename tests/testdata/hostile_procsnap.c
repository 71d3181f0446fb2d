/*
 * hostile_procsnap.c — treats a descriptor of /proc/self/status (which golos makes itself,
 * as a memfd) as a file to change: write(2), pwrite(2), ftruncate(2), fallocate(2),
 * fchmod(2), mmap(2) shared-writable and private, its access mode (fcntl F_GETFL), its
 * link in /proc/self/fd (the pid left out), a reopen of that link for
 * writing (as another user: root's DAC override lets it open natively, where the write
 * fails). Then, as that user still, two threads read it with pread at 0 while a third reads a dup of it after
 * lseek to 0: every read at 0 must get the whole file (a first line "Name:", and the
 * "VmRSS:" line), never an empty or a cut text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ename.h"

static int fd;
static int bad[3];

static void show(const char *what, long r)
{
	printf("%s: %s\n", what, r < 0 ? ename(errno) : "ok");
}

/* whole reports whether a read of n bytes at 0 holds the whole status file. */
static int whole(const char *b, long n)
{
	return n > 0 && strncmp(b, "Name:", 5) == 0 && memmem(b, n, "\nVmRSS:", 7) != NULL &&
	       memmem(b, n, "\nvoluntary_ctxt_switches:", 25) != NULL;
}

static void *preader(void *arg)
{
	int *badp = arg;
	static __thread char b[8192];
	for (int i = 0; i < 3000; i++) {
		long n = pread(fd, b, sizeof b, 0);
		if (!whole(b, n))
			++*badp;
	}
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0) {
		printf("open: %s\n", ename(errno));
		return 1;
	}
	printf("access mode O_RDONLY: %s\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY ? "yes" : "no");
	show("write", write(fd, "x", 1));
	show("pwrite at 0", pwrite(fd, "x", 1, 0));
	show("ftruncate", ftruncate(fd, 0));
	show("fallocate", fallocate(fd, 0, 0, 4096));
	show("fchmod 0777", fchmod(fd, 0777));
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("mmap shared writable", m == MAP_FAILED ? -1 : 0);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	show("mmap private", m == MAP_FAILED ? -1 : 0);
	char link[64], target[256];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	long n = readlink(link, target, sizeof target - 1);
	target[n > 0 ? n : 0] = 0;
	char want[64];
	snprintf(want, sizeof want, "/proc/%d/status", getpid());
	printf("link is /proc/PID/status: %s\n", strcmp(target, want) == 0 ? "yes" : target);
	/* As another user, whom the file's mode refuses writing. */
	if (setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0)
		show("as nobody, reopen of the link for writing", open(link, O_RDWR));
	char b[8192];
	n = pread(fd, b, sizeof b, 0);
	printf("read at 0 whole: %s\n", whole(b, n) ? "yes" : "no");

	int d = dup(fd);
	pthread_t t1, t2;
	pthread_create(&t1, NULL, preader, &bad[0]);
	pthread_create(&t2, NULL, preader, &bad[1]);
	for (int i = 0; i < 3000; i++) {
		lseek(d, 0, SEEK_SET);
		n = read(d, b, sizeof b);
		if (!whole(b, n))
			bad[2]++;
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("reads at 0 not whole: %d %d %d\n", bad[0], bad[1], bad[2]);
	return 0;
}
