/* The children a process has, as its listings show them: with 32 MiB of written memory,
 * whose fork golos serves lazily from a holder (a host child of the parent's golos that
 * the program never made), the parent forks a child that waits on a pipe, then counts its
 * children in /proc/self/task/TID/children, in /proc (each process's stat's ppid) and
 * with ps --ppid, and lets the child go. Natively there is exactly the one child (and
 * system(3)'s shell for ps). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int ppid_of(const char *pid)
{
	char path[300], buf[512];
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	int ppid = -1;
	if (p && sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	return ppid;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	size_t size = 32 << 20;
	char *m = malloc(size);
	if (!m)
		return 1;
	memset(m, 1, size);
	int go[2];
	if (pipe(go) != 0)
		return 1;
	pid_t child = fork();
	if (child == 0) {
		char b;
		close(go[1]);
		read(go[0], &b, 1);
		_exit(m[size / 2] == 1 ? 0 : 1);
	}
	close(go[0]);

	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", gettid());
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	int count = 0, mine = 0;
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
		count++;
		mine += atoi(tok) == child;
	}
	printf("children file: %d entries, the child among them: %d\n", count, mine);

	DIR *d = opendir("/proc");
	struct dirent *e;
	count = mine = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (ppid_of(e->d_name) == getpid()) {
			count++;
			mine += atoi(e->d_name) == child;
		}
	}
	if (d)
		closedir(d);
	printf("/proc: %d processes with this ppid, the child among them: %d\n", count, mine);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "ps -o comm= --ppid %d | sort", getpid());
	printf("ps --ppid:\n");
	if (system(cmd) != 0)
		printf("ps failed\n");

	write(go[1], "x", 1);
	int st;
	waitpid(child, &st, 0);
	printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
