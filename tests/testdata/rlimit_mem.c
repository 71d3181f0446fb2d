/*
 * rlimit_mem.c — RLIMIT_AS and RLIMIT_DATA set by the program bind the program: with
 * RLIMIT_AS at 256 MiB more than it uses, a 512 MiB mapping more fails with ENOMEM and a
 * 64 MiB one works; with RLIMIT_DATA a break that would pass it stays where it is; the
 * limits read back as set, stay after a fork and an execve, and with them lowered the
 * program (and, under golos, golos's own runtime) goes on working. Exit status: the number
 * of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	failures += !ok;
}

/* vm_size is this process's VmSize (kB) from /proc/self/status. */
static long vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	struct rlimit r;
	if (argc > 1) { /* after the execve */
		getrlimit(RLIMIT_AS, &r);
		check("after execve, RLIMIT_AS is still below RLIM_INFINITY", r.rlim_cur != RLIM_INFINITY);
		void *p = mmap(NULL, 1UL << 33, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		check("after execve, an 8 GiB mapping fails with ENOMEM", p == MAP_FAILED && errno == ENOMEM);
		return failures;
	}
	/* Natively the limit counts the whole process; under golos the program's memory. A
	 * budget above what is used now makes both the same for this program. */
	unsigned long used = (unsigned long)vm_size() * 1024;
	r.rlim_cur = r.rlim_max = used + (256UL << 20);
	check("setrlimit(RLIMIT_AS, used + 256 MiB)", setrlimit(RLIMIT_AS, &r) == 0);
	struct rlimit g;
	getrlimit(RLIMIT_AS, &g);
	check("getrlimit gives it back", g.rlim_cur == r.rlim_cur && g.rlim_max == r.rlim_max);
	void *big = mmap(NULL, 512UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("a 512 MiB mapping fails with ENOMEM", big == MAP_FAILED && errno == ENOMEM);
	void *mid = mmap(NULL, 64UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("a 64 MiB mapping works", mid != MAP_FAILED);
	if (mid != MAP_FAILED)
		memset(mid, 1, 64UL << 20);
	char *m = malloc(1 << 20);
	check("malloc of 1 MiB works", m != NULL);
	r.rlim_max = r.rlim_cur + 1;
	check("raising the hard limit as root works, or fails with EPERM otherwise",
	      setrlimit(RLIMIT_AS, &r) == 0 || errno == EPERM);
	r.rlim_cur = r.rlim_max + 1;
	check("a soft limit above the hard one: EINVAL", setrlimit(RLIMIT_AS, &r) == -1 && errno == EINVAL);

	/* RLIMIT_DATA and the break. */
	struct rlimit d = {32UL << 20, 32UL << 20};
	check("setrlimit(RLIMIT_DATA, 32 MiB)", setrlimit(RLIMIT_DATA, &d) == 0);
	void *before = sbrk(0);
	check("sbrk of 64 MiB fails", sbrk(64 << 20) == (void *)-1);
	check("the break stays where it was", sbrk(0) == before);
	void *priv = mmap(NULL, 64UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("a 64 MiB private writable mapping fails with ENOMEM", priv == MAP_FAILED && errno == ENOMEM);
	void *ro = mmap(NULL, 64UL << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("a 64 MiB read-only one works (not data)", ro != MAP_FAILED);
	if (ro != MAP_FAILED)
		munmap(ro, 64UL << 20);
	d.rlim_cur = d.rlim_max = RLIM_INFINITY;
	check("RLIMIT_DATA back to unlimited (as root) or kept", setrlimit(RLIMIT_DATA, &d) == 0 || errno == EPERM);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		void *p = mmap(NULL, 512UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		_exit(p == MAP_FAILED && errno == ENOMEM ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	check("in a forked child, the 512 MiB mapping fails too", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "after-exec", (char *)NULL);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	check("the execve'd copy checked its limit", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("failures: %d\n", failures);
	return failures;
}
