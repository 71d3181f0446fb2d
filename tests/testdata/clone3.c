/*
 * clone3.c — clone3(2) with every struct clone_args size Linux accepts: 64 bytes
 * (CLONE_ARGS_SIZE_VER0), 72, 80 (VER1, set_tid), 88 (VER2, cgroup), larger ones whose
 * extra bytes are zero, and the sizes it refuses (under 64: EINVAL; extra bytes not zero,
 * or more than a page: E2BIG), plus bad set_tid combinations (EINVAL) and a bad pointer
 * (EFAULT). Each accepted call starts a thread that sets a flag and exits; the parent
 * waits for it through CLONE_CHILD_CLEARTID. (CLONE_SETTLS gives the thread the
 * parent's own thread pointer: golos does not read a thread's FS to copy it.)
 * The sizes and the bad pointer again for a fork-like clone3 (exit_signal SIGCHLD), whose
 * child exits at once with status 42; a struct at the end of the readable memory, whose
 * size reaches past it or not; and clone3's own checks of the fields (an exit_signal
 * with high bits, CLONE_DETACHED, a stack without a size and a size without a stack).
 */
#define FUTEX_WAIT 0
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_THREAD 0x00010000
#define CLONE_SYSVSEM 0x00040000
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_SETTLS 0x00080000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_DETACHED 0x00400000

struct args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
	uint64_t extra[512];
};

static volatile int child_ran;
static volatile int ctid;

/* The child runs on its own stack with the parent's FS: it only stores to a global and
 * makes raw syscalls. */
static long raw_clone3(void *a, size_t size)
{
	long r;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "movl $1, child_ran(%%rip)\n\t"
			 "mov $60, %%eax\n\t" /* exit(0): this thread only */
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(r)
			 : "a"((long)SYS_clone3), "D"(a), "S"(size)
			 : "rcx", "r11", "memory");
	return r;
}

static void try(const char *what, struct args *a, size_t size)
{
	child_ran = 0;
	ctid = 0;
	long r = raw_clone3(a, size);
	if (r < 0) {
		printf("%s: %s\n", what, ename(-r));
		return;
	}
	while (ctid != 0)
		syscall(SYS_futex, &ctid, FUTEX_WAIT, ctid, NULL, NULL, 0);
	printf("%s: thread ran %s\n", what, child_ran ? "yes" : "no");
}

/* The child of a fork-like clone3 leaves at once by exit_group(42). */
static long raw_fork3(void *a, size_t size)
{
	long r;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $231, %%eax\n\t"
			 "mov $42, %%edi\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(r)
			 : "a"((long)SYS_clone3), "D"(a), "S"(size)
			 : "rcx", "r11", "memory");
	return r;
}

static void try_fork(const char *what, void *a, size_t size)
{
	long r = raw_fork3(a, size);
	if (r < 0) {
		printf("fork, %s: %s\n", what, ename(-r));
		return;
	}
	int st;
	if (waitpid(r, &st, 0) != r) {
		printf("fork, %s: waitpid failed\n", what);
		return;
	}
	if (WIFEXITED(st))
		printf("fork, %s: child exited %d\n", what, WEXITSTATUS(st));
	else
		printf("fork, %s: child status %#x\n", what, st);
}

static void thread_args(struct args *a, char *stack)
{
	memset(a, 0, sizeof *a);
	a->flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		   CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	a->tls = (uint64_t)__builtin_thread_pointer();
	a->child_tid = a->parent_tid = (uint64_t)&ctid;
	a->stack = (uint64_t)stack;
	a->stack_size = 1 << 16;
}

static void fork_args(struct args *a)
{
	memset(a, 0, sizeof *a);
	a->exit_signal = SIGCHLD;
}

int main(void)
{
	static struct args a;
	char *stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char name[64];
	size_t sizes[] = {56, 63, 64, 65, 72, 80, 87, 88, 96, 4096, 4097};
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		memset(&a, 0, sizeof a);
		a.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			  CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
		a.tls = (uint64_t)__builtin_thread_pointer();
		a.child_tid = a.parent_tid = (uint64_t)&ctid;
		a.stack = (uint64_t)stack;
		a.stack_size = 1 << 16;
		snprintf(name, sizeof name, "size %zu", sizes[i]);
		try(name, &a, sizes[i]);
	}
	a.extra[0] = 1; /* a byte past 88 that is not zero */
	try("size 96, extra byte set", &a, 96);
	a.extra[0] = 0;
	a.cgroup = 0; /* read as zero when the size leaves it out */
	a.set_tid = (uint64_t)&ctid;
	try("set_tid without set_tid_size", &a, 88);
	try("set_tid left out by size 64", &a, 64);
	a.set_tid = 0;
	a.set_tid_size = 1;
	try("set_tid_size without set_tid", &a, 80);
	a.set_tid_size = 0;
	a.exit_signal = 17;
	try("thread with an exit signal", &a, 88);
	a.exit_signal = 0;
	try("bad pointer", (struct args *)8, 88);

	size_t fsizes[] = {56, 64, 80, 88, 96, 4096, 4097};
	for (unsigned i = 0; i < sizeof fsizes / sizeof fsizes[0]; i++) {
		fork_args(&a);
		snprintf(name, sizeof name, "size %zu", fsizes[i]);
		try_fork(name, &a, fsizes[i]);
	}
	a.extra[0] = 1;
	try_fork("size 96, extra byte set", &a, 96);
	fork_args(&a);
	try_fork("bad pointer, size 64", (struct args *)8, 64);
	try_fork("bad pointer, size 96", (struct args *)8, 96);
	a.exit_signal = SIGCHLD | 1ull << 32;
	try_fork("exit_signal with high bits", &a, 88);
	a.exit_signal = 65;
	try_fork("exit_signal 65", &a, 88);
	fork_args(&a);
	a.flags = CLONE_DETACHED;
	try_fork("CLONE_DETACHED", &a, 88);
	fork_args(&a);
	a.stack = (uint64_t)stack;
	try_fork("stack without stack_size", &a, 88);
	fork_args(&a);
	a.stack_size = 1 << 16;
	try_fork("stack_size without stack", &a, 88);

	/* The struct at the end of readable memory: only the size given is read, and a
	 * size reaching into the next page, which is not readable, is EFAULT. */
	char *edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(edge + 4096, 4096, PROT_NONE);
	size_t ends[] = {64, 88};
	size_t esizes[] = {64, 80, 88, 96};
	for (unsigned i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		for (unsigned j = 0; j < sizeof esizes / sizeof esizes[0]; j++) {
			void *at = edge + 4096 - ends[i];
			snprintf(name, sizeof name, "%zu readable bytes, size %zu", ends[i], esizes[j]);
			thread_args(&a, stack);
			memcpy(at, &a, ends[i]);
			try(name, at, esizes[j]);
			fork_args(&a);
			memcpy(at, &a, ends[i]);
			try_fork(name, at, esizes[j]);
		}
	}
	return 0;
}
