/*
 * proc_other.c — /proc/PID/… of another process shows that process as it sees itself:
 * a child with a second thread and a mapping of its own reads its /proc/self/maps,
 * smaps_rollup's Rss line count, status's Threads, and lists /proc/self/fd and
 * /proc/self/task, and sends what it read to the parent through a pipe; the parent reads
 * the same files under /proc/CHILD/ and says whether each is the same. The child waits
 * (its maps unchanged) until the parent is done.
 *
 * Exit status: the number of files that differ.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (1 << 20)

/* slurp reads path into buf (NUL-terminated), without allocating: the child's maps must
 * not change once it has read them. */
static void slurp(const char *path, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	buf[0] = 0;
	if (fd < 0)
		return;
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fd);
}

/* listdir writes the numbered entries of dir, sorted numerically, into buf. */
static int cmpint(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}
static void listdir(const char *dir, char *buf, size_t size)
{
	int v[1024], n = 0;
	DIR *d = opendir(dir);
	buf[0] = 0;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && n < 1024)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			v[n++] = atoi(e->d_name);
	/* The listing's own descriptor is the lister's, in its own fd directory only. */
	int skip = strncmp(dir, "/proc/self/", 11) == 0 ? dirfd(d) : -1;
	qsort(v, n, sizeof v[0], cmpint);
	for (int i = 0; i < n; i++)
		if (v[i] != skip)
			snprintf(buf + strlen(buf), size - strlen(buf), "%d ", v[i]);
	closedir(d);
}

/* line keeps, of text, the line starting with key. */
static void line(char *text, const char *key)
{
	char *s = strstr(text, key);
	if (!s) {
		text[0] = 0;
		return;
	}
	char *e = strchr(s, '\n');
	memmove(text, s, e ? (size_t)(e - s) : strlen(s));
	text[e ? e - s : (long)strlen(s)] = 0;
}

/* maps last: the others' reading (opendir) allocates memory. */
static const char *files[] = {"status", "fd", "task", "cmdline", "maps"};
#define NFILES 5

static void read_view(const char *dir, char out[NFILES][BIG / 8], int which)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, files[which]);
	switch (which) {
	case 0:
		slurp(path, out[which], BIG / 8);
		line(out[which], "Threads:");
		break;
	case 1:
	case 2:
		listdir(path, out[which], BIG / 8);
		break;
	default:
		slurp(path, out[which], BIG / 8);
		break;
	}
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	int up[2], down[2];
	if (pipe(up) || pipe(down)) {
		perror("pipe");
		return 100;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 100;
	}
	static char mine[NFILES][BIG / 8], theirs[NFILES][BIG / 8];
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		pthread_t th;
		if (pthread_create(&th, NULL, idle, NULL) != 0)
			_exit(100);
		void *m = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(100);
		for (int i = 0; i < NFILES; i++)
			read_view("/proc/self", mine, i);
		for (int i = 0; i < NFILES; i++)
			if (write(up[1], mine[i], BIG / 8) != BIG / 8)
				_exit(100);
		char c;
		read(down[0], &c, 1);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	for (int i = 0; i < NFILES; i++) {
		size_t got = 0;
		ssize_t n;
		while (got < BIG / 8 && (n = read(up[0], mine[i] + got, BIG / 8 - got)) > 0)
			got += n;
		if (got != BIG / 8) {
			printf("the child's view did not come\n");
			return 100;
		}
	}
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d", pid);
	int differ = 0;
	for (int i = 0; i < NFILES; i++) {
		read_view(dir, theirs, i);
		int same = strcmp(mine[i], theirs[i]) == 0;
		printf("%s: %s\n", files[i], same ? "the child's own view" : "differs");
		if (!same) {
			printf("  the child's:\n%s\n  the parent's:\n%s\n", mine[i], theirs[i]);
			differ++;
		}
	}
	printf("threads: %s\n", mine[0]);
	int tasks = 0;
	for (char *s = mine[2]; *s; s++)
		tasks += *s == ' ';
	printf("task entries: %d\n", tasks);
	close(down[1]);
	int st;
	waitpid(pid, &st, 0);
	printf("child exited %d\n", WEXITSTATUS(st));
	return differ;
}
