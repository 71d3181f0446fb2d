/*
 * sig_restart.c — a signal handler interrupting a blocked syscall, with and without
 * SA_RESTART (signal(7), "Interruption of system calls and library functions by signal
 * handlers").
 *
 * A reader thread blocks in read() on an empty pipe; once /proc/self/task/TID/stat shows
 * it asleep, and 200 ms more, the main thread sends it SIGUSR1 with pthread_kill, then,
 * 200 ms after that, writes a byte into the pipe.
 *   - with SA_RESTART, the handler runs and read() goes on waiting: it returns the byte;
 *   - without SA_RESTART, read() fails with EINTR as soon as the handler has run.
 * The same for a thread blocked in nanosleep() and in poll(), which Linux never restarts
 * after a handler (EINTR, even with SA_RESTART), and for a signal whose disposition is to
 * ignore it (SIGCHLD by default), which does not interrupt read() at all. Finally the
 * main thread itself is interrupted in read() by a signal another thread sends, without
 * SA_RESTART. The output holds no times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static int pfd[2];
static int failures;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void set_handler(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000L * 1000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

struct outcome {
	long ret;
	int err;
	char byte;
	int handled_before_return;
};

static volatile int about_to_block;
static volatile pid_t blocker_tid;

static void announce(void)
{
	blocker_tid = (pid_t)syscall(SYS_gettid);
	about_to_block = 1;
}

/* wait_asleep waits until the thread that announced itself is asleep (state S in
 * /proc/self/task/TID/stat, for at most 5 s), then 200 ms more. */
static void wait_asleep(void)
{
	while (!about_to_block)
		nap_ms(1);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)blocker_tid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		char buf[512] = "";
		if (f) {
			if (!fgets(buf, sizeof buf, f))
				buf[0] = 0;
			fclose(f);
		}
		char *p = strrchr(buf, ')'); /* "pid (comm) S ..." */
		if (p && p[1] == ' ' && p[2] == 'S')
			break;
		nap_ms(1);
	}
	nap_ms(200);
}

static void *reader(void *arg)
{
	struct outcome *o = arg;
	char c = 0;
	announce();
	o->ret = read(pfd[0], &c, 1);
	o->err = o->ret < 0 ? errno : 0;
	o->byte = c;
	o->handled_before_return = handled;
	return NULL;
}

static void *sleeper(void *arg)
{
	struct outcome *o = arg;
	struct timespec ts = {3, 0};
	announce();
	o->ret = nanosleep(&ts, NULL);
	o->err = o->ret < 0 ? errno : 0;
	o->handled_before_return = handled;
	return NULL;
}

static void *poller(void *arg)
{
	struct outcome *o = arg;
	struct pollfd p = {.fd = pfd[0], .events = POLLIN};
	announce();
	o->ret = poll(&p, 1, 3000);
	o->err = o->ret < 0 ? errno : 0;
	o->handled_before_return = handled;
	return NULL;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "no error";
	case EINTR: return "EINTR";
	case ENOSYS: return "ENOSYS";
	}
	return strerror(e);
}

/* run starts fn in a thread, signals it with sig after 200 ms, writes a byte after another
 * 200 ms if write_byte, and returns the outcome. */
static struct outcome run(void *(*fn)(void *), int sig, int write_byte)
{
	struct outcome o = {0};
	pthread_t th;
	handled = 0;
	about_to_block = 0;
	pthread_create(&th, NULL, fn, &o);
	wait_asleep();
	pthread_kill(th, sig);
	nap_ms(200);
	if (write_byte && write(pfd[1], "x", 1) != 1)
		perror("write");
	pthread_join(th, NULL);
	return o;
}

static void expect(const char *what, struct outcome o, long ret, int err, int handled_want)
{
	int ok = o.ret == ret && o.err == err && o.handled_before_return == handled_want &&
		 (ret != 1 || o.byte == 'x');
	printf("%s: returned %ld (%s)%s, handler ran %d time(s) before it returned%s\n", what, o.ret,
	       errname(o.err), o.ret == 1 ? (o.byte == 'x' ? ", the byte written after the signal" : ", a wrong byte") : "",
	       o.handled_before_return, ok ? "" : " (WRONG)");
	if (!ok)
		failures++;
}

static void *signal_main(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;
	wait_asleep();
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

int main(void)
{
	alarm(20);
	if (pipe(pfd) != 0) {
		perror("pipe");
		return 1;
	}

	set_handler(SA_RESTART);
	expect("read() with SA_RESTART", run(reader, SIGUSR1, 1), 1, 0, 1);
	set_handler(0);
	expect("read() without SA_RESTART", run(reader, SIGUSR1, 0), -1, EINTR, 1);

	set_handler(SA_RESTART);
	expect("nanosleep() with SA_RESTART", run(sleeper, SIGUSR1, 0), -1, EINTR, 1);
	expect("poll() with SA_RESTART", run(poller, SIGUSR1, 0), -1, EINTR, 1);

	/* SIGCHLD's default action is to ignore it: read() is not interrupted */
	expect("read() sent SIGCHLD (default: ignore)", run(reader, SIGCHLD, 1), 1, 0, 0);

	/* the main thread interrupted */
	set_handler(0);
	handled = 0;
	about_to_block = 0;
	pthread_t self = pthread_self(), th;
	pthread_create(&th, NULL, signal_main, &self);
	struct outcome o = {0};
	char c;
	announce();
	o.ret = read(pfd[0], &c, 1);
	o.err = o.ret < 0 ? errno : 0;
	o.handled_before_return = handled;
	pthread_join(th, NULL);
	expect("main thread's read() without SA_RESTART", o, -1, EINTR, 1);

	printf("failures: %d\n", failures);
	return failures != 0;
}
