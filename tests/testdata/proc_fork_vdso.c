// A forked child finds the vDSO where its parent's libc found it: the [vdso] line of
// /proc/self/maps starts at AT_SYSINFO_EHDR, which the child inherits with the parent's
// memory, and libc's clock_gettime, gettimeofday and time, which call into the vDSO,
// work and agree with the parent's clocks. In a child, a grandchild and a vfork child.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct timespec before_fork;

// vdso_at reads the start of the [vdso] line of /proc/self/maps (0 if there is none).
static unsigned long vdso_at(void) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "[vdso]"))
			lo = strtoul(line, NULL, 16);
	fclose(f);
	return lo;
}

// check returns a bit per failed check: 1 the vDSO is not at AT_SYSINFO_EHDR, 2 the
// monotonic clock went back since before the fork, 4 gettimeofday and time disagree with
// CLOCK_REALTIME by more than 2 s.
static int check(void) {
	int bad = 0;
	if (vdso_at() != getauxval(AT_SYSINFO_EHDR))
		bad |= 1;
	struct timespec mono, real;
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &mono);
		if (mono.tv_sec < before_fork.tv_sec ||
		    (mono.tv_sec == before_fork.tv_sec && mono.tv_nsec < before_fork.tv_nsec))
			bad |= 2;
	}
	clock_gettime(CLOCK_REALTIME, &real);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t now = time(NULL);
	if (labs(tv.tv_sec - real.tv_sec) > 2 || labs(now - real.tv_sec) > 2)
		bad |= 4;
	return bad;
}

static int status_of(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void) {
	printf("parent: failed checks %d\n", check());
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &before_fork);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = check();
		clock_gettime(CLOCK_MONOTONIC, &before_fork);
		pid_t g = fork();
		if (g == 0)
			_exit(check());
		int gbad = status_of(g);
		_exit(bad | gbad << 4);
	}
	int st = status_of(pid);
	printf("child: failed checks %d, grandchild: %d\n", st & 15, st >> 4);
	clock_gettime(CLOCK_MONOTONIC, &before_fork);
	pid = vfork();
	if (pid == 0)
		_exit(check());
	printf("vfork child: failed checks %d\n", status_of(pid));
	return 0;
}
