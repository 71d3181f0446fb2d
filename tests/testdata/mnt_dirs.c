/*
 * mnt_dirs.c — listing directories with raw getdents64(2), as a program that reads them
 * in small pieces, rewinds them and seeks in them does.
 *
 * For each directory named on the command line: its entries read one record at a time
 * (a buffer too small for two), each with its d_type; the same after lseek(fd, 0,
 * SEEK_SET) (getdents(2) starts again from the beginning: lseek(2) on a directory); the
 * entries after an lseek(2) to the d_off of the first entry (getdents(2): "d_off is the
 * distance from the start of the directory to the start of the next linux_dirent"); the
 * error of a buffer too small for any entry (EINVAL: "Result buffer is too small");
 * whether each entry's d_ino is the st_ino fstatat(2) gives for it (".." aside, whose
 * d_ino on Linux is not always its parent's); the directory's link count (fstatat(2)
 * with AT_EMPTY_PATH) and its entries' link counts (lstat); and the same entries read
 * through a dup(2) of the descriptor. Entries are printed sorted: their order is the file
 * system's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ent {
	char name[256];
	unsigned char type;
	uint64_t ino;
	int64_t off;
};

static int cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

/* readall reads the rest of fd's entries with a buffer of size bytes. */
static int readall(int fd, size_t size, struct ent *out, int max)
{
	char buf[4096];
	int n = 0;
	for (;;) {
		long r = syscall(SYS_getdents64, fd, buf, size);
		if (r < 0) {
			printf("  getdents64: %s\n", strerror(errno));
			return n;
		}
		if (r == 0)
			return n;
		for (long off = 0; off < r;) {
			uint64_t ino;
			int64_t doff;
			unsigned short reclen;
			memcpy(&ino, buf + off, 8);
			memcpy(&doff, buf + off + 8, 8);
			memcpy(&reclen, buf + off + 16, 2);
			if (n < max) {
				snprintf(out[n].name, sizeof out[n].name, "%s", buf + off + 19);
				out[n].type = (unsigned char)buf[off + 18];
				out[n].ino = ino;
				out[n].off = doff;
				n++;
			}
			off += reclen;
		}
	}
}

static void print(const char *what, struct ent *e, int n)
{
	struct ent s[256];
	memcpy(s, e, n * sizeof *e);
	qsort(s, n, sizeof *s, cmp);
	printf("  %s:", what);
	for (int i = 0; i < n; i++)
		printf(" %s(%s)", s[i].name, s[i].type == DT_DIR ? "dir" : s[i].type == DT_REG ? "file" : "other");
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct ent e[256], f[256];
	for (int a = 1; a < argc; a++) {
		printf("%s:\n", argv[a]);
		int fd = open(argv[a], O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			printf("  open: %s\n", strerror(errno));
			continue;
		}
		int n = readall(fd, 19 + 256 + 8, e, 256);
		print("one at a time", e, n);
		printf("  again at the end: %d\n", readall(fd, 4096, f, 256));
		lseek(fd, 0, SEEK_SET);
		print("after lseek 0", f, readall(fd, 4096, f, 256));
		if (n > 0) {
			lseek(fd, e[0].off, SEEK_SET);
			int m = readall(fd, 4096, f, 256);
			printf("  after lseek to the first d_off: %d entries (%d without the first)\n", m, n - 1);
		}
		qsort(e, n, sizeof *e, cmp);
		lseek(fd, 0, SEEK_SET);
		char small[8];
		errno = 0;
		printf("  tiny buffer: %ld %s\n", syscall(SYS_getdents64, fd, small, sizeof small), strerror(errno));
		for (int i = 0; i < n; i++) {
			struct stat st;
			if (strcmp(e[i].name, "..") == 0)
				continue;
			if (fstatat(fd, e[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				printf("  %s: fstatat: %s\n", e[i].name, strerror(errno));
			else if (st.st_ino != e[i].ino)
				printf("  %s: d_ino %llu, st_ino %llu\n", e[i].name, (unsigned long long)e[i].ino, (unsigned long long)st.st_ino);
			else
				printf("  %s: d_ino is st_ino; %lu links\n", e[i].name, (unsigned long)st.st_nlink);
		}
		struct stat st;
		if (fstatat(fd, "", &st, AT_EMPTY_PATH) == 0)
			printf("  AT_EMPTY_PATH: %lu links, mode %o\n", (unsigned long)st.st_nlink, st.st_mode);
		int d = dup(fd);
		lseek(d, 0, SEEK_SET);
		print("through dup", f, readall(d, 4096, f, 256));
		close(d);
		close(fd);
	}
	return 0;
}
