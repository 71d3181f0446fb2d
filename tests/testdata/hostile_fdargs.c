/*
 * hostile_fdargs.c — names descriptors it never opened in the arguments of calls that
 * take a descriptor besides their first: sendfile(2)'s in_fd, splice(2)'s fd_out, tee(2)'s
 * fd_out, copy_file_range(2)'s fd_in and fd_out, epoll_ctl(2)'s fd, mmap(2)'s fd, the
 * source of ioctl(2)'s FICLONE (an argument) and FICLONERANGE (in a struct), and
 * fcntl(2)'s F_DUPFD_QUERY's second descriptor. Each
 * must fail with EBADF, as for a descriptor that is not open: the program prints, per
 * call, how many such descriptors got any other answer (natively none), in itself and in
 * a forked child.
 *
 * The descriptors it has at the start (inherited) and those it opens count as its own;
 * it scans up to its soft RLIMIT_NOFILE or 4200, above the descriptor tables golos grows
 * for its own (4096).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* linux/fs.h's, which musl's headers lack. */
struct clone_range {
	int64_t src_fd;
	uint64_t src_offset, src_length, dest_offset;
};
#define CLONE_FICLONE _IOW(0x94, 9, int)
#define CLONE_FICLONERANGE _IOW(0x94, 13, struct clone_range)

#ifndef F_DUPFD_QUERY
#define F_DUPFD_QUERY 1027
#endif

static int known[64], nknown;

static int is_known(int fd)
{
	for (int i = 0; i < nknown; i++)
		if (known[i] == fd)
			return 1;
	return 0;
}

static int top(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 4200 ? 4200 : (int)rl.rlim_cur;
}

enum { EPOLL_CTL, SENDFILE_IN, SPLICE_OUT, TEE_OUT, CFR_IN, CFR_OUT, MMAP, FICLONE_SRC, FICLONERANGE_SRC, DUPFD_QUERY,
       NCALLS };
static const char *names[NCALLS] = {"epoll_ctl fd",          "sendfile in_fd", "splice fd_out",    "tee fd_out",
                                    "copy_file_range fd_in", "copy_file_range fd_out", "mmap fd", "FICLONE src_fd",
                                    "FICLONERANGE src_fd",   "F_DUPFD_QUERY fd2"};

static void scan(const char *who)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int p[2], q[2];
	if (ep < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0 || pipe2(q, O_CLOEXEC | O_NONBLOCK) != 0) {
		printf("%s: set-up failed: %s\n", who, strerror(errno));
		return;
	}
	int f = memfd_create("hostile_fdargs", MFD_CLOEXEC);
	if (f < 0 || write(f, "0123456789abcdef", 16) != 16) {
		printf("%s: memfd failed: %s\n", who, strerror(errno));
		return;
	}
	int mine[] = {ep, p[0], p[1], q[0], q[1], f};
	int count[NCALLS] = {0};
	for (int fd = 3, n = top(); fd < n; fd++) {
		int skip = is_known(fd);
		for (unsigned i = 0; i < sizeof mine / sizeof mine[0]; i++)
			skip |= mine[i] == fd;
		if (skip)
			continue;
		long r[NCALLS];
		int e[NCALLS];
		struct epoll_event ev = {.events = EPOLLIN};
		errno = 0;
		r[EPOLL_CTL] = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), e[EPOLL_CTL] = errno;
		off_t off = 0;
		r[SENDFILE_IN] = sendfile(p[1], fd, &off, 1), e[SENDFILE_IN] = errno;
		write(q[1], "x", 1);
		r[SPLICE_OUT] = splice(q[0], NULL, fd, NULL, 1, SPLICE_F_NONBLOCK), e[SPLICE_OUT] = errno;
		r[TEE_OUT] = tee(q[0], fd, 1, SPLICE_F_NONBLOCK), e[TEE_OUT] = errno;
		char drain[16];
		while (read(q[0], drain, sizeof drain) > 0)
			;
		loff_t o1 = 0, o2 = 0;
		r[CFR_IN] = syscall(SYS_copy_file_range, fd, &o1, f, &o2, 1, 0), e[CFR_IN] = errno;
		o1 = 0;
		r[CFR_OUT] = syscall(SYS_copy_file_range, f, &o1, fd, NULL, 1, 0), e[CFR_OUT] = errno;
		void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		r[MMAP] = m == MAP_FAILED ? -1 : 0, e[MMAP] = errno;
		if (m != MAP_FAILED)
			munmap(m, 4096);
		errno = 0;
		r[FICLONE_SRC] = ioctl(f, CLONE_FICLONE, fd), e[FICLONE_SRC] = errno;
		struct clone_range cr = {.src_fd = fd, .src_length = 1};
		errno = 0;
		r[FICLONERANGE_SRC] = ioctl(f, CLONE_FICLONERANGE, &cr), e[FICLONERANGE_SRC] = errno;
		errno = 0;
		r[DUPFD_QUERY] = fcntl(f, F_DUPFD_QUERY, fd), e[DUPFD_QUERY] = errno;
		for (int i = 0; i < NCALLS; i++)
			if (r[i] >= 0 || e[i] != EBADF) {
				count[i]++;
				fprintf(stderr, "%s: %s %d: %ld %s\n", who, names[i], fd, r[i], strerror(e[i]));
			}
		while (read(p[0], drain, sizeof drain) > 0)
			;
	}
	for (int i = 0; i < NCALLS; i++)
		printf("%s: %s: descriptors never opened not EBADF: %d\n", who, names[i], count[i]);
	close(ep), close(p[0]), close(p[1]), close(q[0]), close(q[1]), close(f);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int fd = 0, n = top(); fd < n && nknown < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			known[nknown++] = fd;
	scan("program");
	pid_t c = fork();
	if (c == 0) {
		scan("child");
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
