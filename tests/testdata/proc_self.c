/*
 * proc_self.c — what /proc/self says of the program (proc(5)), with one thread and then
 * four: the Threads line of status and num_threads (field 20) of stat; that stat's vsize
 * (field 23) is status's VmSize; that each of the program's tids has a task directory and
 * no other tid near the pid has one; that smaps lists the ranges maps lists, and
 * smaps_rollup spans them; and that /proc/self/limits shows RLIMIT_NOFILE and RLIMIT_AS
 * as setrlimit set them.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static char buf[1 << 20];

static const char *slurp(const char *path)
{
	buf[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	return buf;
}

static long status_field(const char *key)
{
	const char *s = strstr(slurp("/proc/self/status"), key);
	return s ? atol(s + strlen(key)) : -1;
}

/* stat_field returns field n (from 1) of /proc/self/stat, counted after the command's
 * closing parenthesis (field 2 ends there). */
static unsigned long stat_field(int n)
{
	const char *s = strrchr(slurp("/proc/self/stat"), ')');
	if (!s)
		return 0;
	s += 2; /* field 3 */
	for (int i = 3; i < n && s; i++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	return s ? strtoul(s, NULL, 10) : 0;
}

static void threads(const char *when)
{
	printf("%s: status Threads %ld, stat num_threads %lu\n", when, status_field("Threads:"), stat_field(20));
	long vm = status_field("VmSize:");
	unsigned long vsize = stat_field(23);
	long vm2 = status_field("VmSize:");
	printf("%s: stat vsize is status VmSize: %s\n", when,
	       vsize == (unsigned long)vm * 1024 || vsize == (unsigned long)vm2 * 1024 ? "yes" : "no");
}

static pthread_barrier_t started, done;
static int tids[4];

static void *worker(void *arg)
{
	tids[(long)arg] = (int)syscall(SYS_gettid);
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&done);
	return NULL;
}

static int has_task(int tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	int fd = open(path, O_RDONLY);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void tasks(void)
{
	int ours = 0, others = 0;
	for (int i = 0; i < 4; i++)
		ours += has_task(tids[i]);
	int pid = getpid();
	for (int tid = pid; tid < pid + 300; tid++) {
		int known = 0;
		for (int i = 0; i < 4; i++)
			known |= tid == tids[i];
		others += !known && has_task(tid);
	}
	printf("task directories of the 4 threads' tids: %d; of other tids near the pid: %d\n", ours, others);
}

/* ranges collects the address ranges of maps or smaps entries (their first lines). */
static int ranges(const char *text, unsigned long (*r)[2], int max)
{
	int n = 0;
	for (const char *l = text; *l && n < max; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		unsigned long lo, hi;
		char c;
		if (sscanf(l, "%lx-%lx %c", &lo, &hi, &c) == 3 && strchr("r-", c)) {
			r[n][0] = lo;
			r[n][1] = hi;
			n++;
		}
	}
	return n;
}

static unsigned long mr[4096][2], sr[4096][2];

static void smaps(void)
{
	int nm = ranges(slurp("/proc/self/maps"), mr, 4096);
	int ns = ranges(slurp("/proc/self/smaps"), sr, 4096);
	int same = nm == ns && nm > 0;
	for (int i = 0; same && i < nm; i++)
		same = mr[i][0] == sr[i][0] && mr[i][1] == sr[i][1];
	printf("smaps lists the ranges maps lists: %s\n", same ? "yes" : "no");
	unsigned long lo = 0, hi = 0;
	sscanf(slurp("/proc/self/smaps_rollup"), "%lx-%lx", &lo, &hi);
	int last = nm - 1;
	if (last > 0 && mr[last][0] >= 0xffffffffff600000UL) /* [vsyscall]: no mapping of the process */
		last--;
	printf("smaps_rollup spans them: %s\n", nm > 0 && lo == mr[0][0] && hi == mr[last][1] ? "yes" : "no");
}

static void limit_line(const char *name)
{
	const char *s = strstr(slurp("/proc/self/limits"), name);
	if (!s) {
		printf("%s: missing\n", name);
		return;
	}
	const char *e = strchr(s, '\n');
	printf("%.*s\n", e ? (int)(e - s) : (int)strlen(s), s);
}

int main(void)
{
	threads("1 thread");
	pthread_barrier_init(&started, NULL, 4);
	pthread_barrier_init(&done, NULL, 4);
	tids[0] = (int)syscall(SYS_gettid);
	pthread_t t[3];
	for (long i = 1; i <= 3; i++)
		pthread_create(&t[i - 1], NULL, worker, (void *)i);
	pthread_barrier_wait(&started);
	threads("4 threads");
	tasks();
	pthread_barrier_wait(&done);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	smaps();

	struct rlimit nofile = {100, 200}, as = {1UL << 34, 1UL << 35};
	if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 || setrlimit(RLIMIT_AS, &as) != 0)
		printf("setrlimit failed\n");
	limit_line("Max open files");
	limit_line("Max address space");
	limit_line("Max processes");
	return 0;
}
