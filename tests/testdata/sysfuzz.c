// sysfuzz SEED [N]: makes N (default 3000) random syscalls, chosen from SEED alone, with
// wild arguments, and ignores what they return; exits 0 when it gets to the end.
//
// The numbers are 0..460 and some larger ones (ENOSYS on Linux); the arguments are random
// 64-bit values, small integers, -1, sizes near the limits, pointers into a scratch buffer
// (between guard pages, refilled before each call, so that nothing a call leaves there
// steers a later one), pointers to unmapped memory and, for the memory calls, addresses
// in a region of its own. It leaves out what would end or stop the process, block it,
// reach other processes or harm the machine (see skip and fix below): its descriptor
// arguments 0..31 are all its own regular files, directories, memfds and O_PATH
// descriptors (2 stays the stderr it was given: run it with stderr on a pipe or a file),
// and its path strings never hold '/' or '.', so they stay in the working directory.
// Run it in an empty directory of its own: it creates files there.
//
// Natively it runs with the powers of whoever starts it, and a pointer into memory a call
// has written (getcwd's, readlink's answer, in the memory region) can name any path: run
// as root with seeds from 601 on and 20,000 calls each, it changed the mode and owner of the
// host's "/" and made a directory there (seed 680 does it to the root golos gives it). Try other seeds or counts natively only as an unprivileged
// user, or under golos --root DIR --sandbox, where "/" is DIR; TestSysFuzz's are checked.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSLOTS 32                   // descriptors 0..31: the small integers
#define SCRATCH_SIZE (16 * 1024)
#define MMREG_PAGES 64
#define PAGE 4096UL
#define SCRATCH_HINT 0x5a5a5a000000UL // no byte of it is '.' or '/'

static uint64_t rng;
static unsigned char *scratch;
static unsigned char *mmreg;
static uint64_t brk0;
static struct { long tv_sec, tv_nsec; } zero_ts;

static uint64_t next(void)
{
	// xorshift64*
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static long raw(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static int badbyte(uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		if ((v & 0xff) == '.' || (v & 0xff) == '/')
			return 1;
	return 0;
}

// scratchptr is a pointer into the scratch buffer none of whose bytes is '.' or '/'.
static uint64_t scratchptr(void)
{
	for (int i = 0; i < 16; i++) {
		uint64_t p = (uint64_t)scratch + next() % SCRATCH_SIZE;
		if (next() % 2)
			p &= ~7UL;
		if (!badbyte(p))
			return p;
	}
	return (uint64_t)scratch;
}

static void refill(void)
{
	uint64_t *w = (uint64_t *)scratch;
	for (size_t i = 0; i < SCRATCH_SIZE / 8; i++) {
		uint64_t r = next(), v;
		switch (r % 10) {
		case 0: case 1: case 2: case 3: case 4:
			v = next();
			for (int k = 0; k < 64; k += 8) {
				unsigned char c = v >> k;
				if (c == '.' || c == '/')
					v ^= (uint64_t)0x40 << k;
			}
			break;
		case 5: case 6:
			v = scratchptr();
			break;
		case 7: case 8:
			v = (r >> 8) % NSLOTS;
			break;
		default:
			v = 0;
		}
		w[i] = v;
	}
}

static uint64_t unmapped(void)
{
	static const uint64_t addrs[] = {
		0, 0x10, 0x1000, 0x8000000000000000UL, 0xffff800000000000UL, 0xffffffffff600000UL,
		0x7ffffffff000UL, 0xfffffffffffff000UL,
	};
	uint64_t r = next() % (sizeof addrs / sizeof addrs[0] + 2);
	if (r == sizeof addrs / sizeof addrs[0])
		return (uint64_t)scratch - PAGE + next() % PAGE; // the guard page before
	if (r == sizeof addrs / sizeof addrs[0] + 1)
		return (uint64_t)scratch + SCRATCH_SIZE + next() % PAGE; // and after
	return addrs[r];
}

// wild is an argument: no fd argument gets a value in [NSLOTS, 1024), where the
// descriptors the calls themselves create (pipes, sockets, eventfds) would be.
static uint64_t wild(void)
{
	static const uint64_t interesting[] = {
		0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000UL, 0x7fffffffffffffffUL,
		0x8000000000000000UL, (uint64_t)-1, (uint64_t)-2, (uint64_t)-100 /* AT_FDCWD */,
		(uint64_t)-4096, 4096, 65536, 1UL << 20, 1UL << 30, 1UL << 40, 1UL << 47,
		0xfffffffffffff000UL,
	};
	switch (next() % 8) {
	case 0:
		return next();
	case 1: case 2:
		return next() % NSLOTS;
	case 3:
		return interesting[next() % (sizeof interesting / sizeof interesting[0])];
	case 4: case 5:
		return scratchptr();
	case 6:
		return unmapped();
	default:
		return (uint64_t)mmreg + (next() % MMREG_PAGES) * PAGE;
	}
}

static uint64_t slotfd(void)
{
	uint64_t fd;
	do
		fd = next() % NSLOTS;
	while (fd == 2);
	return fd;
}

// mmaddr is an address in the memory region, page-aligned most of the time, and mmlen
// a length from there that stays in it (or one that wraps, which every call refuses).
static uint64_t mmaddr(void)
{
	uint64_t a = (uint64_t)mmreg + (next() % MMREG_PAGES) * PAGE;
	return next() % 8 ? a : a + next() % PAGE;
}

static uint64_t mmlen(uint64_t addr)
{
	uint64_t room = (uint64_t)mmreg + MMREG_PAGES * PAGE - addr;
	switch (next() % 6) {
	case 0:
		return 0;
	case 1:
		return -addr - 0x2000; // addr + len wraps
	default:
		return next() % (room + 1);
	}
}

static uint64_t capped(uint64_t v, uint64_t max) { return v > max ? next() % (max + 1) : v; }

// skip: calls that end, stop or block the process, reach other processes, change its
// identity, limits or way of running, or harm the machine.
static int skip(long nr)
{
	static const short deny[] = {
		34 /* pause */, 15 /* rt_sigreturn */,
		35 /* nanosleep */, 37 /* alarm */, 38 /* setitimer */, 56, 57, 58, 59 /* clone fork vfork execve */,
		60 /* exit */, 62 /* kill */, 29, 30, 31, 64, 65, 66, 67, 68, 69, 70, 71 /* SysV IPC */,
		101 /* ptrace */, 105, 106, 113, 114, 116, 117, 119, 122, 123 /* set*id, setgroups */,
		126 /* capset */, 128 /* rt_sigtimedwait */, 129 /* rt_sigqueueinfo */, 130 /* rt_sigsuspend */,
		133 /* mknod */, 135 /* personality */, 141 /* setpriority */, 142, 144 /* sched_set* */,
		149, 151 /* mlock mlockall */, 153 /* vhangup */, 155 /* pivot_root */, 160 /* setrlimit */,
		161 /* chroot */, 162 /* sync */, 163 /* acct */, 164 /* settimeofday */, 159 /* adjtimex */,
		165, 166 /* mount umount2 */, 167, 168 /* swapon swapoff */, 169 /* reboot */, 170, 171 /* hostname */,
		172, 173 /* iopl ioperm */, 175, 176 /* modules */, 179 /* quotactl */, 103 /* syslog */,
		200 /* tkill */, 202 /* futex */, 203 /* sched_setaffinity */, 208 /* io_getevents */,
		216 /* remap_file_pages */, 220 /* semtimedop */, 222, 223 /* timer_create timer_settime */,
		227 /* clock_settime */, 230 /* clock_nanosleep */, 231 /* exit_group */, 234 /* tgkill */,
		240, 241, 242, 243, 244, 245 /* mq_* */, 246 /* kexec_load */, 248, 249, 250 /* keys */,
		251 /* ioprio_set */, 256 /* migrate_pages */, 259 /* mknodat */, 272 /* unshare */,
		279 /* move_pages */, 297 /* rt_tgsigqueueinfo */, 298 /* perf_event_open */,
		300, 301 /* fanotify */, 302 /* prlimit64 */, 305 /* clock_adjtime */, 306 /* syncfs */,
		308 /* setns */, 310, 311 /* process_vm_* */, 313 /* finit_module */, 314 /* sched_setattr */,
		317 /* seccomp */, 320 /* kexec_file_load */, 321 /* bpf */, 322 /* execveat */, 325 /* mlock2 */,
		333 /* io_pgetevents */, 335 /* uretprobe: SIGILL outside a uretprobe */, 424 /* pidfd_send_signal */,
		425, 426, 427 /* io_uring */, 428, 429, 430, 431, 432, 433 /* mount API */, 434 /* pidfd_open */,
		435 /* clone3 */, 438 /* pidfd_getfd */, 440 /* process_madvise */, 442 /* mount_setattr */,
		443 /* quotactl_fd */, 448 /* process_mrelease */, 449 /* futex_waitv */, 454, 455, 456 /* futex_* */,
		134 /* uselib */,
	};
	for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
		if (deny[i] == nr)
			return 1;
	return 0;
}

static long last_nr;
static unsigned long ncalls;

// repair puts one of its own files back on each descriptor 0..31 (but 2) that a close,
// dup2, dup3 or close_range has taken away, so that no pipe or socket a later call
// creates lands there; dup2 needs no free descriptor, even at the limit.
static void repair(void)
{
	long live = -1;
	for (long fd = 0; fd < NSLOTS && live < 0; fd++)
		if (fd != 2 && raw(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0) >= 0)
			live = fd;
	for (long fd = 0; fd < NSLOTS; fd++) {
		if (fd == 2 || raw(SYS_fcntl, fd, F_GETFD, 0, 0, 0, 0) >= 0)
			continue;
		if (live >= 0) {
			raw(SYS_dup2, live, fd, 0, 0, 0, 0);
			continue;
		}
		long nfd = raw(SYS_openat, AT_FDCWD, (long)"repaired", O_RDWR | O_CREAT, 0600, 0, 0);
		if (nfd >= 0 && nfd != fd) {
			raw(SYS_dup2, nfd, fd, 0, 0, 0, 0);
			raw(SYS_close, nfd, 0, 0, 0, 0, 0);
		}
		live = fd;
	}
}

static void one(void)
{
	long nr;
	uint64_t r = next() % 100;
	if (r < 92)
		nr = next() % 461;
	else if (r < 96)
		nr = 461 + next() % 600;
	else if (r < 99)
		// high bits set; the low 32 bits (all Linux looks at) no syscall, not x32's
		nr = (long)((next() << 32) | (1024 + next() % 0x3ffffc00));
	else
		nr = -1;
	if (skip(nr))
		return;
	uint64_t a[6];
	for (int i = 0; i < 6; i++)
		a[i] = wild();

	switch (nr) {
	case 3: /* close */
		a[0] = slotfd();
		break;
	case 33: /* dup2 */
	case 292: /* dup3 */
		a[1] = next() % 4 ? slotfd() : 1024 + next() % 64;
		break;
	case 436: /* close_range */
		a[0] = 3 + next() % 40;
		break;
	case 7: /* poll */
		a[2] = 0;
		break;
	case 23: /* select */
		a[4] = (uint64_t)&zero_ts;
		break;
	case 270: /* pselect6 */
		a[4] = (uint64_t)&zero_ts;
		break;
	case 271: /* ppoll */
		a[2] = (uint64_t)&zero_ts;
		break;
	case 232: /* epoll_wait */
	case 281: /* epoll_pwait */
		a[3] = 0;
		break;
	case 441: /* epoll_pwait2 */
		a[3] = (uint64_t)&zero_ts;
		break;
	case 73: /* flock */
		a[1] |= 4; /* LOCK_NB */
		break;
	case 72: { /* fcntl */
		uint32_t cmd = a[1];
		if (cmd == 1024 /* F_SETLEASE */ || cmd == 1026 /* F_NOTIFY */ || cmd == 8 /* F_SETOWN */ ||
		    cmd == 10 /* F_SETSIG */ || cmd == 15 /* F_SETOWN_EX */ || cmd == 38 /* F_OFD_SETLKW */)
			a[1] = F_GETFL;
		break;
	}
	case 157: { /* prctl */
		uint32_t op = a[0];
		if (op == 22 /* SECCOMP */ || op == 26 /* TSC */ || op == 35 /* MM */ ||
		    op == 59 /* SYSCALL_USER_DISPATCH */ || op == 65 /* MDWE */)
			a[0] = 16; /* PR_GET_NAME */
		break;
	}
	case 158: { /* arch_prctl */
		uint32_t code = a[0];
		if (code == 0x1002 /* SET_FS */ || code == 0x1012 /* SET_CPUID */ || (code >= 0x2000 && code < 0x6000))
			a[0] = 0x1003; /* ARCH_GET_FS */
		break;
	}
	case 12: /* brk: grows it, never below where it was */
		a[0] = next() % 3 ? brk0 + next() % (16 << 20) : 0;
		break;
	case 9: /* mmap */
		a[3] &= ~(uint64_t)(MAP_POPULATE | MAP_LOCKED);
		if (a[3] & (MAP_FIXED | 0x100000 /* MAP_FIXED_NOREPLACE */)) {
			a[0] = mmaddr();
			a[1] = mmlen(a[0]);
		} else {
			a[1] = capped(a[1], 1UL << 32);
		}
		break;
	case 11: /* munmap */
	case 10: /* mprotect */
	case 26: /* msync */
	case 237: /* mbind */
	case 329: /* pkey_mprotect */
	case 450: /* set_mempolicy_home_node */
		a[0] = mmaddr();
		a[1] = mmlen(a[0]);
		break;
	case 28: /* madvise */
		a[0] = mmaddr();
		a[1] = mmlen(a[0]);
		if ((uint32_t)a[2] >= 100) /* MADV_HWPOISON, MADV_SOFT_OFFLINE */
			a[2] = 0;
		break;
	case 25: /* mremap */
		a[0] = mmaddr();
		a[1] = mmlen(a[0]);
		a[3] &= 7; /* MAYMOVE FIXED DONTUNMAP */
		if (a[3] & 2) {
			a[4] = mmaddr();
			a[2] = capped(a[2], (uint64_t)mmreg + MMREG_PAGES * PAGE - a[4]);
		} else {
			a[2] = capped(a[2], 1UL << 32);
		}
		break;
	case 77: /* ftruncate */
	case 76: /* truncate */
		a[1] = capped(a[1], 16 << 20);
		break;
	case 285: /* fallocate */
		a[3] = capped(a[3], 1 << 20);
		break;
	case 40: /* sendfile */
		a[3] = capped(a[3], 1 << 20);
		break;
	case 275: /* splice */
	case 326: /* copy_file_range */
		a[4] = capped(a[4], 1 << 20);
		break;
	case 276: /* tee */
		a[2] = capped(a[2], 1 << 20);
		break;
	}
	refill();
	last_nr = nr;
	raw(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	ncalls++;
	if (nr == 3 || nr == 33 || nr == 292 || nr == 436)
		repair();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sysfuzz SEED [N]\n");
		return 2;
	}
	rng = strtoull(argv[1], 0, 0) * 0x9e3779b97f4a7c15ULL + 1;
	long n = argc > 2 ? atol(argv[2]) : 3000;

	unsigned char *m = mmap((void *)(SCRATCH_HINT - PAGE), SCRATCH_SIZE + 2 * PAGE, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS | 0x100000 /* MAP_FIXED_NOREPLACE */, -1, 0);
	if (m == MAP_FAILED)
		m = mmap(0, SCRATCH_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	// The memory region has guard pages too: a call that writes past its end must fault
	// there, not reach whatever else is mapped next to it (under golos, golos's memory).
	unsigned char *g = mmap(0, (MMREG_PAGES + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mmreg = g + PAGE;
	if (m == MAP_FAILED || g == MAP_FAILED || mprotect(m + PAGE, SCRATCH_SIZE, PROT_READ | PROT_WRITE) ||
	    mprotect(mmreg, MMREG_PAGES * PAGE, PROT_READ | PROT_WRITE)) {
		perror("sysfuzz: mmap");
		return 2;
	}
	scratch = m + PAGE;
	brk0 = raw(SYS_brk, 0, 0, 0, 0, 0, 0);

	// Descriptors 0..31 but 2: files of its own, none that can block.
	for (int fd = 0; fd < NSLOTS; fd++) {
		if (fd == 2)
			continue;
		char name[16];
		int f;
		snprintf(name, sizeof name, "%c%d", fd % 8 == 5 ? 'd' : 'f', fd);
		switch (fd % 8) {
		case 5:
			mkdir(name, 0700);
			f = open(name, O_RDONLY | O_DIRECTORY);
			break;
		case 6:
			f = memfd_create(name, 0);
			break;
		case 7:
			close(open(name, O_RDWR | O_CREAT, 0600));
			f = open(name, O_PATH);
			break;
		default:
			f = open(name, O_RDWR | O_CREAT, 0600);
		}
		if (f < 0 || (f != fd && (dup2(f, fd) < 0 || close(f) < 0))) {
			perror("sysfuzz: setting up descriptors");
			return 2;
		}
	}
	for (long i = 0; i < n; i++)
		one();
	raw(SYS_exit_group, 0, 0, 0, 0, 0, 0);
	return 0;
}
