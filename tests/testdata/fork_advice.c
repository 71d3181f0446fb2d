/*
 * fork_advice.c — madvise(2)'s fork advice: a fork's child has no MADV_DONTFORK region
 * (touching it is SIGSEGV) and a MADV_WIPEONFORK region zero-filled, the parent's
 * contents untouched; the child's region keeps the advice for its own fork; after
 * MADV_DOFORK and MADV_KEEPONFORK a child gets the contents again. Regions of a page and
 * of 16 MiB (filled: the large ones go another way in a fork that copies lazily). A
 * vfork child shares its parent's memory, advice or not: it reads the contents.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char *region(size_t len, int advice)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 7, len);
	if (madvise(p, len, advice) != 0)
		perror("madvise");
	return p;
}

/* sum adds a byte of every 64th page, the last byte among them. */
static int sum(const char *p, size_t len)
{
	int s = 0;
	for (size_t i = 0; i < len; i += 64 * 4096)
		s += p[i];
	return s + p[len - 1];
}

static void report(const char *what, int st)
{
	if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	fflush(stdout);
}

int main(void)
{
	const size_t big = 16 << 20;
	char *dont = region(4096, MADV_DONTFORK), *wipe = region(4096, MADV_WIPEONFORK);
	char *dontBig = region(big, MADV_DONTFORK), *wipeBig = region(big, MADV_WIPEONFORK);
	char *plain = region(big, MADV_NORMAL);
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: wiped page %d, wiped 16 MiB sum %d, plain 16 MiB sum %d\n", wipe[0], sum(wipeBig, big), sum(plain, big));
		wipe[0] = 9;
		fflush(stdout);
		pid_t g = fork();
		if (g == 0) {
			printf("grandchild: wiped page %d\n", wipe[0]);
			fflush(stdout);
			_exit(0);
		}
		waitpid(g, &st, 0);
		printf("child: wiped page after its fork %d\n", wipe[0]);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	report("child", st);
	if ((pid = fork()) == 0)
		_exit(dont[0]);
	waitpid(pid, &st, 0);
	report("child touching the DONTFORK page", st);
	if ((pid = fork()) == 0)
		_exit(dontBig[big / 2]);
	waitpid(pid, &st, 0);
	report("child touching the DONTFORK 16 MiB", st);
	printf("parent: %d %d %d %d\n", dont[0], wipe[0], sum(dontBig, big), sum(wipeBig, big));
	fflush(stdout);
	if ((pid = vfork()) == 0)
		_exit(dont[0] + wipe[0]);
	waitpid(pid, &st, 0);
	report("vfork child reading both pages", st);
	madvise(dont, 4096, MADV_DOFORK);
	madvise(wipe, 4096, MADV_KEEPONFORK);
	if ((pid = fork()) == 0)
		_exit(dont[0] + wipe[0]);
	waitpid(pid, &st, 0);
	report("child after DOFORK and KEEPONFORK", st);
	return 0;
}
