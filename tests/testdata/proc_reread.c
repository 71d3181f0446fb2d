// proc_reread: a /proc file kept open and read again from its start shows the process as
// it is then, as Linux makes a seq_file's text again at each read from position 0
// (fs/seq_file.c, seq_read_iter): after lseek(0) and read, after pread at 0, after
// readv; a read that goes on from the middle does not start over. golos gave the text
// of the moment of the open at every read.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static char buf[1 << 16];

static unsigned long rss_in(const char *s) {
	const char *p = strstr(s, "\nVmRSS:");
	return p ? strtoul(p + 7, NULL, 10) << 10 : 0;
}

static ssize_t read_all(int fd) {
	ssize_t n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	return n;
}

static void touch(unsigned long bytes) {
	char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (unsigned long i = 0; i < bytes; i += 4096)
		m[i] = 1;
}

static int threads_in_stat(void) {
	const char *s = strrchr(buf, ')');
	int field = 2;
	for (; s && *s; s++)
		if (*s == ' ' && ++field == 20)
			return atoi(s + 1);
	return -1;
}

static void *block(void *arg) {
	(void)arg;
	pause();
	return NULL;
}

int main(void) {
	const unsigned long MiB = 1 << 20;
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	read_all(fd);
	unsigned long r0 = rss_in(buf);
	touch(32 * MiB);
	lseek(fd, 0, SEEK_SET);
	read_all(fd);
	unsigned long r1 = rss_in(buf);
	printf("read again after lseek sees the new memory: %s\n", r1 >= r0 + 30 * MiB ? "yes" : "no");

	touch(32 * MiB);
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	unsigned long r2 = rss_in(buf);
	printf("pread at 0 sees it: %s\n", r2 >= r1 + 30 * MiB ? "yes" : "no");

	touch(32 * MiB);
	lseek(fd, 0, SEEK_SET);
	struct iovec iov[2] = {{buf, 16}, {buf + 16, sizeof buf - 17}};
	n = readv(fd, iov, 2);
	buf[n > 0 ? n : 0] = 0;
	unsigned long r3 = rss_in(buf);
	printf("readv from the start sees it: %s\n", r3 >= r2 + 30 * MiB ? "yes" : "no");

	// A read in two parts is one text: the second part goes on from the first.
	lseek(fd, 0, SEEK_SET);
	ssize_t a = read(fd, buf, 10);
	ssize_t b = a == 10 ? read(fd, buf + 10, sizeof buf - 11) : -1;
	buf[b > 0 ? 10 + b : 0] = 0;
	printf("a read in two parts is one text: %s\n", strncmp(buf, "Name:\t", 6) == 0 && rss_in(buf) >= r3 ? "yes" : "no");
	close(fd);

	int st = open("/proc/self/stat", O_RDONLY);
	n = pread(st, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	int before = threads_in_stat();
	pthread_t th;
	pthread_create(&th, NULL, block, NULL);
	n = pread(st, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	printf("stat read again counts the new thread: %s\n", threads_in_stat() == before + 1 ? "yes" : "no");
	return 0;
}
