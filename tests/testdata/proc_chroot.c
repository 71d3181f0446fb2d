/* chroot(2) and what it confines: run as root from a directory H holding the tree
 * H/tree (hello, sub/file, abs -> /hello, bin/inner: this program again, open/ and
 * locked/ 0700), as `proc_chroot tree`. It checks chroot's errors (EFAULT, ENOENT,
 * ENOTDIR, and as another user EACCES before EPERM), chroots into the tree, and then
 * looks at getcwd(2) while the working directory is outside the root, relative and
 * absolute paths, "..", an absolute symlink, /proc's absence, a unix socket, a fork, an
 * execve (also one made while another thread runs) and a posix_spawn of bin/inner, and
 * a chroot nested in a child: each line the
 * same natively and under golos. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

extern char **environ;

static const char *err(long r)
{
	static char b[64];
	if (r >= 0) {
		snprintf(b, sizeof b, "ok");
		return b;
	}
	snprintf(b, sizeof b, "%s", ename(errno));
	return b;
}

static void cat(const char *what, const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s: open %s: %s\n", what, path, err(-1));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	printf("%s: %s: %s\n", what, path, buf);
}

static void cwd(const char *what)
{
	char buf[4096];
	long r = syscall(SYS_getcwd, buf, sizeof buf);
	printf("%s: getcwd %s %s\n", what, err(r), r >= 0 ? buf : "");
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *what, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("%s: opendir %s: %s\n", what, dir, err(-1));
		return;
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmpstr);
	printf("%s: ls %s:", what, dir);
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static void inside(const char *what)
{
	char buf[256];
	struct stat a, b;
	cwd(what);
	cat(what, "/hello");
	cat(what, "/../../hello");
	cat(what, "/abs");
	cat(what, "/sub/../../hello");
	ssize_t n = readlink("/abs", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("%s: readlink /abs %s %s\n", what, err(n), buf);
	printf("%s: / and /.. same: %d\n", what, stat("/", &a) == 0 && stat("/..", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	n = readlink("/proc/self/root", buf, sizeof buf - 1);
	printf("%s: readlink /proc/self/root %s\n", what, err(n));
	printf("%s: access /tree/hello %s\n", what, err(access("/tree/hello", F_OK)));
	list(what, "/");
}

static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else
		printf("%s: status 0x%x\n", what, st);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "inner") == 0) {
		inside(argc > 2 ? argv[2] : "inner");
		return 3;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: proc_chroot TREE | inner WHAT\n");
		return 2;
	}
	const char *tree = argv[1];
	char path[4096], old[4096];
	if (!getcwd(old, sizeof old))
		return 2;
	int outside = open(".", O_PATH | O_DIRECTORY); /* H, for the way out at the end */

	/* The errors, in fs/open.c's order: the lookup, then permission, then the
	 * capability. */
	printf("chroot NULL: %s\n", err(syscall(SYS_chroot, 0L)));
	printf("chroot bad pointer: %s\n", err(syscall(SYS_chroot, 8L)));
	printf("chroot empty: %s\n", err(chroot("")));
	snprintf(path, sizeof path, "%s/missing", tree);
	printf("chroot missing: %s\n", err(chroot(path)));
	snprintf(path, sizeof path, "%s/hello", tree);
	printf("chroot a file: %s\n", err(chroot(path)));
	snprintf(path, sizeof path, "%s/hello/x", tree);
	printf("chroot below a file: %s\n", err(chroot(path)));
	snprintf(path, sizeof path, "%s/abs/", tree);
	printf("chroot a symlink to a file: %s\n", err(chroot(path)));
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(tree) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
			printf("as nobody: cannot become nobody\n");
			_exit(1);
		}
		printf("as nobody: chroot open: %s\n", err(chroot("open")));
		printf("as nobody: chroot locked: %s\n", err(chroot("locked")));
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	status("as nobody", st);

	/* Into the tree, the working directory left outside it. */
	printf("chroot tree: %s\n", err(chroot(tree)));
	char buf[4096];
	long r = syscall(SYS_getcwd, buf, sizeof buf);
	if (r > 0 && strncmp(buf, "(unreachable)", 13) == 0 && strcmp(buf + 13, old) == 0)
		printf("getcwd outside the root: (unreachable) and the old path\n");
	else
		printf("getcwd outside the root: %s %s\n", err(r), r > 0 ? buf : "");
	errno = 0;
	printf("glibc getcwd outside the root: %s\n", getcwd(buf, sizeof buf) ? buf : err(-1));
	snprintf(path, sizeof path, "%s/hello", tree);
	cat("relative from outside", path);
	snprintf(path, sizeof path, "%s/sub/../hello", tree);
	cat("relative from outside", path);
	cat("absolute from outside", "/hello");
	if (chdir("/") != 0)
		printf("chdir /: %s\n", err(-1));
	inside("after chdir");
	if (chdir("sub") != 0)
		printf("chdir sub: %s\n", err(-1));
	cwd("in sub");
	cat("in sub", "file");
	cat("in sub", "../hello");
	cat("in sub", "../../../hello");
	if (chdir("/") != 0)
		printf("chdir /: %s\n", err(-1));

	/* A unix socket's path is the root's. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, "/sock");
	unlink("/sock");
	printf("bind /sock: %s\n", err(bind(s, (struct sockaddr *)&sa, sizeof sa)));
	printf("listen: %s\n", err(listen(s, 1)));
	struct stat sst;
	printf("stat /sock is a socket: %d\n", stat("/sock", &sst) == 0 && S_ISSOCK(sst.st_mode));
	pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		printf("child: connect /sock: %s\n", err(connect(c, (struct sockaddr *)&sa, sizeof sa)));
		write(c, "ping", 4);
		_exit(0);
	}
	int a = accept(s, NULL, NULL);
	char m[8] = {0};
	read(a, m, 4);
	printf("accepted: %s\n", m);
	waitpid(pid, &st, 0);
	status("socket child", st);
	close(a);
	close(s);
	unlink("/sock");

	/* A fork's child keeps the root. */
	pid = fork();
	if (pid == 0) {
		inside("fork child");
		_exit(7);
	}
	waitpid(pid, &st, 0);
	status("fork child", st);

	/* An execve keeps it, and names the program inside it. */
	pid = fork();
	if (pid == 0) {
		execl("/bin/inner", "inner", "inner", "exec", (char *)NULL);
		printf("execl: %s\n", err(-1));
		_exit(127);
	}
	waitpid(pid, &st, 0);
	status("exec child", st);

	/* And an execve made while another thread runs (golos starts a new golos then),
	 * from a working directory inside. */
	pid = fork();
	if (pid == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, idle, NULL) != 0 || chdir("/sub") != 0)
			_exit(126);
		execl("/bin/inner", "inner", "inner", "threaded exec", (char *)NULL);
		printf("execl: %s\n", err(-1));
		_exit(127);
	}
	waitpid(pid, &st, 0);
	status("threaded exec child", st);

	/* So does posix_spawn (a vfork). */
	char *sargv[] = {"inner", "inner", "spawn", NULL};
	int e = posix_spawn(&pid, "/bin/inner", NULL, NULL, sargv, environ);
	if (e == 0)
		waitpid(pid, &st, 0);
	printf("posix_spawn: %s\n", e ? ename(e) : "ok"); /* after the child's lines, whenever it ran */
	if (e == 0)
		status("spawned", st);

	/* A chroot inside the chroot, in a child; the parent's root stays. */
	pid = fork();
	if (pid == 0) {
		printf("nested: chroot /sub: %s\n", err(chroot("/sub")));
		cwd("nested");
		if (chdir("/") != 0)
			printf("nested: chdir /: %s\n", err(-1));
		cwd("nested");
		cat("nested", "/file");
		cat("nested", "/../hello");
		list("nested", "/");
		pid_t g = fork();
		if (g == 0) {
			cat("nested grandchild", "/file");
			_exit(0);
		}
		waitpid(g, &st, 0);
		status("nested grandchild", st);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	status("nested", st);
	cat("parent after nested", "/hello");
	printf("chroot / again: %s\n", err(chroot("/")));
	cat("after chroot /", "/hello");

	/* The way out that Linux leaves a process with CAP_SYS_CHROOT: fchdir to a
	 * directory opened outside, and chroot there. */
	printf("fchdir outside: %s\n", err(fchdir(outside)));
	r = syscall(SYS_getcwd, buf, sizeof buf);
	if (r > 0 && strncmp(buf, "(unreachable)", 13) == 0 && strcmp(buf + 13, old) == 0)
		printf("getcwd after fchdir outside: (unreachable) and the old path\n");
	else
		printf("getcwd after fchdir outside: %s %s\n", err(r), r > 0 ? buf : "");
	snprintf(path, sizeof path, "%s/hello", tree);
	cat("relative from outside again", path);
	printf("chroot . (outside): %s\n", err(chroot(".")));
	cwd("out");
	snprintf(path, sizeof path, "/%s/hello", tree);
	cat("out", path);
	printf("out: access /hello: %s\n", err(access("/hello", F_OK)));
	return 0;
}
