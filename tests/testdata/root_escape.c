/*
 * root_escape.c — tries every way it knows to reach files outside its root directory.
 *
 * usage: root_escape HOSTDIR REVERSED-MARKER CANARY-DEV:INO HOSTDIR-DEV:INO [PREFIX]
 *
 * HOSTDIR is the host directory that holds the root and, next to it, the canary file
 * HOSTDIR/canary, whose content holds a unique marker. The marker is given reversed, so
 * that no copy of it is in the program's arguments; the program looks for it (and for
 * "root:x:0:0:", the first line of a host's /etc/passwd) in everything it reads, and
 * compares the device and inode of everything it opens or stats with the canary's and
 * HOSTDIR's. Reaching either is an ESCAPE; a readlink that shows a host path (HOSTDIR…)
 * from /proc is a LEAK.
 *
 * Run in a root (golos run --root, or chroot(2)), every attempt must be refused or land
 * inside the root. Run on the host itself, with PREFIX the host path of the root (the
 * paths the program means inside its root are PREFIX/…, so that nothing is written
 * outside HOSTDIR), most attempts reach the canary: that shows the attempts aim right. The attempts that write aim at HOSTDIR's files (the canary, a file
 * "victim", new names): the test checks on the host that none of them changed.
 *
 * Each attempt prints "WHAT: RESULT", where RESULT is "refused ERRNO", "ok" (a write
 * that succeeded; where it landed is for the test to check), "inside: …" (it read
 * something, not the canary) or "ESCAPE …"; paths are shown with HOSTDIR as <H> and a
 * chain of 24 ".." as <UP>. The last lines are "escapes: N" and "leaks: N".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "ename.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static const char *H;        /* the host directory */
static char marker[256];     /* the canary's marker */
static dev_t canary_dev, hdir_dev;
static ino_t canary_ino, hdir_ino;
static int escapes, leaks;
static char up[24 * 3 + 1];  /* "../" 24 times */

/* show returns the path for printing: HOSTDIR as <H>, the chain of ".." as <UP>. */
static const char *show(const char *p)
{
	static char out[4][1024];
	static int k;
	char *o = out[k++ % 4];
	size_t n = 0, hl = strlen(H), ul = strlen(up);
	char pid[32];
	size_t pl = snprintf(pid, sizeof pid, "/proc/%d/", (int)getpid());
	if (strncmp(p, pid, pl) == 0) { /* the same line in every run */
		n += snprintf(o, 1024, "/proc/<PID>/");
		p += pl;
	}
	while (*p && n < 1000) {
		if (strncmp(p, up, ul) == 0) {
			n += snprintf(o + n, 1024 - n, "<UP>");
			p += ul;
		} else if (strncmp(p, H, hl) == 0) {
			n += snprintf(o + n, 1024 - n, "<H>");
			p += hl;
		} else if (strncmp(p, H + 1, hl - 1) == 0) { /* after <UP>: without its slash */
			n += snprintf(o + n, 1024 - n, "<H>");
			p += hl - 1;
		} else {
			o[n++] = *p++;
		}
	}
	o[n] = 0;
	return o;
}

/* out builds a path outside: <UP> then HOSTDIR without its leading slash, then rest. */
static const char *out(const char *rest)
{
	static char buf[8][2048];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, 2048, "%s%s%s", up, H + 1, rest);
	return b;
}

/* IN names a path inside the root: as it is in a root, below PREFIX on the host. */
static const char *R = "";
static const char *IN(const char *p)
{
	static char buf[16][2048];
	static int k;
	char *b = buf[k++ % 16];
	snprintf(b, 2048, "%s%s", R, p);
	return b;
}

static const char *hpath(const char *rest)
{
	static char buf[8][2048];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, 2048, "%s%s", H, rest);
	return b;
}

static int is_canary(const struct stat *st)
{
	return st->st_dev == canary_dev && st->st_ino == canary_ino;
}

static int is_hdir(const struct stat *st)
{
	return st->st_dev == hdir_dev && st->st_ino == hdir_ino;
}

static int has_marker(const char *buf, size_t n)
{
	return memmem(buf, n, marker, strlen(marker)) != NULL || memmem(buf, n, "root:x:0:0:", 11) != NULL;
}

static void escape(const char *what, const char *how)
{
	printf("%s: ESCAPE %s\n", what, how);
	escapes++;
}

/* judge_fd says what an open descriptor reached, and closes it. */
static void judge_fd(const char *what, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		printf("%s: opened, fstat %s\n", what, ename(errno));
		close(fd);
		return;
	}
	if (is_canary(&st)) {
		escape(what, "(the canary's inode)");
		close(fd);
		return;
	}
	if (is_hdir(&st)) {
		escape(what, "(the host directory's inode)");
		close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		printf("%s: inside: a directory\n", what);
		close(fd);
		return;
	}
	static char buf[1 << 16];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	if (n < 0) {
		printf("%s: opened, read %s\n", what, ename(errno));
		return;
	}
	buf[n] = 0;
	if (has_marker(buf, n)) {
		escape(what, "(read the canary's or the host's content)");
		return;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("%s: inside: \"%.40s\"\n", what, buf);
}

static void try_openat(const char *what, int dirfd, const char *p, int flags)
{
	char w[1200];
	snprintf(w, sizeof w, "%s \"%s\"", what, show(p));
	int fd = openat(dirfd, p, flags);
	if (fd < 0)
		printf("%s: refused %s\n", w, ename(errno));
	else
		judge_fd(w, fd);
}

static void try_open(const char *p) { try_openat("open", AT_FDCWD, p, O_RDONLY); }

static void try_stat(const char *what, const char *p, int nofollow)
{
	char w[1200];
	snprintf(w, sizeof w, "%s \"%s\"", what, show(p));
	struct stat st;
	int r = nofollow ? lstat(p, &st) : stat(p, &st);
	if (r != 0)
		printf("%s: refused %s\n", w, ename(errno));
	else if (is_canary(&st))
		escape(w, "(the canary's inode)");
	else if (is_hdir(&st))
		escape(w, "(the host directory's inode)");
	else
		printf("%s: inside: %s\n", w, S_ISDIR(st.st_mode) ? "a directory" : S_ISLNK(st.st_mode) ? "a symlink" : "a file");
}

static void try_readlink(const char *p)
{
	char w[1200], buf[4096];
	snprintf(w, sizeof w, "readlink \"%s\"", show(p));
	ssize_t n = readlink(p, buf, sizeof buf - 1);
	if (n < 0) {
		printf("%s: refused %s\n", w, ename(errno));
		return;
	}
	buf[n] = 0;
	if (has_marker(buf, n)) {
		escape(w, "(read a host symlink)");
	} else if (strncmp(p, "/proc/", 6) == 0 && strstr(buf, H)) {
		printf("%s: LEAK a host path: %s\n", w, buf);
		leaks++;
	} else {
		printf("%s: inside: \"%s\"\n", w, show(buf));
	}
}

/* try_exec: execve(2) of a path out. The canary is not executable, so where execve finds
 * it, it fails with EACCES (and the program goes on): that is an escape too. */
static void try_exec(const char *p)
{
	char w[1200];
	snprintf(w, sizeof w, "execve \"%s\"", show(p));
	char *args[] = {(char *)p, NULL}, *env[] = {NULL};
	execve(p, args, env);
	int e = errno;
	if (e == EACCES || e == ENOEXEC)
		escape(w, "(found the file)");
	else
		printf("%s: refused %s\n", w, ename(e));
}

/* result prints the outcome of a call that writes. */
static void result(const char *what, const char *p, int r)
{
	if (r < 0)
		printf("%s \"%s\": refused %s\n", what, show(p), ename(errno));
	else
		printf("%s \"%s\": ok\n", what, show(p));
}

/* after reads back a path the last write may have brought the canary to. */
static void after(const char *p)
{
	int fd = open(p, O_RDONLY);
	if (fd >= 0) {
		char w[1200];
		snprintf(w, sizeof w, "  then open \"%s\"", show(p));
		judge_fd(w, fd);
	}
}

/* The race: a thread swaps /race/d, a directory inside that holds a file "canary", with
 * /race/abs (a symlink to HOSTDIR) and /race/rel (a chain of ".." to HOSTDIR), while the
 * main thread opens /race/d/canary. */
static volatile int stop;
static long flips;
static int flip_errno;
static char race_d[2048], race_abs[2048], race_rel[2048], race_file[2048]; /* set before the thread starts */

static void *flipper(void *arg)
{
	(void)arg;
	while (!stop) {
		const char *other = (flips & 2) ? race_rel : race_abs;
		if (syscall(SYS_renameat2, AT_FDCWD, race_d, AT_FDCWD, other, RENAME_EXCHANGE) == 0) {
			flips++;
		} else {
			flip_errno = errno;
			break;
		}
	}
	return NULL;
}

static void race(int n)
{
	snprintf(race_d, sizeof race_d, "%s", IN("/race/d"));
	snprintf(race_abs, sizeof race_abs, "%s", IN("/race/abs"));
	snprintf(race_rel, sizeof race_rel, "%s", IN("/race/rel"));
	snprintf(race_file, sizeof race_file, "%s", IN("/race/d/canary"));
	pthread_t th;
	if (pthread_create(&th, NULL, flipper, NULL) != 0) {
		printf("race: pthread_create failed\n");
		return;
	}
	int esc = 0, inside = 0, refused = 0;
	static char buf[4096];
	for (int i = 0; i < n; i++) {
		int fd = open(race_file, O_RDONLY);
		if (fd < 0) {
			refused++;
			continue;
		}
		struct stat st;
		ssize_t k = pread(fd, buf, sizeof buf, 0);
		int bad = (fstat(fd, &st) == 0 && is_canary(&st)) || (k > 0 && has_marker(buf, k));
		close(fd);
		if (bad)
			esc++;
		else
			inside++;
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("race: %d opens of /race/d/canary while it is swapped: escapes %d\n", n, esc);
	printf("race: the swapping thread ran: %s\n", flips > 0 ? "yes" : "no");
	if (flip_errno)
		printf("race: the swapping thread stopped: renameat2 RENAME_EXCHANGE: %s\n", ename(flip_errno));
	printf("race: some opens read the inside file: %s\n", inside > 0 ? "yes" : "no");
	fprintf(stderr, "race: %d escapes, %d inside, %d refused, %ld flips\n", esc, inside, refused, flips);
	escapes += esc;
	/* Put /race/d back to the directory, for the runs that follow. */
	struct stat st;
	for (int i = 0; i < 2 && lstat(race_d, &st) == 0 && !S_ISDIR(st.st_mode); i++)
		syscall(SYS_renameat2, AT_FDCWD, race_d, AT_FDCWD, i ? race_rel : race_abs, RENAME_EXCHANGE);
}

static void parse_devino(const char *s, dev_t *d, ino_t *i)
{
	unsigned long long a = 0, b = 0;
	sscanf(s, "%llu:%llu", &a, &b);
	*d = a;
	*i = b;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5) {
		fprintf(stderr, "usage: %s HOSTDIR REVERSED-MARKER CANARY-DEV:INO HOSTDIR-DEV:INO [PREFIX]\n", argv[0]);
		return 2;
	}
	H = argv[1];
	size_t ml = strlen(argv[2]);
	for (size_t i = 0; i < ml && i < sizeof marker - 1; i++)
		marker[i] = argv[2][ml - 1 - i];
	parse_devino(argv[3], &canary_dev, &canary_ino);
	parse_devino(argv[4], &hdir_dev, &hdir_ino);
	if (argc > 5)
		R = argv[5];
	for (int i = 0; i < 24; i++)
		strcat(up, "../");

	/* Directory descriptors the program did not open: a way out, if they lead out. The
	 * lines start with "fdscan:": in a chroot there are none, under golos golos's own. */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int top = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	int found[64], nfound = 0;
	for (int fd = 3; fd < top && nfound < 64; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			found[nfound++] = fd;
	}
	printf("info: directory descriptors found open at the start: %d\n", nfound);
	for (int i = 0; i < nfound; i++) {
		const char *w = "fdscan: openat(inherited directory fd)";
		try_openat(w, found[i], out("/canary"), O_RDONLY);
		try_openat(w, found[i], "../canary", O_RDONLY);
		try_openat(w, found[i], "canary", O_RDONLY);
		try_openat(w, found[i], hpath("/canary") + 1, O_RDONLY);
		if (fchdir(found[i]) == 0) {
			printf("fdscan: fchdir(inherited directory fd): ok\n");
			try_openat("fdscan: open after fchdir", AT_FDCWD, "../canary", O_RDONLY);
			try_openat("fdscan: open after fchdir", AT_FDCWD, out("/canary"), O_RDONLY);
			try_openat("fdscan: open after fchdir", AT_FDCWD, "canary", O_RDONLY);
			chdir(IN("/"));
		} else {
			printf("fdscan: fchdir(inherited directory fd): refused %s\n", ename(errno));
		}
	}

	/* The host's paths as they are. */
	try_open(hpath("/canary"));
	try_open("/etc/passwd");

	/* ".." from the root and from a directory below it. */
	try_open("../canary");
	try_open("../../../../canary");
	try_open(out("/canary"));
	chdir(IN("/sub/dir"));
	try_open("../../../../canary");
	try_open(out("/canary"));
	chdir(IN("/"));

	/* Symlinks: absolute ones, and a chain of ".." in a relative one. */
	try_open(IN("/abs_canary"));
	try_open(IN("/abs_passwd"));
	try_open(IN("/abs_hostdir/canary"));
	try_open(IN("/sub/dir/rel_canary"));
	try_open(IN("/sub/dir/rel_up/canary"));
	try_open(out("/canary_link"));

	/* chdir("..") many times, then open relative paths. */
	for (int i = 0; i < 40; i++)
		chdir("..");
	{
		struct stat a, b;
		int same = stat(".", &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
		char cwd[4096];
		printf("chdir(\"..\") 40 times: the working directory is the root: %s\n", same ? "yes" : "no");
		printf("chdir(\"..\") 40 times: getcwd: \"%s\"\n", getcwd(cwd, sizeof cwd) ? show(cwd) : ename(errno));
	}
	try_open(hpath("/canary") + 1);
	try_open("canary");
	chdir(IN("/sub/dir"));
	for (int i = 0; i < 40; i++)
		chdir("..");
	try_open(hpath("/canary") + 1);
	chdir(IN("/sub/dir/rel_up"));
	try_open(hpath("/canary") + 1);
	try_open("canary");
	chdir(IN("/abs_hostdir"));
	try_open("canary");
	chdir(IN("/"));

	/* openat with a directory descriptor of "/" and of "../..". */
	int rootfd = open(IN("/"), O_RDONLY | O_DIRECTORY);
	try_openat("openat(fd of \"/\")", rootfd, "../canary", O_RDONLY);
	try_openat("openat(fd of \"/\")", rootfd, out("/canary"), O_RDONLY);
	try_openat("openat(fd of \"/\")", rootfd, hpath("/canary") + 1, O_RDONLY);
	chdir(IN("/sub/dir"));
	int upfd = open("../..", O_RDONLY | O_DIRECTORY);
	chdir(IN("/"));
	try_openat("openat(fd of \"../..\")", upfd, "../canary", O_RDONLY);
	try_openat("openat(fd of \"../..\")", upfd, out("/canary"), O_RDONLY);
	int dotdotfd = openat(rootfd, "..", O_RDONLY | O_DIRECTORY);
	try_openat("openat(openat(fd of \"/\", \"..\"))", dotdotfd, hpath("/canary") + 1, O_RDONLY);
	if (fchdir(dotdotfd) == 0) {
		try_open(hpath("/canary") + 1);
		chdir(IN("/"));
	}

	/* /proc: the root's and the working directory's magic links, a descriptor's. */
	int pathfd = open(IN("/"), O_PATH);
	printf("open(\"/\", O_PATH): %s\n", pathfd >= 0 ? "ok" : ename(errno));
	char p[4096];
	snprintf(p, sizeof p, "/proc/self/root%s/canary", H);
	try_open(p);
	snprintf(p, sizeof p, "/proc/%d/root%s/canary", (int)getpid(), H);
	try_open(p);
	snprintf(p, sizeof p, "/proc/self/fd/%d/%s/canary", pathfd, out(""));
	try_open(p);
	snprintf(p, sizeof p, "/proc/self/fd/%d/..", pathfd);
	try_openat("open", AT_FDCWD, p, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof p, "/proc/self/fd/%d/../canary", pathfd);
	try_open(p);
	snprintf(p, sizeof p, "/proc/self/cwd/%s/canary", out(""));
	try_open(p);
	snprintf(p, sizeof p, "/proc/self/root/%s/canary", out(""));
	try_open(p);
	try_open("/proc/1/root/etc/passwd");
	try_readlink("/proc/self/cwd");
	try_readlink("/proc/self/root");
	snprintf(p, sizeof p, "/proc/self/fd/%d", pathfd);
	try_readlink(p);

	/* Calls on paths out that only look. */
	try_stat("stat", out("/canary"), 0);
	try_stat("stat", hpath("/canary"), 0);
	try_stat("stat", IN("/abs_canary"), 0);
	try_stat("stat", IN("/sub/dir/rel_canary"), 0);
	try_stat("lstat", out("/canary"), 1);
	try_stat("stat", out(""), 0);
	try_stat("stat", IN("/abs_hostdir"), 0);
	try_readlink(out("/canary_link"));
	try_readlink(hpath("/canary_link"));
	{
		char w[1200];
		snprintf(w, sizeof w, "access \"%s\"", show(out("/canary")));
		int r = access(out("/canary"), R_OK);
		printf("%s: %s\n", w, r == 0 ? "ESCAPE (found the file)" : ename(errno));
		escapes += r == 0;
	}

	/* execve(2) of paths out. */
	try_exec(hpath("/canary"));
	try_exec(out("/canary"));
	try_exec(IN("/abs_canary"));
	try_exec(IN("/sub/dir/rel_canary"));
	try_exec(IN("/abs_hostdir/canary"));

	/* Calls on paths out that write: the test checks the host afterwards. */
	result("rename out to in", out("/canary"), rename(out("/canary"), IN("/stolen")));
	after(IN("/stolen"));
	result("rename in to out", out("/planted_rename"), rename(IN("/sub/file"), out("/planted_rename")));
	result("rename via symlink", IN("/abs_hostdir/planted_rename2"), rename(IN("/sub/file2"), IN("/abs_hostdir/planted_rename2")));
	result("unlink", out("/victim"), unlink(out("/victim")));
	result("unlink", IN("/abs_hostdir/victim"), unlink(IN("/abs_hostdir/victim")));
	result("rmdir", out("/victim_dir"), rmdir(out("/victim_dir")));
	result("link out to in", out("/canary"), link(out("/canary"), IN("/hardlink")));
	after(IN("/hardlink"));
	result("link in to out", out("/planted_link"), link(IN("/sub/file3"), out("/planted_link")));
	result("linkat AT_SYMLINK_FOLLOW", IN("/abs_canary"),
	       linkat(AT_FDCWD, IN("/abs_canary"), AT_FDCWD, IN("/hardlink2"), AT_SYMLINK_FOLLOW));
	after(IN("/hardlink2"));
	result("symlink", out("/planted_symlink"), symlink("/etc/passwd", out("/planted_symlink")));
	result("symlink via symlink", IN("/abs_hostdir/planted_symlink2"), symlink("x", IN("/abs_hostdir/planted_symlink2")));
	result("mkdir", out("/planted_dir"), mkdir(out("/planted_dir"), 0777));
	result("mkdir via symlink", IN("/abs_hostdir/planted_dir2"), mkdir(IN("/abs_hostdir/planted_dir2"), 0777));
	{
		/* rel_up is a chain of ".." (to the host's / on the host): aim below HOSTDIR. */
		char p3[4096];
		snprintf(p3, sizeof p3, "%s%s/planted_dir3", IN("/sub/dir/rel_up/"), H + 1);
		result("mkdir via relative symlink", p3, mkdir(p3, 0777));
	}
	result("chmod", out("/canary"), chmod(out("/canary"), 0777));
	result("chmod via symlink", IN("/abs_canary"), chmod(IN("/abs_canary"), 0777));
	result("chmod via relative symlink", IN("/sub/dir/rel_canary"), chmod(IN("/sub/dir/rel_canary"), 0777));
	result("truncate", out("/canary"), truncate(out("/canary"), 0));
	result("truncate via symlink", IN("/abs_canary"), truncate(IN("/abs_canary"), 0));
	result("truncate via relative symlink", IN("/sub/dir/rel_canary"), truncate(IN("/sub/dir/rel_canary"), 0));
	{
		struct timespec ts[2] = {{0, 0}, {0, 0}};
		result("utimensat", out("/canary"), utimensat(AT_FDCWD, out("/canary"), ts, 0));
		result("utimensat via symlink", IN("/abs_canary"), utimensat(AT_FDCWD, IN("/abs_canary"), ts, 0));
		result("utimensat via relative symlink", IN("/sub/dir/rel_canary"), utimensat(AT_FDCWD, IN("/sub/dir/rel_canary"), ts, 0));
		result("utimensat(fd of \"/\")", out("/canary"), utimensat(rootfd, out("/canary"), ts, 0));
	}
	result("setxattr", out("/canary"), setxattr(out("/canary"), "user.golos", "x", 1, 0));
	result("open O_CREAT", out("/planted_file"), open(out("/planted_file"), O_CREAT | O_WRONLY, 0666));
	result("open O_CREAT via symlink", IN("/abs_hostdir/planted_file2"), open(IN("/abs_hostdir/planted_file2"), O_CREAT | O_WRONLY, 0666));
	{
		int fd = open(IN("/abs_canary"), O_WRONLY | O_APPEND);
		result("open O_WRONLY|O_APPEND via symlink", IN("/abs_canary"), fd);
		if (fd >= 0)
			write(fd, "x", 1);
		fd = openat(rootfd, out("/canary"), O_WRONLY | O_APPEND);
		result("openat(fd of \"/\") O_WRONLY|O_APPEND", out("/canary"), fd);
		if (fd >= 0)
			write(fd, "x", 1);
	}

	/* A symlink swapped between a directory inside and links out, 10,000 opens. */
	race(10000);

	printf("escapes: %d\n", escapes);
	printf("leaks: %d\n", leaks);
	return 0;
}
