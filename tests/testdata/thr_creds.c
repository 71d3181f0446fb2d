/*
 * thr_creds.c — a new thread has the credentials of the thread that created it
 * (clone(2); kernel/fork.c copy_process → copy_creds), not those the process started with.
 *
 * Run as root. A thread is started first, while the process is root; then the main thread
 * drops to nobody (setgroups, setgid, setuid: libc makes the other threads drop too),
 * sets no_new_privs, and starts a thread, which starts one of its own. Each of them says
 * who it is (real/effective/saved/fs uid and gid, supplementary groups, no_new_privs, its
 * effective capabilities) and whether it can open a file only root may read. Then the
 * same with capabilities, which are a thread's own and which libc does not pass on: with
 * PR_SET_KEEPCAPS a thread keeps CAP_DAC_READ_SEARCH across its setresuid and raises it
 * (capset), and a thread it starts can read the file too; once it has dropped every
 * capability, a thread it starts cannot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* capget(2), capset(2): linux/capability.h, which musl's headers do not have. */
#define CAP_V3 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */
#define CAP_DAC_READ_SEARCH 2
struct caphdr {
	unsigned version;
	int pid;
};
struct capdata {
	unsigned effective, permitted, inheritable;
};

static char secret[64]; /* a file only root may read */
static int failures;

static unsigned capeff(void)
{
	struct caphdr h = {CAP_V3, 0};
	struct capdata d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return ~0u;
	return d[0].effective;
}

static int setcaps(unsigned perm, unsigned eff)
{
	struct caphdr h = {CAP_V3, 0};
	struct capdata d[2] = {{eff, perm, 0}, {0, 0, 0}};
	return (int)syscall(SYS_capset, &h, d);
}

/* report prints what the calling thread is, in one line. */
static void report(const char *who)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	gid_t groups[8];
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	int fsuid = setfsuid(-1), fsgid = setfsgid(-1); /* -1: only says what it is */
	int ng = getgroups(8, groups);
	int fd = open(secret, O_RDONLY);
	int err = errno;
	if (fd >= 0)
		close(fd);
	printf("%s: uid %d/%d/%d fs %d, gid %d/%d/%d fs %d, groups %d (first %d), no_new_privs %d, "
	       "effective caps %#x, root's file: %s\n",
	       who, (int)r, (int)e, (int)s, fsuid, (int)rg, (int)eg, (int)sg, fsgid, ng,
	       ng > 0 ? (int)groups[0] : -1, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), capeff(),
	       fd >= 0 ? "readable" : strerror(err));
	fflush(stdout);
}

static void *inner(void *who)
{
	report(who);
	return NULL;
}

static void *outer(void *who)
{
	report(who);
	char name[128];
	snprintf(name, sizeof name, "%s, its thread", (char *)who);
	pthread_t t;
	if (pthread_create(&t, NULL, inner, name) != 0 || pthread_join(t, NULL) != 0) {
		printf("pthread_create failed\n");
		failures++;
	}
	return NULL;
}

static pthread_barrier_t hold;

static void *before(void *arg)
{
	pthread_barrier_wait(&hold); /* started while root */
	pthread_barrier_wait(&hold); /* the process dropped to nobody */
	report("a thread started while root, after the drop");
	return NULL;
}

static void spawn(const char *who)
{
	pthread_t t;
	if (pthread_create(&t, NULL, outer, (void *)who) != 0 || pthread_join(t, NULL) != 0) {
		printf("pthread_create failed\n");
		failures++;
	}
}

static void *caps(void *arg)
{
	/* This thread's own credentials: raw syscalls, which libc does not pass on. */
	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (syscall(SYS_setresuid, 1000, 1000, 1000) != 0 ||
	    setcaps(1u << CAP_DAC_READ_SEARCH, 1u << CAP_DAC_READ_SEARCH) != 0) {
		printf("keep CAP_DAC_READ_SEARCH as uid 1000: %s\n", strerror(errno));
		failures++;
		return NULL;
	}
	spawn("uid 1000 with CAP_DAC_READ_SEARCH");
	if (setcaps(0, 0) != 0) {
		printf("drop every capability: %s\n", strerror(errno));
		failures++;
		return NULL;
	}
	spawn("uid 1000 without capabilities");
	return NULL;
}

int main(void)
{
	if (getuid() != 0) {
		printf("run me as root\n");
		return 2;
	}
	/* In the working directory, which the test removes. */
	snprintf(secret, sizeof secret, "root-only");
	int fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		perror(secret);
		return 2;
	}
	close(fd);

	/* Capabilities first, in a thread of their own, while the process is root. */
	pthread_t c;
	pthread_create(&c, NULL, caps, NULL);
	pthread_join(c, NULL);

	pthread_t b;
	pthread_barrier_init(&hold, NULL, 2);
	pthread_create(&b, NULL, before, NULL);
	pthread_barrier_wait(&hold);
	gid_t nogroup = 65534;
	if (setgroups(1, &nogroup) != 0 || setgid(65534) != 0 || setuid(65534) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("drop to nobody");
		failures++;
	}
	pthread_barrier_wait(&hold);
	pthread_join(b, NULL);
	report("main, after the drop");
	spawn("a thread started after the drop");

	printf("failures: %d\n", failures);
	return failures != 0;
}
