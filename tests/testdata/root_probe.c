/*
 * root_probe.c — makes the file operations named on its command line, one line each.
 *
 * usage: root_probe OP ARGS... [OP ARGS...]...
 *
 * Each operation prints "OP ARGS: RESULT": "ok", an errno name, or what it read. The
 * operations (P a path; every call is the plain one, so that a root's or a volume's
 * rules show as they are):
 *
 *   cwd                 getcwd(3)               argv0      argv[0]
 *   exe                 readlink /proc/self/exe
 *   chdir P             chdir(2)                fchdir P   open(O_DIRECTORY) + fchdir(2)
 *   read P              the first line (60 bytes at most) of the file
 *   ls P                the directory's entries, sorted, without . and ..
 *   stat P / lstat P    type, permission bits, and size of a file
 *   readlink P          readlink(2)
 *   write P TEXT        open(O_WRONLY|O_CREAT|O_TRUNC, 0644) + write TEXT and a newline
 *   append P TEXT       open(O_WRONLY|O_APPEND) + write TEXT and a newline
 *   openw P / openrw P  open(O_WRONLY) / open(O_RDWR) of an existing file
 *   opentrunc P         open(O_RDONLY|O_TRUNC)
 *   creat P             open(O_WRONLY|O_CREAT|O_EXCL, 0644)
 *   tmpfile P           open(P, O_TMPFILE|O_RDWR, 0600)
 *   mkdir P / rmdir P / unlink P / mkfifo P
 *   rename A B / link A B / symlink TARGET P
 *   chmod P MODE        chmod(2), MODE in octal
 *   truncate P LEN      truncate(2)
 *   utime P             utimensat(2) to 2001-09-09 01:46:40 UTC
 *   access P MODE       access(2), MODE a combination of r, w, x
 *   chown P             chown(2) to the file's own owner and group
 *   setxattr P          setxattr(2) user.golos = "1"
 *   fchmod P MODE       open(O_RDONLY) + fchmod(2)
 *   futimens P          open(O_RDONLY) + futimens(3)
 *   fchown P            open(O_RDONLY) + fchown(2) to the file's own owner and group
 *   fsetxattr P         open(O_RDONLY) + fsetxattr(2) user.golos = "1"
 *   chattr P            open(O_RDONLY) + ioctl(2) FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS
 *                       with the flags it read (ioctl_iflags(2): chattr(1)'s call)
 *   fsxattr P           open(O_RDONLY) + ioctl(2) FS_IOC_FSGETXATTR, then
 *                       FS_IOC_FSSETXATTR with the attributes it read
 *   fchownat_empty P    open(O_RDONLY) + fchownat(fd, "", own owner, AT_EMPTY_PATH)
 *   utimensat_empty P   open(O_RDONLY) + utimensat(fd, "", 2001-09-09, AT_EMPTY_PATH)
 *   openat D NAME       open(D, O_RDONLY) + openat(2) of NAME relative to it: its first line
 *   opath P             open(P, O_PATH) + fstat(2): the file's type
 *   openatfd N NAME     openat(2) of NAME relative to descriptor N (0: stdin)
 *   maps P              mmap(2) of the file's first page, then the names of the files
 *                       /proc/self/maps shows, sorted, each once
 *   mapfiles            the targets of the links in /proc/self/map_files, sorted, each once
 *   mounts              the mount points /proc/self/mounts and /proc/self/mountinfo list,
 *                       sorted, each once, but for those below /proc/ (a container's masks
 *                       of /proc files, which a bind mount of /proc does not bring)
 *   getfl P             open(O_RDONLY) + fcntl(F_GETFL), in octal
 *   getflpath P         open(O_PATH), then open(O_PATH|O_NOFOLLOW): each one's
 *                       fcntl(F_GETFL) in octal and fcntl(F_GETFD)
 *   childcwd P          fork(2) a child that enters P and waits; readlink of its
 *                       /proc/PID/cwd and of its /proc/PID/fd/N for the program's own
 *                       file, the targets of its map_files links (as mapfiles), then
 *                       the mount points of its /proc/PID/mounts and mountinfo (as mounts)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "ename.h"

/* linux/fs.h's, which musl-gcc's headers lack. */
#define PROBE_FS_IOC_GETFLAGS 0x80086601
#define PROBE_FS_IOC_SETFLAGS 0x40086602
#define PROBE_FS_IOC_FSGETXATTR 0x801c581f
#define PROBE_FS_IOC_FSSETXATTR 0x401c5820
struct probe_fsxattr {
	uint32_t xflags, extsize, nextents, projid, cowextsize;
	unsigned char pad[8];
};

static void done(int r)
{
	if (r < 0)
		printf("%s\n", ename(errno));
	else
		printf("ok\n");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void do_ls(const char *p)
{
	DIR *d = opendir(p);
	if (!d) {
		printf("%s\n", ename(errno));
		return;
	}
	char *names[1024];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 1024)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmp);
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", names[i]);
	printf(n ? "\n" : "(empty)\n");
}

static void do_stat(const char *p, int nofollow)
{
	struct stat st;
	if ((nofollow ? lstat(p, &st) : stat(p, &st)) != 0) {
		printf("%s\n", ename(errno));
		return;
	}
	const char *type = S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink" : S_ISREG(st.st_mode) ? "file" : "other";
	if (S_ISREG(st.st_mode))
		printf("%s %04o size %lld\n", type, (unsigned)(st.st_mode & 07777), (long long)st.st_size);
	else
		printf("%s %04o\n", type, (unsigned)(st.st_mode & 07777));
}

static void do_read(const char *p, int dirfd)
{
	int fd = openat(dirfd, p, O_RDONLY);
	if (fd < 0) {
		printf("%s\n", ename(errno));
		return;
	}
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		printf("%s\n", ename(errno));
		return;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	printf("\"%.60s\"\n", buf);
}

static void do_write(const char *p, int flags, const char *text)
{
	int fd = open(p, flags, 0644);
	if (fd < 0) {
		printf("%s\n", ename(errno));
		return;
	}
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s\n", text);
	ssize_t w = write(fd, buf, n);
	int e = errno;
	close(fd);
	if (w != n) {
		errno = e;
		printf("write: %s\n", w < 0 ? ename(e) : "short");
		return;
	}
	printf("ok\n");
}

static void do_open(const char *p, int flags, int mode)
{
	int fd = open(p, flags, mode);
	done(fd);
	if (fd >= 0)
		close(fd);
}

/* on_fd opens p read-only and makes call op on the descriptor. */
static void on_fd(const char *op, const char *p, const char *arg)
{
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("open: %s\n", ename(errno));
		return;
	}
	struct stat st;
	fstat(fd, &st);
	int r = -1;
	if (strcmp(op, "fchmod") == 0)
		r = fchmod(fd, strtoul(arg, NULL, 8));
	else if (strcmp(op, "futimens") == 0) {
		struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
		r = futimens(fd, ts);
	} else if (strcmp(op, "fchown") == 0)
		r = fchown(fd, st.st_uid, st.st_gid);
	else if (strcmp(op, "fsetxattr") == 0)
		r = fsetxattr(fd, "user.golos", "1", 1, 0);
	else if (strcmp(op, "chattr") == 0) {
		int flags = 0;
		r = ioctl(fd, PROBE_FS_IOC_GETFLAGS, &flags);
		if (r == 0)
			r = ioctl(fd, PROBE_FS_IOC_SETFLAGS, &flags); /* the same flags: nothing changes */
	} else if (strcmp(op, "fsxattr") == 0) {
		struct probe_fsxattr fa;
		r = ioctl(fd, PROBE_FS_IOC_FSGETXATTR, &fa);
		if (r == 0)
			r = ioctl(fd, PROBE_FS_IOC_FSSETXATTR, &fa);
	}
	else if (strcmp(op, "fchownat_empty") == 0)
		r = fchownat(fd, "", st.st_uid, st.st_gid, AT_EMPTY_PATH);
	else if (strcmp(op, "utimensat_empty") == 0) {
		struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
		r = utimensat(fd, "", ts, AT_EMPTY_PATH);
	}
	int e = errno;
	close(fd);
	errno = e;
	done(r);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* do_maps maps the file at p and prints the names of the files in /proc/self/maps. */
static void do_maps(const char *p)
{
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("open: %s\n", ename(errno));
		return;
	}
	void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		printf("mmap: %s\n", ename(errno));
		return;
	}
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f) {
		printf("/proc/self/maps: %s\n", ename(errno));
		munmap(m, 4096);
		return;
	}
	static char line[4096], *names[256];
	int n = 0;
	while (fgets(line, sizeof line, f) && n < 256) {
		line[strcspn(line, "\n")] = 0;
		char *name = strchr(line, '/');
		if (!name)
			continue;
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen |= strcmp(names[i], name) == 0;
		if (!seen)
			names[n++] = strdup(name);
	}
	fclose(f);
	munmap(m, 4096);
	qsort(names, n, sizeof names[0], cmpstr);
	for (int i = 0; i < n; i++) {
		printf("%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	printf("\n");
}

/* do_mapfiles prints the files the links of /proc/PID/map_files lead to, then end. */
static void do_mapfiles(const char *pid, const char *end)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%s/map_files", pid);
	DIR *d = opendir(dir);
	if (!d) {
		printf("%s\n", ename(errno));
		return;
	}
	static char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256) {
		if (e->d_name[0] == '.')
			continue;
		char p[512], buf[4096];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		ssize_t r = readlink(p, buf, sizeof buf - 1);
		if (r < 0) {
			snprintf(buf, sizeof buf, "%s: %s", e->d_name, ename(errno));
			r = strlen(buf);
		}
		buf[r] = 0;
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen |= strcmp(names[i], buf) == 0;
		if (!seen)
			names[n++] = strdup(buf);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmpstr);
	for (int i = 0; i < n; i++) {
		printf("%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	printf("%s", end);
}

/* do_mounts prints the mount points of /proc/PID/mounts and /proc/PID/mountinfo. */
static void do_mounts(const char *pid)
{
	static char *names[512];
	int n = 0;
	char files[2][64];
	snprintf(files[0], sizeof files[0], "/proc/%s/mounts", pid);
	snprintf(files[1], sizeof files[1], "/proc/%s/mountinfo", pid);
	for (int k = 0; k < 2; k++) {
		FILE *f = fopen(files[k], "r");
		if (!f) {
			printf("%s: %s\n", files[k], ename(errno));
			return;
		}
		char line[4096], mp[4096];
		while (fgets(line, sizeof line, f) && n < 512) {
			int ok = k == 0 ? sscanf(line, "%*s %4095s", mp) : sscanf(line, "%*s %*s %*s %*s %4095s", mp);
			if (ok != 1 || strncmp(mp, "/proc/", 6) == 0)
				continue;
			int seen = 0;
			for (int i = 0; i < n; i++)
				seen |= strcmp(names[i], mp) == 0;
			if (!seen)
				names[n++] = strdup(mp);
		}
		fclose(f);
	}
	qsort(names, n, sizeof names[0], cmpstr);
	for (int i = 0; i < n; i++) {
		printf("%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	printf("\n");
}

/* do_childcwd shows another process's cwd link and mounts: a child in directory p. */
static void do_childcwd(const char *p)
{
	int fds[2];
	if (pipe(fds) != 0) {
		printf("pipe: %s\n", ename(errno));
		return;
	}
	int exe = open("/proc/self/exe", O_RDONLY); /* the child has it too */
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", ename(errno));
		return;
	}
	if (pid == 0) {
		char c = chdir(p) == 0 ? 'y' : 'n';
		write(fds[1], &c, 1);
		pause();
		_exit(0);
	}
	char c = 0, buf[4096], link[64];
	read(fds[0], &c, 1);
	close(fds[0]);
	close(fds[1]);
	snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
	ssize_t r = c == 'y' ? readlink(link, buf, sizeof buf - 1) : -1;
	if (c != 'y')
		printf("chdir failed; ");
	else if (r < 0)
		printf("%s; ", ename(errno));
	else
		printf("\"%.*s\"; ", (int)r, buf);
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, exe);
	r = readlink(link, buf, sizeof buf - 1);
	if (r < 0)
		printf("%s; ", ename(errno));
	else
		printf("\"%.*s\"; ", (int)r, buf);
	close(exe);
	snprintf(link, sizeof link, "%d", (int)pid);
	do_mapfiles(link, "; ");
	do_mounts(link);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* nargs is how many arguments operation op takes; -1 if there is no such operation. */
static int nargs(const char *op)
{
	static const char *const zero[] = {"cwd", "argv0", "exe", "mapfiles", "mounts"};
	static const char *const one[] = {"chdir", "fchdir", "read", "ls", "stat", "lstat", "readlink", "openw", "openrw",
					  "opentrunc", "creat", "tmpfile", "mkdir", "rmdir", "unlink", "mkfifo", "utime",
					  "chown", "setxattr", "futimens", "fchown", "fsetxattr", "chattr", "fsxattr", "opath",
					  "fchownat_empty", "utimensat_empty", "maps", "childcwd", "getfl",
					  "getflpath"};
	static const char *const two[] = {"write", "append", "rename", "link", "symlink", "chmod", "truncate", "access",
					  "fchmod", "openat", "openatfd"};
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
		if (strcmp(op, zero[i]) == 0)
			return 0;
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
		if (strcmp(op, one[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
		if (strcmp(op, two[i]) == 0)
			return 2;
	return -1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc;) {
		const char *op = argv[i];
		int n = nargs(op);
		if (n < 0 || i + n > argc - 1) {
			fprintf(stderr, "root_probe: bad operation %s (or too few arguments)\n", op);
			return 2;
		}
		const char *a = n > 0 ? argv[i + 1] : NULL, *b = n > 1 ? argv[i + 2] : NULL;
		printf("%s", op);
		for (int k = 1; k <= n; k++)
			printf(" %s", argv[i + k]);
		printf(": ");
		errno = 0;
		if (strcmp(op, "cwd") == 0) {
			char buf[4096];
			if (getcwd(buf, sizeof buf))
				printf("%s\n", buf);
			else
				printf("%s\n", ename(errno));
		} else if (strcmp(op, "argv0") == 0) {
			printf("%s\n", argv[0]);
		} else if (strcmp(op, "exe") == 0 || strcmp(op, "readlink") == 0) {
			char buf[4096];
			ssize_t r = readlink(a ? a : "/proc/self/exe", buf, sizeof buf - 1);
			if (r < 0)
				printf("%s\n", ename(errno));
			else
				printf("\"%.*s\"\n", (int)r, buf);
		} else if (strcmp(op, "chdir") == 0) {
			done(chdir(a));
		} else if (strcmp(op, "fchdir") == 0) {
			int fd = open(a, O_RDONLY | O_DIRECTORY);
			if (fd < 0) {
				printf("open: %s\n", ename(errno));
			} else {
				done(fchdir(fd));
				close(fd);
			}
		} else if (strcmp(op, "read") == 0) {
			do_read(a, AT_FDCWD);
		} else if (strcmp(op, "openatfd") == 0) {
			do_read(b, atoi(a));
		} else if (strcmp(op, "opath") == 0) {
			int fd = open(a, O_PATH);
			struct stat st;
			if (fd < 0)
				printf("%s\n", ename(errno));
			else if (fstat(fd, &st) != 0)
				printf("fstat: %s\n", ename(errno));
			else
				printf("%s\n", S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other");
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "openat") == 0) {
			int fd = open(a, O_RDONLY);
			if (fd < 0) {
				printf("open: %s\n", ename(errno));
			} else {
				do_read(b, fd);
				close(fd);
			}
		} else if (strcmp(op, "ls") == 0) {
			do_ls(a);
		} else if (strcmp(op, "maps") == 0) {
			do_maps(a);
		} else if (strcmp(op, "mapfiles") == 0) {
			do_mapfiles("self", "\n");
		} else if (strcmp(op, "mounts") == 0) {
			do_mounts("self");
		} else if (strcmp(op, "childcwd") == 0) {
			do_childcwd(a);
		} else if (strcmp(op, "getflpath") == 0) {
			for (int nofollow = 0; nofollow < 2; nofollow++) {
				int fd = open(a, O_PATH | (nofollow ? O_NOFOLLOW : 0));
				if (fd < 0) {
					printf("%s%s", ename(errno), nofollow ? "\n" : " ");
					continue;
				}
				printf("%#o/%d%s", fcntl(fd, F_GETFL), fcntl(fd, F_GETFD), nofollow ? "\n" : " ");
				close(fd);
			}
		} else if (strcmp(op, "getfl") == 0) {
			int fd = open(a, O_RDONLY);
			if (fd < 0) {
				printf("%s\n", ename(errno));
			} else {
				printf("%#o\n", fcntl(fd, F_GETFL));
				close(fd);
			}
		} else if (strcmp(op, "stat") == 0 || strcmp(op, "lstat") == 0) {
			do_stat(a, op[0] == 'l');
		} else if (strcmp(op, "write") == 0) {
			do_write(a, O_WRONLY | O_CREAT | O_TRUNC, b);
		} else if (strcmp(op, "append") == 0) {
			do_write(a, O_WRONLY | O_APPEND, b);
		} else if (strcmp(op, "openw") == 0) {
			do_open(a, O_WRONLY, 0);
		} else if (strcmp(op, "openrw") == 0) {
			do_open(a, O_RDWR, 0);
		} else if (strcmp(op, "opentrunc") == 0) {
			do_open(a, O_RDONLY | O_TRUNC, 0);
		} else if (strcmp(op, "creat") == 0) {
			do_open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);
		} else if (strcmp(op, "tmpfile") == 0) {
			do_open(a, O_TMPFILE | O_RDWR, 0600);
		} else if (strcmp(op, "mkdir") == 0) {
			done(mkdir(a, 0755));
		} else if (strcmp(op, "rmdir") == 0) {
			done(rmdir(a));
		} else if (strcmp(op, "unlink") == 0) {
			done(unlink(a));
		} else if (strcmp(op, "mkfifo") == 0) {
			done(mkfifo(a, 0644));
		} else if (strcmp(op, "rename") == 0) {
			done(rename(a, b));
		} else if (strcmp(op, "link") == 0) {
			done(link(a, b));
		} else if (strcmp(op, "symlink") == 0) {
			done(symlink(a, b));
		} else if (strcmp(op, "chmod") == 0) {
			done(chmod(a, strtoul(b, NULL, 8)));
		} else if (strcmp(op, "truncate") == 0) {
			done(truncate(a, strtol(b, NULL, 10)));
		} else if (strcmp(op, "utime") == 0) {
			struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
			done(utimensat(AT_FDCWD, a, ts, 0));
		} else if (strcmp(op, "access") == 0) {
			int mode = 0;
			mode |= strchr(b, 'r') ? R_OK : 0;
			mode |= strchr(b, 'w') ? W_OK : 0;
			mode |= strchr(b, 'x') ? X_OK : 0;
			done(access(a, mode));
		} else if (strcmp(op, "chown") == 0) {
			struct stat st;
			if (stat(a, &st) != 0)
				printf("stat: %s\n", ename(errno));
			else
				done(chown(a, st.st_uid, st.st_gid));
		} else if (strcmp(op, "setxattr") == 0) {
			done(setxattr(a, "user.golos", "1", 1, 0));
		} else {
			on_fd(op, a, b);
		}
		i += 1 + n;
	}
	return 0;
}
