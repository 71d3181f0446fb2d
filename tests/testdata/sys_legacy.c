/*
 * sys_legacy — syscalls golos answers since the table's last refusals were looked at:
 * getdents (the linux_dirent records before getdents64's), futimesat, openat2 (its
 * struct open_how of any size, its checks, its RESOLVE_ flags), the *xattrat calls and
 * file_getattr/file_setattr. It works in its working directory with relative paths only,
 * so that a native run there and a run under golos --root of that directory (-w /) give
 * the same output: symlinks that climb out are met only under RESOLVE_BENEATH and
 * RESOLVE_IN_ROOT, which stop them at the directory descriptor either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include "ename.h"

#define NR_getdents 78
#define NR_futimesat 261
#define NR_openat2 437
#define NR_setxattrat 463
#define NR_getxattrat 464
#define NR_listxattrat 465
#define NR_removexattrat 466
#define NR_file_getattr 468
#define NR_file_setattr 469

struct how {
	uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#define RESOLVE_CACHED 0x20

struct xattr_args {
	uint64_t value;
	uint32_t size, flags;
};

static void show(const char *name, long r)
{
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(errno));
	else
		printf("%s: %ld\n", name, r);
}

/* shown prints what an open gave: the file's first line, or the error. */
static void shown(const char *name, long fd)
{
	if (fd < 0) {
		printf("%s: -1 %s\n", name, ename(errno));
		return;
	}
	char b[64] = {0};
	ssize_t n = read(fd, b, sizeof b - 1);
	if (n < 0)
		printf("%s: open, read -1 %s\n", name, ename(errno));
	else
		printf("%s: %.*s\n", name, (int)strcspn(b, "\n"), b);
	close(fd);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

/* listing prints a directory's entries, sorted, read with getdents into a buffer of size. */
static void listing(const char *what, int fd, size_t size)
{
	char *buf = malloc(size);
	char *names[64];
	int n = 0;
	long r;
	while ((r = syscall(NR_getdents, fd, buf, size)) > 0) {
		for (long off = 0; off < r;) {
			unsigned long ino = *(unsigned long *)(buf + off);
			unsigned short reclen = *(unsigned short *)(buf + off + 16);
			char *name = buf + off + 18;
			unsigned char type = buf[off + reclen - 1];
			if (n < 64 && strcmp(name, ".") && strcmp(name, "..")) {
				names[n] = malloc(300);
				snprintf(names[n], 300, "%s type %d ino-ok %d", name, type, ino != 0);
				n++;
			}
			off += reclen;
		}
	}
	if (r < 0)
		printf("%s: getdents -1 %s\n", what, ename(errno));
	qsort(names, n, sizeof names[0], cmp);
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" [%s]", names[i]);
	printf("\n");
	free(buf);
}

/* tidy removes the tree the program makes: the native run and golos's share a directory. */
static void tidy(void)
{
	const char *files[] = {"t/sub/file", "t/sub/link", "t/sub/uplink", "t/sub/climb", "t/sub/abs",
			       "t/sub/fifo", "t/sub/made", "t/sub/beneath-new", "t/top"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	rmdir("t/sub/deeper");
	rmdir("t/sub");
	rmdir("t");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tidy();
	mkdir("t", 0755);
	mkdir("t/sub", 0755);
	mkdir("t/sub/deeper", 0755);
	int f = open("t/sub/file", O_CREAT | O_WRONLY, 0644);
	write(f, "in sub\n", 7);
	close(f);
	f = open("t/top", O_CREAT | O_WRONLY, 0644);
	write(f, "at the top\n", 11);
	close(f);
	symlink("file", "t/sub/link");
	symlink("../top", "t/sub/uplink");
	symlink("../../../../../../top", "t/sub/climb");
	symlink("/top", "t/sub/abs");
	mkfifo("t/sub/fifo", 0644);

	/* getdents: the legacy records, with a roomy buffer and one of a few records. */
	int d = open("t/sub", O_RDONLY | O_DIRECTORY);
	listing("getdents", d, 4096);
	lseek(d, 0, SEEK_SET);
	listing("getdents small buffer", d, 64);
	char tiny[8];
	lseek(d, 0, SEEK_SET);
	show("getdents too small", syscall(NR_getdents, d, tiny, sizeof tiny));
	show("getdents bad fd", syscall(NR_getdents, 999, tiny, sizeof tiny));
	int nd = open("t/top", O_RDONLY);
	show("getdents not a directory", syscall(NR_getdents, nd, tiny, sizeof tiny));
	close(nd);
	int fdd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	char fb[4096];
	long r = syscall(NR_getdents, fdd, fb, sizeof fb);
	int count = 0;
	for (long off = 0; off < r; off += *(unsigned short *)(fb + off + 16))
		count++;
	printf("/proc/self/fd entries: %d\n", count); /* ., .., 0, 1, 2, d, fdd */
	close(fdd);

	/* futimesat: relative to a directory descriptor, on it with a NULL path, bad times. */
	struct timeval tv[2] = {{1000000000, 5}, {1200000000, 7}};
	show("futimesat", syscall(NR_futimesat, d, "file", tv));
	struct stat st;
	stat("t/sub/file", &st);
	printf("file mtime %ld usec %ld\n", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec / 1000);
	show("futimesat NULL path", syscall(NR_futimesat, d, NULL, tv));
	stat("t/sub", &st);
	printf("sub mtime %ld\n", (long)st.st_mtim.tv_sec);
	struct timeval bad[2] = {{0, 1000000}, {0, 0}};
	show("futimesat bad usec", syscall(NR_futimesat, d, "file", bad));
	show("futimesat missing", syscall(NR_futimesat, d, "nothing", tv));
	show("futimesat NULL times", syscall(NR_futimesat, AT_FDCWD, "t/sub/file", NULL));

	/* openat2: the size of struct open_how. */
	struct {
		struct how h;
		uint64_t more[2];
	} big = {{O_RDONLY, 0, 0}, {0, 0}};
	shown("openat2", syscall(NR_openat2, d, "file", &big.h, 24));
	show("openat2 size 16", syscall(NR_openat2, d, "file", &big.h, 16));
	shown("openat2 size 40 zero tail", syscall(NR_openat2, d, "file", &big, 40));
	big.more[1] = 1;
	show("openat2 size 40 nonzero tail", syscall(NR_openat2, d, "file", &big, 40));
	show("openat2 size 8192", syscall(NR_openat2, d, "file", &big, 8192));
	show("openat2 bad how", syscall(NR_openat2, d, "file", (void *)8, 24));

	/* openat2: its checks. */
	struct how h = {O_RDONLY, 0644, 0};
	show("openat2 mode without O_CREAT", syscall(NR_openat2, d, "file", &h, 24));
	h = (struct how){O_RDONLY | (1ULL << 40), 0, 0};
	show("openat2 upper flag bits", syscall(NR_openat2, d, "file", &h, 24));
	h = (struct how){O_RDONLY | 04, 0, 0};
	show("openat2 unknown flag", syscall(NR_openat2, d, "file", &h, 24));
	h = (struct how){O_RDONLY, 0, 0x40};
	show("openat2 unknown resolve", syscall(NR_openat2, d, "file", &h, 24));
	h = (struct how){O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT};
	show("openat2 beneath and in root", syscall(NR_openat2, d, "file", &h, 24));
	h = (struct how){O_CREAT | O_WRONLY, 010644, 0};
	show("openat2 mode with file type", syscall(NR_openat2, d, "new", &h, 24));
	h = (struct how){O_PATH | O_RDWR, 0, 0};
	show("openat2 O_PATH with O_RDWR", syscall(NR_openat2, d, "file", &h, 24));
	h = (struct how){O_CREAT | O_WRONLY, 0600, RESOLVE_CACHED};
	show("openat2 cached create", syscall(NR_openat2, d, "new", &h, 24));
	h = (struct how){O_CREAT | O_WRONLY | O_EXCL, 0640, 0};
	long c = syscall(NR_openat2, d, "made", &h, 24);
	stat("t/sub/made", &st);
	printf("openat2 create: %s mode %o\n", c >= 0 ? "ok" : ename(errno), st.st_mode & 0777);
	close(c);

	/* openat2: RESOLVE_ flags. */
	h = (struct how){O_RDONLY, 0, RESOLVE_NO_SYMLINKS};
	shown("no symlinks, file", syscall(NR_openat2, d, "file", &h, 24));
	shown("no symlinks, link", syscall(NR_openat2, d, "link", &h, 24));
	shown("no symlinks, cwd-relative", syscall(NR_openat2, AT_FDCWD, "t/sub/file", &h, 24));
	h = (struct how){O_RDONLY | O_NOFOLLOW | O_PATH, 0, RESOLVE_NO_SYMLINKS};
	long pl = syscall(NR_openat2, d, "link", &h, 24);
	printf("no symlinks, O_PATH|O_NOFOLLOW link: %s\n", pl >= 0 ? "ok" : ename(errno));
	close(pl);
	h = (struct how){O_RDONLY, 0, RESOLVE_NO_MAGICLINKS};
	shown("no magiclinks, link", syscall(NR_openat2, d, "link", &h, 24));
	h = (struct how){O_RDONLY, 0, RESOLVE_NO_XDEV};
	shown("no xdev", syscall(NR_openat2, d, "uplink", &h, 24));
	h = (struct how){O_RDONLY, 0, RESOLVE_CACHED};
	long cr = syscall(NR_openat2, d, "file", &h, 24);
	printf("cached: %s\n", cr >= 0 || errno == EAGAIN ? "ok or EAGAIN" : ename(errno));
	if (cr >= 0)
		close(cr);
	h = (struct how){O_RDONLY, 0, RESOLVE_BENEATH};
	shown("beneath, file", syscall(NR_openat2, d, "file", &h, 24));
	shown("beneath, link", syscall(NR_openat2, d, "link", &h, 24));
	shown("beneath, deeper/..", syscall(NR_openat2, d, "deeper/../file", &h, 24));
	shown("beneath, ..", syscall(NR_openat2, d, "../top", &h, 24));
	shown("beneath, uplink", syscall(NR_openat2, d, "uplink", &h, 24));
	shown("beneath, climb", syscall(NR_openat2, d, "climb", &h, 24));
	shown("beneath, abs", syscall(NR_openat2, d, "abs", &h, 24));
	shown("beneath, absolute path", syscall(NR_openat2, d, "/top", &h, 24));
	h = (struct how){O_RDONLY, 0, RESOLVE_IN_ROOT};
	shown("in root, file", syscall(NR_openat2, d, "file", &h, 24));
	shown("in root, ..", syscall(NR_openat2, d, "../file", &h, 24));
	shown("in root, climb", syscall(NR_openat2, d, "climb", &h, 24));
	shown("in root, abs", syscall(NR_openat2, d, "abs", &h, 24));
	shown("in root, /file", syscall(NR_openat2, d, "/file", &h, 24));
	h = (struct how){O_CREAT | O_WRONLY, 0600, RESOLVE_BENEATH};
	c = syscall(NR_openat2, d, "beneath-new", &h, 24);
	printf("beneath create: %s exists %d\n", c >= 0 ? "ok" : ename(errno),
	       access("t/sub/beneath-new", F_OK) == 0);
	close(c);

	/* The *xattrat calls and file_getattr/file_setattr. */
	struct xattr_args xa = {(uint64_t)(uintptr_t) "value1", 6, 0};
	show("setxattrat", syscall(NR_setxattrat, d, "file", 0, "user.golos", &xa, sizeof xa));
	char val[32] = {0};
	struct xattr_args ga = {(uint64_t)(uintptr_t)val, sizeof val, 0};
	show("getxattrat", syscall(NR_getxattrat, d, "file", 0, "user.golos", &ga, sizeof ga));
	printf("value: %s\n", val);
	show("getxattrat link nofollow", syscall(NR_getxattrat, d, "link", AT_SYMLINK_NOFOLLOW, "user.golos", &ga, sizeof ga));
	show("getxattrat link", syscall(NR_getxattrat, d, "link", 0, "user.golos", &ga, sizeof ga));
	char list[128] = {0};
	long ln = syscall(NR_listxattrat, d, "file", 0, list, sizeof list);
	int has = 0;
	for (long i = 0; i < ln; i += strlen(list + i) + 1)
		has |= strcmp(list + i, "user.golos") == 0;
	printf("listxattrat: %s has user.golos %d\n", ln >= 0 ? "ok" : ename(errno), has);
	int fileFD = open("t/sub/file", O_RDONLY);
	memset(val, 0, sizeof val);
	show("getxattrat empty path", syscall(NR_getxattrat, fileFD, "", AT_EMPTY_PATH, "user.golos", &ga, sizeof ga));
	show("removexattrat", syscall(NR_removexattrat, d, "file", 0, "user.golos"));
	show("removexattrat again", syscall(NR_removexattrat, d, "file", 0, "user.golos"));
	show("getxattrat missing file", syscall(NR_getxattrat, d, "nothing", 0, "user.golos", &ga, sizeof ga));
	uint64_t fa[3] = {0, 0, 0};
	long g = syscall(NR_file_getattr, d, "file", fa, 24, 0);
	printf("file_getattr: %s\n", g == 0 ? "0" : ename(errno));
	show("file_getattr missing", syscall(NR_file_getattr, d, "nothing", fa, 24, 0));
	show("file_getattr small", syscall(NR_file_getattr, d, "file", fa, 8, 0));
	long s = syscall(NR_file_setattr, d, "file", fa, 24, 0);
	printf("file_setattr: %s\n", s == 0 ? "0" : ename(errno));
	close(fileFD);
	close(d);
	tidy();
	show("tidy", access("t", F_OK));
	return 0;
}
