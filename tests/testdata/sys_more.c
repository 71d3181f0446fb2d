/*
 * sys_more.c — the syscalls golos answers since every number got a row (table.go): legacy
 * forms (epoll_create, eventfd, inotify_init, utime, utimes), close_range, pidfd_open,
 * pkey_*, NUMA policies, mseal, SysV semaphores and message queues, POSIX message queues,
 * restart_syscall, personality, adjtimex, tee's SIGPIPE. Each is made with syscall(2) and
 * its result printed as "name: value" or "name: -1 ERRNO", so that the output is the same
 * natively and under golos.
 *
 * With the argument "refused" it calls, instead, syscalls golos refuses (sethostname,
 * clock_settime, settimeofday, mount, io_uring_setup): only under golos, where
 * none of them may reach the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "ename.h"

#define NR_epoll_create 213
#define NR_epoll_ctl 233
#define NR_epoll_wait 232
#define NR_epoll_pwait2 441
#define NR_eventfd 284
#define NR_inotify_init 253
#define NR_inotify_add_watch 254
#define NR_utime 132
#define NR_utimes 235
#define NR_fchmodat2 452
#define NR_close_range 436
#define NR_pidfd_open 434
#define NR_pkey_mprotect 329
#define NR_pkey_alloc 330
#define NR_pkey_free 331
#define NR_mbind 237
#define NR_set_mempolicy 238
#define NR_get_mempolicy 239
#define NR_mseal 462
#define NR_sched_rr_get_interval 148
#define NR_restart_syscall 219
#define NR_personality 135
#define NR_adjtimex 159
#define NR_semget 64
#define NR_semop 65
#define NR_semctl 66
#define NR_msgget 68
#define NR_msgsnd 69
#define NR_msgrcv 70
#define NR_msgctl 71
#define NR_mq_open 240
#define NR_mq_unlink 241
#define NR_mq_timedsend 242
#define NR_mq_timedreceive 243
#define NR_futex_wake 454
#define NR_tee 276
#define NR_mlock2 325
#define NR_munlockall 152

static void show(const char *name, long r)
{
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(errno));
	else
		printf("%s: %ld\n", name, r);
}

/* ok prints whether a call succeeded, for calls whose value may differ between runs. */
static void ok(const char *name, long r)
{
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(errno));
	else
		printf("%s: ok\n", name);
}

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static int refused(void)
{
	struct timespec ts = {0, 0};
	struct { long sec, usec; } tv = {0, 0};
	show("sethostname", syscall(SYS_sethostname, "golos", 5));
	show("setdomainname", syscall(SYS_setdomainname, "golos", 5));
	show("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	show("settimeofday", syscall(SYS_settimeofday, &tv, NULL));
	show("mount", syscall(SYS_mount, "none", "/mnt", "tmpfs", 0L, NULL));
	show("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, NULL));
	char params[120] = {0};
	show("io_uring_setup", syscall(425, 1, params));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "refused") == 0)
		return refused();
	char dir[] = "/tmp/golos-sys-more-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("mkdtemp");
		return 1;
	}

	/* epoll_create(2): size must be positive; then as epoll_create1(0). */
	show("epoll_create(0)", syscall(NR_epoll_create, 0));
	int ep = syscall(NR_epoll_create, 1);
	ok("epoll_create(1)", ep);
	int ev = syscall(NR_eventfd, 3);
	ok("eventfd", ev);
	unsigned long long v = 0;
	show("read eventfd", read(ev, &v, 8));
	printf("eventfd value: %llu\n", v);
	show("write eventfd", write(ev, &(unsigned long long){5}, 8));
	struct { unsigned int events; unsigned long long data; } __attribute__((packed)) e = {1 /* EPOLLIN */, 42}, out[2];
	show("epoll_ctl", syscall(NR_epoll_ctl, ep, 1 /* EPOLL_CTL_ADD */, ev, &e));
	long n = syscall(NR_epoll_wait, ep, out, 2, 1000);
	show("epoll_wait", n);
	if (n == 1)
		printf("epoll_wait data: %llu\n", out[0].data);
	struct timespec zero = {0, 0};
	show("epoll_pwait2", syscall(NR_epoll_pwait2, ep, out, 2, &zero, NULL, 8));
	show("epoll_create bad fd for epoll_ctl", syscall(NR_epoll_ctl, ep, 1, 9999, &e));

	/* inotify_init(2): as inotify_init1(0). */
	int in = syscall(NR_inotify_init);
	ok("inotify_init", in);
	ok("inotify_add_watch", syscall(NR_inotify_add_watch, in, ".", 0x100 /* IN_CREATE */));
	close(open("created", O_CREAT | O_WRONLY, 0644));
	char buf[4096] __attribute__((aligned(8)));
	long got = read(in, buf, sizeof buf);
	if (got > 16)
		printf("inotify event: mask %#x name %s\n", *(unsigned int *)(buf + 4), buf + 16);
	else
		show("read inotify", got);

	/* utime(2), utimes(2), fchmodat2(2). */
	struct { long actime, modtime; } ut = {1000000000, 1200000000};
	show("utime", syscall(NR_utime, "created", &ut));
	struct stat st;
	stat("created", &st);
	printf("mtime after utime: %ld\n", (long)st.st_mtime);
	struct { long sec, usec; } tvs[2] = {{1000000000, 0}, {1300000000, 0}};
	show("utimes", syscall(NR_utimes, "created", tvs));
	stat("created", &st);
	printf("mtime after utimes: %ld\n", (long)st.st_mtime);
	show("utime missing", syscall(NR_utime, "missing", &ut));
	show("fchmodat2", syscall(NR_fchmodat2, AT_FDCWD, "created", 0600, 0));
	stat("created", &st);
	printf("mode after fchmodat2: %o\n", st.st_mode & 07777);
	show("fchmodat2 bad flags", syscall(NR_fchmodat2, AT_FDCWD, "created", 0600, 0x40000));

	/* close_range(2). */
	for (int fd = 40; fd < 43; fd++)
		dup2(1, fd);
	show("close_range(40, 42)", syscall(NR_close_range, 40, 42, 0));
	show("fcntl 41 after close_range", fcntl(41, F_GETFD));
	show("close_range last < first", syscall(NR_close_range, 5, 4, 0));
	show("close_range bad flags", syscall(NR_close_range, 3, 4, 0x100));
	dup2(1, 50);
	show("close_range CLOEXEC", syscall(NR_close_range, 50, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */));
	printf("fd 50 FD_CLOEXEC: %d\n", fcntl(50, F_GETFD) & FD_CLOEXEC);

	/* pidfd_open(2): its own pid; another that does not exist; bad arguments. */
	int pfd = syscall(NR_pidfd_open, getpid(), 0);
	ok("pidfd_open(self)", pfd);
	show("pidfd_open(no such pid)", syscall(NR_pidfd_open, 4194304 + 1000, 0));
	show("pidfd_open(-1)", syscall(NR_pidfd_open, -1, 0));
	show("pidfd_open(bad flags)", syscall(NR_pidfd_open, getpid(), 0x1));

	/* Memory: pkeys, NUMA policy, mlock2, mseal on the program's own page. */
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page[0] = 1;
	long key = syscall(NR_pkey_alloc, 0, 0);
	printf("pkey_alloc: %s\n", key >= 0 ? "ok" : ename(errno));
	if (key >= 0)
		show("pkey_free", syscall(NR_pkey_free, key));
	else
		show("pkey_free(1)", syscall(NR_pkey_free, 1));
	show("pkey_mprotect(-1)", syscall(NR_pkey_mprotect, page, 4096, PROT_READ, -1));
	show("pkey_mprotect unaligned", syscall(NR_pkey_mprotect, page + 1, 4096, PROT_READ, -1));
	int mode = -1;
	show("get_mempolicy", syscall(NR_get_mempolicy, &mode, NULL, 0, NULL, 0));
	printf("mempolicy mode: %d\n", mode);
	show("set_mempolicy", syscall(NR_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0));
	show("mbind", syscall(NR_mbind, page, 4096, 0, NULL, 0, 0));
	show("mbind unaligned", syscall(NR_mbind, page + 1, 4096, 0, NULL, 0, 0));
	show("mlock2", syscall(NR_mlock2, page, 4096, 0));
	show("munlockall", syscall(NR_munlockall));
	char *sealed = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("mseal", syscall(NR_mseal, sealed, 4096, 0));
	show("munmap sealed", munmap(sealed, 4096));
	show("mseal bad flags", syscall(NR_mseal, page, 4096, 1));

	/* Scheduling, restart_syscall, personality, adjtimex. */
	struct timespec rr;
	ok("sched_rr_get_interval", syscall(NR_sched_rr_get_interval, 0, &rr));
	show("restart_syscall", syscall(NR_restart_syscall));
	show("personality(query)", syscall(NR_personality, 0xffffffff));
	char timex[256] = {0};
	ok("adjtimex(read)", syscall(NR_adjtimex, timex));

	/* SysV semaphores and message queues, POSIX message queues. */
	int sem = syscall(NR_semget, 0 /* IPC_PRIVATE */, 1, 0600);
	ok("semget", sem);
	struct { unsigned short num; short op, flg; } sop = {0, 2, 0};
	show("semop", syscall(NR_semop, sem, &sop, 1));
	show("semctl GETVAL", syscall(NR_semctl, sem, 0, 12 /* GETVAL */, 0));
	show("semctl IPC_RMID", syscall(NR_semctl, sem, 0, 0 /* IPC_RMID */, 0));
	int q = syscall(NR_msgget, 0, 0600);
	ok("msgget", q);
	struct { long type; char text[8]; } msg = {7, "hello"}, rcv;
	show("msgsnd", syscall(NR_msgsnd, q, &msg, 6, 0));
	show("msgrcv", syscall(NR_msgrcv, q, &rcv, 8, 0, 0));
	printf("msg: %ld %s\n", rcv.type, rcv.text);
	show("msgctl IPC_RMID", syscall(NR_msgctl, q, 0 /* IPC_RMID */, NULL));
	char qname[64];
	snprintf(qname, sizeof qname, "golos-sys-more-%d", getpid());
	struct { long flags, maxmsg, msgsize, curmsgs, pad[4]; } attr = {0, 4, 16, 0, {0}};
	int mq = syscall(NR_mq_open, qname, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	ok("mq_open", mq);
	show("mq_timedsend", syscall(NR_mq_timedsend, mq, "ping", 5, 1, NULL));
	char mbuf[16] = {0};
	show("mq_timedreceive", syscall(NR_mq_timedreceive, mq, mbuf, 16, NULL, NULL));
	printf("mq: %s\n", mbuf);
	show("mq_unlink", syscall(NR_mq_unlink, qname));

	/* futex_wake(2) with no waiter; tee(2) into a pipe without readers: EPIPE and SIGPIPE. */
	unsigned int word = 0;
	show("futex_wake", syscall(NR_futex_wake, &word, 0xffffffff, 1, 2 /* FUTEX2_SIZE_U32 */ | 128));
	signal(SIGPIPE, on_sigpipe);
	int a[2], b[2];
	pipe(a);
	pipe(b);
	write(a[1], "data", 4);
	close(b[0]);
	show("tee to a closed pipe", syscall(NR_tee, a[0], b[1], 4, 0));
	printf("SIGPIPEs: %d\n", (int)sigpipes);

	/* close_range over everything from 3: the program's descriptors go, golos's stay. */
	show("close_range(3, ~0)", syscall(NR_close_range, 3, ~0U, 0));
	show("fcntl 50 after", fcntl(50, F_GETFD));
	int fd = open("created", O_RDONLY);
	printf("open after close_range: %d\n", fd);
	unlink("created");
	chdir("/");
	show("rmdir", rmdir(dir));
	return 0;
}
