/*
 * sig_pidfd.c — pidfd_open(2), pidfd_send_signal(2) and waitid(P_PIDFD) on the program's
 * own process and threads, on its parent and on a pid that does not exist; at the end,
 * in a process group of its own, PIDFD_SIGNAL_PROCESS_GROUP.
 *
 * Each line says what a call did; a handler's lines say how often it ran before the call
 * returned, with which si_code, and in which thread. "failures: 0" at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define PIDFD_THREAD_ O_EXCL
#define SIGNAL_THREAD 1
#define SIGNAL_THREAD_GROUP 2
#define SIGNAL_PROCESS_GROUP 4
#define SELF_THREAD (-10000)
#define SELF_THREAD_GROUP (-10001)

static int pidfd_open(pid_t pid, unsigned flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static int send(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static const char *err(int r)
{
	static char buf[32];
	if (r >= 0)
		return "ok";
	switch (errno) {
	case ESRCH: return "ESRCH";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

static volatile sig_atomic_t count, code, value;
static volatile pid_t in_tid;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	count++;
	code = si->si_code;
	value = si->si_value.sival_int;
	in_tid = syscall(SYS_gettid);
}

static const char *codename(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_TKILL: return "SI_TKILL";
	case SI_QUEUE: return "SI_QUEUE";
	}
	return "other";
}

static int failures;

static void report(const char *what, int r, const char *want_code, pid_t want_tid)
{
	int ok = r == 0 && count == 1 && strcmp(codename(code), want_code) == 0 && in_tid == want_tid;
	printf("%s: %s, handled %d time(s), %s, in the right thread: %s\n", what, err(r), (int)count,
	       codename(code), in_tid == want_tid ? "yes" : "no");
	if (!ok)
		failures++;
	count = 0;
	in_tid = 0;
}

static void expect(const char *what, int r, const char *want)
{
	printf("%s: %s\n", what, err(r));
	if (strcmp(err(r), want) != 0)
		failures++;
}

static int tfd = -1, go_on;
static pid_t ttid;

static void *thread(void *arg)
{
	(void)arg;
	ttid = syscall(SYS_gettid);
	tfd = pidfd_open(ttid, PIDFD_THREAD_);
	sigset_t none;
	sigemptyset(&none);
	__atomic_store_n(&go_on, 1, __ATOMIC_SEQ_CST);
	while (!count)
		sigsuspend(&none); /* SIGUSR2 is blocked outside sigsuspend */
	return 0;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, 0);
	sigaction(SIGUSR2, &sa, 0);
	pid_t me = getpid();

	int fd = pidfd_open(me, 0);
	expect("pidfd_open(getpid())", fd, "ok");
	report("send SIGUSR1", send(fd, SIGUSR1, 0, 0), "SI_USER", me);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = me;
	si.si_uid = getuid();
	si.si_value.sival_int = 77;
	report("send SIGUSR1 with SI_QUEUE info", send(fd, SIGUSR1, &si, 0), "SI_QUEUE", me);
	printf("si_value: %d\n", (int)value);
	si.si_code = SI_USER;
	report("send SIGUSR1 with SI_USER info to itself", send(fd, SIGUSR1, &si, 0), "SI_USER", me);
	si.si_signo = SIGUSR2;
	expect("info naming another signal", send(fd, SIGUSR1, &si, 0), "EINVAL");
	expect("unknown flag", send(fd, SIGUSR1, 0, 8), "EINVAL");
	expect("two scopes", send(fd, SIGUSR1, 0, SIGNAL_THREAD | SIGNAL_THREAD_GROUP), "EINVAL");
	expect("signal 65", send(fd, 65, 0, 0), "EINVAL");
	expect("signal 0", send(fd, 0, 0, 0), "ok");
	report("PIDFD_SIGNAL_THREAD", send(fd, SIGUSR1, 0, SIGNAL_THREAD), "SI_TKILL", me);
	report("PIDFD_SELF_THREAD_GROUP", send(SELF_THREAD_GROUP, SIGUSR1, 0, 0), "SI_USER", me);
	report("PIDFD_SELF_THREAD", send(SELF_THREAD, SIGUSR1, 0, 0), "SI_TKILL", me);
	siginfo_t wi;
	expect("waitid(P_PIDFD, own pidfd)", waitid(P_PIDFD, fd, &wi, WEXITED | WNOHANG), "ECHILD");

	/* A thread's pidfd: the signal goes to that thread. */
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, 0);
	pthread_t th;
	pthread_create(&th, 0, thread, 0);
	while (!__atomic_load_n(&go_on, __ATOMIC_SEQ_CST))
		sched_yield();
	expect("pidfd_open(thread, PIDFD_THREAD)", tfd, "ok");
	int r = send(tfd, SIGUSR2, 0, 0);
	pthread_join(th, 0);
	report("send SIGUSR2 to the thread's pidfd", r, "SI_TKILL", ttid);
	/* Once the thread is gone (its exit may end a moment after the join), ESRCH. */
	for (int i = 0; i < 100 && (r = send(tfd, 0, 0, 0)) == 0; i++)
		nanosleep(&(struct timespec){0, 10000000}, 0);
	expect("signal 0 to the ended thread's pidfd", r, "ESRCH");
	for (int i = 0; i < 100 && (r = pidfd_open(ttid, PIDFD_THREAD_)) >= 0; i++) {
		close(r);
		nanosleep(&(struct timespec){0, 10000000}, 0);
	}
	expect("pidfd_open(ended thread, PIDFD_THREAD)", r, "ESRCH");

	/* Other processes. */
	int pfd = pidfd_open(getppid(), 0);
	expect("pidfd_open(getppid())", pfd, "ok");
	expect("signal 0 to the parent's pidfd", send(pfd, 0, 0, 0), "ok");
	expect("waitid(P_PIDFD, parent's pidfd)", waitid(P_PIDFD, pfd, &wi, WEXITED | WNOHANG), "ECHILD");
	expect("pidfd_open(no such pid)", pidfd_open(0x3fffffff, 0), "ESRCH");
	int devnull = open("/dev/null", O_RDONLY);
	expect("send on a descriptor that is no pidfd", send(devnull, SIGUSR1, 0, 0), "EBADF");

	/* The process group whose id is the pidfd's pid: its own, once it leads one. */
	setpgid(0, 0);
	report("PIDFD_SIGNAL_PROCESS_GROUP", send(fd, SIGUSR1, 0, SIGNAL_PROCESS_GROUP), "SI_USER", me);
	sigaction(SIGURG, &sa, 0);
	report("PIDFD_SIGNAL_PROCESS_GROUP, SIGURG", send(fd, SIGURG, 0, SIGNAL_PROCESS_GROUP), "SI_USER", me);
	printf("failures: %d\n", failures);
	return failures != 0;
}
