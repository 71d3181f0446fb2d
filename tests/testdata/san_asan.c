/* san_asan: a program built with gcc -fsanitize=address (LeakSanitizer on, as by default
 * on x86-64), in one of five modes (argv[1]):
 *   clean      allocates, uses and frees memory; ASan finds nothing, exit 0
 *   overflow   writes one byte past a 16-byte heap block: ASan's heap-buffer-overflow
 *   uaf        reads a freed block: heap-use-after-free
 *   leak       loses three blocks: LeakSanitizer reports them at exit (status 1)
 *   threads    loses a block while two threads run, one computing and one blocked in
 *              read(2); LeakSanitizer's tracer stops both at exit and reports the leak
 *   fork       forks a child that writes to a heap block, then runs system(3)
 *              (posix_spawn, a vfork), each child with ASan's terabytes of shadow
 * Each mode prints what it did to stdout first. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;
static int fds[2];
void *volatile sink;

static void *busy(void *arg)
{
	char *kept = malloc(48); /* reachable only from this thread */
	strcpy(kept, "busy");
	while (!stop)
		__asm__ volatile("" ::"r"(kept) : "memory");
	free(kept);
	return arg;
}

static void *blocked(void *arg)
{
	char c, *kept = malloc(40);
	if (read(fds[0], &c, 1) == 1)
		kept[0] = c;
	free(kept);
	return arg;
}

/* lose allocates n blocks of size bytes and drops every pointer to them. */
static void __attribute__((noinline)) lose(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(size);
		memset(sink, i, size);
	}
	sink = 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";
	setvbuf(stdout, NULL, _IONBF, 0); /* ASan ends the process without flushing stdio */
	if (strcmp(mode, "clean") == 0) {
		char *p = malloc(64);
		strcpy(p, "hello from asan");
		printf("%s, %zu bytes\n", p, strlen(p));
		free(p);
		return 0;
	}
	if (strcmp(mode, "overflow") == 0) {
		char *p = malloc(16);
		printf("writing p[16] of a 16-byte block\n");
		p[14 + argc] = 1; /* argc is 2 */
		free(p);
		return 0;
	}
	if (strcmp(mode, "uaf") == 0) {
		int *p = malloc(4 * sizeof *p);
		int *volatile q = p; /* read after the free through a copy gcc cannot see */
		p[argc] = 7;
		free(p);
		printf("reading a freed block\n");
		return q[argc];
	}
	if (strcmp(mode, "leak") == 0) {
		lose(3, 100);
		printf("lost 3 blocks of 100 bytes\n");
		return 0;
	}
	if (strcmp(mode, "threads") == 0) {
		pthread_t t1, t2;
		if (pipe(fds) != 0 || pthread_create(&t1, NULL, busy, NULL) != 0 ||
		    pthread_create(&t2, NULL, blocked, NULL) != 0)
			return 2;
		usleep(50000);
		lose(1, 1000);
		printf("lost 1 block of 1000 bytes with two threads running\n");
		exit(0); /* the threads still run while LeakSanitizer checks */
	}
	if (strcmp(mode, "fork") == 0) {
		char *p = malloc(32);
		pid_t pid = fork();
		if (pid == 0) {
			strcpy(p, "child");
			printf("%s wrote its copy\n", p);
			free(p);
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 3;
		printf("child exited %d\n", WEXITSTATUS(st));
		free(p);
		return system("echo from system") == 0 ? 0 : 4;
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
