// proc_vm: the memory /proc/self/status, stat and statm show is the program's, as Linux
// counts it (fs/proc/task_mmu.c, task_mem and task_statm; fs/proc/array.c,
// do_task_stat): the three agree with each other and with smaps, the code and data lie
// where the program headers say (fs/binfmt_elf.c, load_elf_binary), the peaks keep a
// mapping that is gone, shared memory counts as RssShmem, and stat's obsolete signal
// fields are the program's. Each line says ok or what it found; the files are read with
// read(2) into static buffers, so that reading them changes no mapping.
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char buf[1 << 16];
static int failures;

static const char *slurp(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return buf;
}

struct status {
	unsigned long peak, size, hwm, rss, anon, file, shmem, data, stk, exe, lib;
};

static unsigned long field_kb(const char *s, const char *name) {
	const char *p = strstr(s, name);
	if (!p) {
		printf("status has no %s\n", name);
		exit(1);
	}
	return strtoul(p + strlen(name), NULL, 10) * 1024;
}

static struct status read_status(void) {
	const char *s = slurp("/proc/self/status");
	struct status st = {
	    field_kb(s, "\nVmPeak:"), field_kb(s, "\nVmSize:"), field_kb(s, "\nVmHWM:"), field_kb(s, "\nVmRSS:"),
	    field_kb(s, "\nRssAnon:"), field_kb(s, "\nRssFile:"), field_kb(s, "\nRssShmem:"), field_kb(s, "\nVmData:"),
	    field_kb(s, "\nVmStk:"), field_kb(s, "\nVmExe:"), field_kb(s, "\nVmLib:"),
	};
	return st;
}

// stat_fields reads /proc/self/stat into f, f[n] being field n of proc_pid_stat(5).
static void stat_fields(unsigned long long f[53]) {
	const char *s = strrchr(slurp("/proc/self/stat"), ')');
	memset(f, 0, 53 * sizeof f[0]);
	s += 2; // ") " then field 3, the state
	s++;
	for (int i = 4; i <= 52 && *s; i++)
		f[i] = strtoull(s, (char **)&s, 10);
}

struct layout {
	unsigned long start_code, end_code, start_data, end_data;
};

// main_layout is where Linux puts the executable's code and data: the executable
// segments' lowest start and highest end in the file, the highest segment start and the
// highest end in the file of any segment, plus the load bias.
static int main_layout(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size;
	struct layout *l = data;
	l->start_code = ~0UL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		unsigned long k = ph->p_vaddr, e = ph->p_vaddr + ph->p_filesz;
		if ((ph->p_flags & PF_X) && k < l->start_code)
			l->start_code = k;
		if ((ph->p_flags & PF_X) && e > l->end_code)
			l->end_code = e;
		if (k > l->start_data)
			l->start_data = k;
		if (e > l->end_data)
			l->end_data = e;
	}
	l->start_code += info->dlpi_addr;
	l->end_code += info->dlpi_addr;
	l->start_data += info->dlpi_addr;
	l->end_data += info->dlpi_addr;
	return 1; // the first object is the executable
}

static void check(const char *what, int ok, const char *fmt, unsigned long a, unsigned long b) {
	if (ok) {
		printf("%s: ok\n", what);
		return;
	}
	failures++;
	printf("%s: ", what);
	printf(fmt, a, b);
	printf("\n");
}

static unsigned long absdiff(unsigned long a, unsigned long b) { return a > b ? a - b : b - a; }

int main(void) {
	const unsigned long page = 4096, slack = 256 << 10, MiB = 1 << 20;
	unsigned long long f[53];
	unsigned long statm[7];

	// Everything read first, so that no output buffer is allocated in between.
	struct status st = read_status();
	stat_fields(f);
	const char *m = slurp("/proc/self/statm");
	sscanf(m, "%lu %lu %lu %lu %lu %lu %lu", &statm[0], &statm[1], &statm[2], &statm[3], &statm[4], &statm[5],
	       &statm[6]);
	unsigned long rollup = field_kb(slurp("/proc/self/smaps_rollup"), "\nRss:");
	struct layout l = {0};
	dl_iterate_phdr(main_layout, &l);
	void *brk_now = sbrk(0);

	check("VmSize, statm's size and stat's vsize agree", st.size == statm[0] * page && st.size == f[23],
	      "VmSize %lu, vsize %lu", st.size, (unsigned long)f[23]);
	check("VmPeak at least VmSize", st.peak >= st.size, "VmPeak %lu, VmSize %lu", st.peak, st.size);
	check("VmRSS, statm's resident and stat's rss agree",
	      absdiff(st.rss, statm[1] * page) <= slack && absdiff(st.rss, f[24] * page) <= slack,
	      "VmRSS %lu, stat rss %lu", st.rss, (unsigned long)f[24] * page);
	// Linux's counters are per-CPU caches of the page-table walk smaps makes (mm/util.c,
	// get_mm_counter): near it, not equal.
	check("VmRSS is near the sum of smaps' Rss", absdiff(st.rss, rollup) <= 4 * MiB, "VmRSS %lu, smaps_rollup %lu",
	      st.rss, rollup);
	check("VmRSS is RssAnon, RssFile and RssShmem", st.rss == st.anon + st.file + st.shmem,
	      "VmRSS %lu, the three %lu", st.rss, st.anon + st.file + st.shmem);
	check("VmHWM at least VmRSS", st.hwm >= st.rss, "VmHWM %lu, VmRSS %lu", st.hwm, st.rss);
	check("statm's shared is RssFile and RssShmem", absdiff(statm[2] * page, st.file + st.shmem) <= slack,
	      "statm shared %lu, RssFile+RssShmem %lu", statm[2] * page, st.file + st.shmem);
	check("statm's data is VmData and VmStk", statm[5] * page == st.data + st.stk, "statm data %lu, VmData+VmStk %lu",
	      statm[5] * page, st.data + st.stk);
	check("stat's code is the program headers'", f[26] == l.start_code && f[27] == l.end_code,
	      "stat startcode %#lx, program headers %#lx", (unsigned long)f[26], l.start_code);
	check("stat's data is the program headers'", f[45] == l.start_data && f[46] == l.end_data,
	      "stat start_data %#lx, program headers %#lx", (unsigned long)f[45], l.start_data);
	unsigned long text = ((l.end_code + page - 1) & ~(page - 1)) - (l.start_code & ~(page - 1));
	check("statm's text is the code's pages", statm[3] * page == text, "statm text %lu, code %lu", statm[3] * page,
	      text);
	check("VmExe is the code's pages", st.exe == text, "VmExe %lu, code %lu", st.exe, text);
	check("main is in the code", (unsigned long)main >= f[26] && (unsigned long)main < f[27], "main %#lx, endcode %#lx",
	      (unsigned long)main, (unsigned long)f[27]);
	check("the break starts at or below where it is", f[47] <= (unsigned long)brk_now,
	      "start_brk %#lx, sbrk(0) %#lx", (unsigned long)f[47], (unsigned long)brk_now);

	// A mapping of 256 MiB, 64 MiB of it touched, then unmapped: the peaks keep it.
	struct status before = read_status();
	char *big = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (unsigned long i = 0; i < 64 * MiB; i += page)
		big[i] = 1;
	struct status during = read_status();
	munmap(big, 256 * MiB);
	struct status after = read_status();
	check("VmSize grows by the mapping", during.size - before.size >= 256 * MiB, "grew %lu of %lu",
	      during.size - before.size, 256 * MiB);
	check("RssAnon grows by what was touched", during.anon - before.anon >= 64 * MiB, "grew %lu of %lu",
	      during.anon - before.anon, 64 * MiB);
	check("VmPeak keeps the mapping", after.peak >= before.size + 256 * MiB, "VmPeak %lu, want at least %lu",
	      after.peak, before.size + 256 * MiB);
	check("VmHWM keeps what was touched", after.hwm >= before.rss + 60 * MiB, "VmHWM %lu, want at least %lu",
	      after.hwm, before.rss + 60 * MiB);
	check("VmSize shrinks back", after.size < before.size + MiB, "VmSize %lu, before %lu", after.size, before.size);

	// Shared anonymous memory, touched: shared memory, not anonymous.
	char *shared = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mmap shared");
		return 1;
	}
	struct status s0 = read_status();
	memset(shared, 1, 8 * MiB);
	struct status s1 = read_status();
	check("RssShmem counts shared anonymous memory", s1.shmem - s0.shmem >= 8 * MiB && s1.anon - s0.anon < MiB,
	      "RssShmem grew %lu, RssAnon %lu", s1.shmem - s0.shmem, s1.anon - s0.anon);

	// The obsolete signal fields of stat: pending, blocked, ignored, caught.
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sa.sa_handler = (void (*)(int))abort; // any handler: caught
	sigaction(SIGUSR1, &sa, NULL);
	stat_fields(f);
	unsigned long bit[32];
	for (int i = 1; i < 32; i++)
		bit[i] = 1UL << (i - 1);
	check("stat's pending signals", f[31] == bit[SIGHUP], "pending %#lx, want %#lx", (unsigned long)f[31], bit[SIGHUP]);
	check("stat's blocked signals", f[32] == (bit[SIGHUP] | bit[SIGUSR2]), "blocked %#lx, want %#lx",
	      (unsigned long)f[32], bit[SIGHUP] | bit[SIGUSR2]);
	check("stat's ignored signals", (f[33] & bit[SIGPIPE]) && !(f[33] & bit[SIGUSR1]), "ignored %#lx, SIGPIPE %#lx",
	      (unsigned long)f[33], bit[SIGPIPE]);
	check("stat's caught signals", f[34] == bit[SIGUSR1], "caught %#lx, want %#lx", (unsigned long)f[34],
	      bit[SIGUSR1]);
	printf("failures: %d\n", failures);
	return failures != 0;
}
