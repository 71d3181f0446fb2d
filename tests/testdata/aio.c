/*
 * aio.c — Linux AIO through its raw syscalls (io_setup(2), io_submit(2), io_getevents(2),
 * io_pgetevents, io_cancel(2), io_destroy(2)), as libaio makes them:
 *   - the context's ring shows in /proc/self/maps at the context's id ("[aio]"), and not
 *     after io_destroy;
 *   - writes and reads of a file, buffered and with O_DIRECT (when the directory's file
 *     system allows it), with IOCB_CMD_PWRITE, IOCB_CMD_PREAD, IOCB_CMD_PREADV,
 *     IOCB_CMD_FSYNC, and completion noted on an eventfd (IOCB_FLAG_RESFD);
 *   - a fork child exits while the parent goes on with its context;
 *   - descriptors that are not open (as fcntl(2) sees them: under golos its own are not
 *     there for the program) are refused (EBADF); a batch whose second block is bad
 *     submits the first only;
 *   - io_pgetevents with a signal mask that lets a blocked, pending signal through ends
 *     at once (EINTR, the handler runs), and with none waits its timeout;
 *   - bad input: bad contexts, counts, pointers.
 *
 * Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

/* include/uapi/linux/aio_abi.h, which musl's headers lack. */
typedef unsigned long aio_context_t;
enum { IOCB_CMD_PREAD = 0, IOCB_CMD_PWRITE = 1, IOCB_CMD_FSYNC = 2, IOCB_CMD_PREADV = 7 };
#define IOCB_FLAG_RESFD 1
struct io_event {
	uint64_t data, obj;
	int64_t res, res2;
};
struct iocb {
	uint64_t aio_data;
	uint32_t aio_key, aio_rw_flags;
	uint16_t aio_lio_opcode;
	int16_t aio_reqprio;
	uint32_t aio_fildes;
	uint64_t aio_buf, aio_nbytes;
	int64_t aio_offset;
	uint64_t aio_reserved2;
	uint32_t aio_flags, aio_resfd;
};

#ifndef SYS_io_pgetevents
#define SYS_io_pgetevents 333
#endif

static int failures;
static volatile sig_atomic_t handled;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void result(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, ename(errno));
	else
		printf("%s: %ld\n", what, r);
}

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static long io_setup(unsigned n, aio_context_t *ctx) { return syscall(SYS_io_setup, n, ctx); }
static long io_destroy(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
static long io_submit(aio_context_t ctx, long n, struct iocb **cbs) { return syscall(SYS_io_submit, ctx, n, cbs); }
static long io_getevents(aio_context_t ctx, long min, long n, struct io_event *ev, struct timespec *ts)
{
	return syscall(SYS_io_getevents, ctx, min, n, ev, ts);
}

/* in_maps reports whether /proc/self/maps has an [aio] line that starts at addr. */
static int in_maps(uint64_t addr)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo;
		if (sscanf(line, "%lx-", &lo) == 1 && lo == addr && strstr(line, "[aio]"))
			found = 1;
	}
	fclose(f);
	return found;
}

static struct iocb cb(int op, int fd, void *buf, size_t n, off_t off)
{
	struct iocb c;
	memset(&c, 0, sizeof c);
	c.aio_lio_opcode = op;
	c.aio_fildes = fd;
	c.aio_buf = (uint64_t)(uintptr_t)buf;
	c.aio_nbytes = n;
	c.aio_offset = off;
	return c;
}

/* one submits c alone and waits for its completion, returning its res. */
static long one(aio_context_t ctx, struct iocb *c)
{
	struct iocb *cbs[1] = {c};
	long r = io_submit(ctx, 1, cbs);
	if (r != 1)
		return r < 0 ? -1000 - errno : -999;
	struct io_event ev;
	struct timespec ts = {5, 0};
	r = io_getevents(ctx, 1, 1, &ev, &ts);
	if (r != 1)
		return -998;
	if (ev.obj != (uint64_t)(uintptr_t)c)
		return -997;
	return ev.res;
}

static void file_io(aio_context_t ctx, int direct)
{
	const char *tag = direct ? "O_DIRECT" : "buffered";
	char what[128];
	int fd = open("aio.data", O_RDWR | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0600);
	if (fd < 0) {
		printf("%s: open: %s\n", tag, ename(errno));
		return;
	}
	char *w, *r;
	if (posix_memalign((void **)&w, 4096, 4 * 4096) || posix_memalign((void **)&r, 4096, 4 * 4096))
		exit(100);
	for (int i = 0; i < 4 * 4096; i++)
		w[i] = (char)('a' + i % 23);
	memset(r, 0, 4 * 4096);
	struct iocb c = cb(IOCB_CMD_PWRITE, fd, w, 4 * 4096, 0);
	long res = one(ctx, &c);
	if (direct && res == -EINVAL) {
		printf("%s: the file system takes no O_DIRECT writes\n", tag);
		close(fd);
		unlink("aio.data");
		return;
	}
	snprintf(what, sizeof what, "%s: IOCB_CMD_PWRITE of 16384 bytes", tag);
	result(what, res);
	c = cb(IOCB_CMD_FSYNC, fd, NULL, 0, 0);
	snprintf(what, sizeof what, "%s: IOCB_CMD_FSYNC", tag);
	result(what, one(ctx, &c));
	c = cb(IOCB_CMD_PREAD, fd, r, 2 * 4096, 4096);
	snprintf(what, sizeof what, "%s: IOCB_CMD_PREAD of 8192 bytes at 4096", tag);
	result(what, one(ctx, &c));
	snprintf(what, sizeof what, "%s: it read what was written", tag);
	check(what, !memcmp(r, w + 4096, 2 * 4096));
	memset(r, 0, 4 * 4096);
	struct iovec iov[2] = {{r, 4096}, {r + 2 * 4096, 4096}};
	c = cb(IOCB_CMD_PREADV, fd, iov, 2, 0);
	snprintf(what, sizeof what, "%s: IOCB_CMD_PREADV of two blocks", tag);
	result(what, one(ctx, &c));
	snprintf(what, sizeof what, "%s: the vector read what was written", tag);
	check(what, !memcmp(r, w, 4096) && !memcmp(r + 2 * 4096, w + 4096, 4096));

	/* Completion noted on an eventfd. */
	int efd = eventfd(0, 0);
	c = cb(IOCB_CMD_PREAD, fd, r, 4096, 0);
	c.aio_flags = IOCB_FLAG_RESFD;
	c.aio_resfd = efd;
	snprintf(what, sizeof what, "%s: IOCB_CMD_PREAD with IOCB_FLAG_RESFD", tag);
	result(what, one(ctx, &c));
	uint64_t n = 0;
	snprintf(what, sizeof what, "%s: the eventfd counted one completion", tag);
	check(what, read(efd, &n, 8) == 8 && n == 1);
	close(efd);
	close(fd);
	unlink("aio.data");
	free(w);
	free(r);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	aio_context_t ctx = 0;
	result("io_setup(128)", io_setup(128, &ctx));
	check("the ring is in /proc/self/maps at the context's id", in_maps(ctx));
	aio_context_t again = ctx;
	result("io_setup with a context id already set", io_setup(8, &again));

	file_io(ctx, 0);
	file_io(ctx, 1);

	/* A fork child while the parent has a context. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	int st;
	waitpid(pid, &st, 0);
	check("the fork child ended well", pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int fd = open("aio.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	char buf[512] = "after the fork";
	struct iocb c = cb(IOCB_CMD_PWRITE, fd, buf, sizeof buf, 0);
	result("a write after the fork", one(ctx, &c));

	/* Descriptors that are not open are refused, whichever they are. */
	int refused = 0, accepted = 0;
	for (int n = 3; n < 1024; n++) {
		if (fcntl(n, F_GETFD) != -1)
			continue;
		struct iocb b = cb(IOCB_CMD_PREAD, n, buf, sizeof buf, 0);
		struct iocb *cbs[1] = {&b};
		long r = io_submit(ctx, 1, cbs);
		if (r == -1 && errno == EBADF)
			refused++;
		else
			accepted++;
	}
	printf("descriptors fcntl says are closed that io_submit accepted: %d\n", accepted);
	check("and some were refused", refused > 900);
	struct iocb b1 = cb(IOCB_CMD_PREAD, fd, buf, sizeof buf, 0), b2 = cb(IOCB_CMD_PREAD, 1000, buf, sizeof buf, 0);
	struct iocb *two[2] = {&b1, &b2};
	result("io_submit of a good block and a bad one", io_submit(ctx, 2, two));
	struct io_event ev[4];
	struct timespec ts = {5, 0};
	result("io_getevents for it", io_getevents(ctx, 1, 4, ev, &ts));
	struct iocb b3 = cb(IOCB_CMD_PREAD, fd, buf, sizeof buf, 0);
	b3.aio_flags = IOCB_FLAG_RESFD;
	b3.aio_resfd = 1001;
	struct iocb *bad3[1] = {&b3};
	result("io_submit with a closed eventfd", io_submit(ctx, 1, bad3));

	/* io_pgetevents and its signal mask. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1, none;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	struct {
		const sigset_t *mask;
		size_t size;
	} pack = {&none, 8};
	ts.tv_sec = 0;
	ts.tv_nsec = 100000000;
	result("io_pgetevents with nothing to come", syscall(SYS_io_pgetevents, ctx, 1, 4, ev, &ts, &pack));
	kill(getpid(), SIGUSR1);
	check("SIGUSR1 is pending and blocked", handled == 0);
	ts.tv_sec = 5;
	ts.tv_nsec = 0;
	result("io_pgetevents whose mask lets it through", syscall(SYS_io_pgetevents, ctx, 1, 4, ev, &ts, &pack));
	check("the handler ran", handled == 1);
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	check("SIGUSR1 is blocked again", sigismember(&cur, SIGUSR1));
	pack.size = 4;
	result("io_pgetevents with a mask size of 4", syscall(SYS_io_pgetevents, ctx, 1, 4, ev, &ts, &pack));

	/* Bad input. */
	result("io_submit with a negative count", io_submit(ctx, -1, two));
	result("io_submit to a bad context", io_submit(12345, 1, two));
	result("io_submit of a wild block pointer", io_submit(ctx, 1, (struct iocb **)8));
	result("io_getevents of a bad context", io_getevents(12345, 1, 1, ev, &ts));
	result("io_cancel of a block not in flight", syscall(SYS_io_cancel, ctx, &b1, ev));
	result("io_setup(0)", io_setup(0, &again));
	result("io_setup to a wild pointer", io_setup(8, (aio_context_t *)8));
	result("io_destroy of a bad context", io_destroy(12345));
	result("io_destroy", io_destroy(ctx));
	check("the ring is gone from /proc/self/maps", !in_maps(ctx));
	result("io_submit after io_destroy", io_submit(ctx, 1, two));
	close(fd);
	unlink("aio.data");
	printf("failures: %d\n", failures);
	return failures;
}
