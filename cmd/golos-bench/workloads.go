package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// A workload is one row of the suite: a program and its arguments, how its result is
// read, and the targets golos aims for on it.
type workload struct {
	id   string // short name, used by targets
	name string // the row's label
	// argv is the program and its arguments. A first element without a '/' names a
	// program built into the work directory (see buildCommand).
	argv []string
	ppid bool   // append the parent pid the program must see (getppid, sud_floor)
	unit string // "ms" or "ns"
	// self: the program times itself and prints "ns_per_call=<v>" or "ms=<v>" (bench.h).
	// Otherwise the sample is the wall time from start to exit and stdout must be want.
	self      bool
	want      string
	anyOutput bool  // stdout is not checked (the exit status still is)
	runs      int   // timed runs per side (unless -runs)
	only      []int // the sides to run it on, if not all
	targets   []target
	// golosFlags go between `golos run` and the program.
	golosFlags []string
	// setup prepares what the program works on, before it is measured; dir is the work
	// directory. An error fails the row on every side.
	setup func(dir string) error
	// chdir is the directory the program runs in, relative to the work directory; ""
	// leaves golos-bench's own.
	chdir string
	// server makes it a server row (servers.go): argv is unused, the server runs on each
	// side and its client natively; unit "us" is µs per request.
	server *server
}

// Side indexes of every workload's results.
const (
	native = iota
	golos
	gvisor
)

var sideNames = [...]string{"native", "golos", "gVisor"}

// workloadIDs lists the ids of the suite's workloads, for -only.
func workloadIDs() []string {
	var ids []string
	for _, w := range workloads(true) {
		ids = append(ids, w.id)
	}
	return ids
}

// workloads is the suite. quick shrinks the sizes so that the whole suite takes under a
// minute; the full sizes are the ones the issue names.
func workloads(quick bool) []workload {
	size := func(full, small int) string {
		if quick {
			return fmt.Sprint(small)
		}
		return fmt.Sprint(full)
	}
	mib := size(1024, 256)
	shaMiB := size(512, 64)
	syscalls := size(100000, 20000)
	return []workload{
		{id: "hello", name: "static hello (C), start to exit", argv: []string{"hello"},
			unit: "ms", want: "hello 42\n", runs: 15, targets: []target{
				// golos is a Go program: its start can come close to a Go program's own
				// but not below it, whatever the machine.
				{goal: "≤ 1.3× a native Go hello's start", num: ref{"hello", golos}, den: ref{"gohello", native}, limit: 1.3},
				{goal: "≥ 20× faster than gVisor", num: ref{"hello", gvisor}, den: ref{"hello", golos}, limit: 20, atLeast: true},
			}},
		{id: "hello_dyn", name: "dynamic hello (C), start to exit", argv: []string{"hello_dyn"},
			unit: "ms", want: "hello 42\n", runs: 15},
		{id: "gohello", name: "Go hello (CGO_ENABLED=0), start to exit", argv: []string{"gohello"},
			unit: "ms", want: "hello 42\n", runs: 15},
		{id: "python", name: "python3 -c pass, start to exit", argv: []string{python3(), "-c", "pass"},
			unit: "ms", runs: 11, targets: []target{toNative("python", 1.2)}},
		{id: "goprog", name: "Go program (goroutines, GC, sha256), start to exit", argv: []string{"goprog"},
			unit: "ms", want: "goprog ok\n", runs: 7, targets: []target{toNative("goprog", 1.2)}},
		{id: "getppid", name: "getppid, passed through", argv: []string{"getppid", syscalls}, ppid: true,
			unit: "ns", self: true, runs: 7, targets: []target{
				{goal: "rewritten site ≤ 2× native", num: ref{"getppid", golos}, den: ref{"getppid", native}, limit: 2},
			}},
		{id: "getppid_sud", name: "getppid, left to SUD (golos --no-rewrite)", argv: []string{"getppid", syscalls}, ppid: true,
			golosFlags: []string{"--no-rewrite"}, only: []int{native, golos},
			unit: "ns", self: true, runs: 7, targets: []target{sudTarget("getppid_sud")}},
		{id: "gs_getppid", name: "getppid with the program's own GS (ARCH_SET_GS)", argv: []string{"gs_getppid", syscalls}, ppid: true,
			unit: "ns", self: true, runs: 7, targets: []target{
				{goal: "≤ 1.5× golos's trapped getppid (--no-rewrite row)", num: ref{"gs_getppid", golos}, den: ref{"getppid_sud", golos},
					limit: 1.5, needs: "fsgsbase"},
			}},
		{id: "gs_getppid_nofsgs", name: "getppid with the program's own GS, golos --no-fsgsbase", argv: []string{"gs_getppid", syscalls}, ppid: true,
			golosFlags: []string{"--no-fsgsbase"}, only: []int{native, golos},
			unit: "ns", self: true, runs: 7, targets: []target{
				{goal: "≤ 3× SUD floor", num: ref{"gs_getppid_nofsgs", golos}, den: ref{"sud_floor", native}, limit: 3},
			}},
		{id: "arch_prctl", name: "arch_prctl(ARCH_SET_FS), raw syscall", argv: []string{"arch_prctl", syscalls},
			unit: "ns", self: true, runs: 7, targets: []target{
				{goal: "rewritten site ≤ 2× native", num: ref{"arch_prctl", golos}, den: ref{"arch_prctl", native}, limit: 2},
			}},
		{id: "clock_gettime", name: "clock_gettime (libc, vDSO)", argv: []string{"clock_gettime", size(2000000, 200000)},
			unit: "ns", self: true, runs: 7, targets: []target{
				{goal: "native (vDSO): ≤ 1.1× native", num: ref{"clock_gettime", golos}, den: ref{"clock_gettime", native}, limit: 1.1},
			}},
		{id: "first_touch", name: "first touch of " + mib + " MiB (mmap, 1 byte per page)", argv: []string{"first_touch", mib},
			unit: "ms", self: true, runs: 5},
		{id: "threads", name: "1000 threads, create + join", argv: []string{"threads", "1000"},
			unit: "ms", self: true, runs: 7, targets: []target{toNative("threads", 1.5)}},
		{id: "futex", name: "futex ping-pong, 2 threads, per round trip", argv: []string{"futex", size(20000, 5000)},
			unit: "ns", self: true, runs: 7},
		{id: "sendmsg", name: "sendmsg + recvmsg of 64 bytes, unix datagram pair, per round", argv: []string{"sendmsg", size(200000, 50000), "unix"},
			unit: "ns", self: true, runs: 7, targets: []target{toNative("sendmsg", 1.2)}},
		{id: "sendmsg_udp", name: "sendmsg + recvmsg of 64 bytes, UDP on 127.0.0.1, per round", argv: []string{"sendmsg", size(200000, 50000), "udp"},
			unit: "ns", self: true, runs: 7, targets: []target{toNative("sendmsg_udp", 1.2)}},
		{id: "sha256", name: "SHA-256 of " + shaMiB + " MiB (C, compute-bound)", argv: []string{"sha256", shaMiB},
			unit: "ms", self: true, runs: 5, targets: []target{toNative("sha256", 1.03)}},
		{id: "ls", name: "ls -l on a directory of 1,000 files", argv: []string{lookPath("ls"), "-l", thousandFilesDir},
			setup: func(string) error { return makeThousandFiles() },
			unit:  "ms", runs: 11, anyOutput: true},
		{id: "tar", name: "tar cf /dev/null /usr/include", argv: []string{lookPath("tar"), "cf", "/dev/null", "/usr/include"},
			unit: "ms", runs: 7, targets: []target{toNative("tar", 1.2)}},
		{id: "forkloop", name: "bash -c: a loop of 200 /bin/true, start to exit",
			argv: []string{lookPath("bash"), "-c", "for i in $(seq 200); do /bin/true; done"},
			unit: "ms", runs: 5, targets: []target{toNative("forkloop", 3)}},
		{id: "fork64", name: "fork + _exit + waitpid, 64 MiB dirtied, per round", argv: []string{"fork64", size(50, 10)},
			unit: "ms", self: true, runs: 5, targets: []target{toNative("fork64", 5)}},
		{id: "make", name: "make -s -B -j2 of 5 C files (gcc), start to exit", argv: []string{lookPath("make"), "-s", "-B", "-j2"},
			setup: makeProject, chdir: makeProjectDir,
			unit: "ms", runs: 5, targets: []target{toNative("make", 1.5)}},
		{id: "pysubprocess", name: "python3: subprocess.run([\"true\"]), start to exit",
			argv: []string{python3(), "-c", `import subprocess; subprocess.run(["true"])`},
			unit: "ms", runs: 11, targets: []target{toNative("pysubprocess", 1.5)}},
		{id: "redis", name: "redis-server, redis-benchmark -q -t set,get -n 20000 (client native)", server: redisServer,
			unit: "us", runs: 9, only: []int{native, golos}, targets: []target{serverTarget("redis")}},
		{id: "nginx", name: "nginx, 1 worker, static page, ab -n 5000 -c 8 (client native)", server: nginxServer,
			unit: "us", runs: 9, only: []int{native, golos}, targets: []target{serverTarget("nginx")}},
		{id: "memcached", name: "memcached -t 2, memcslap set + get, 8 × 2000 each (client native)", server: memcachedServer,
			unit: "us", runs: 9, only: []int{native, golos}, targets: []target{serverTarget("memcached")}},
		// golos as an OCI runtime: the whole `podman run --rm` of the static hello, with
		// runc and with golos-oci, both run by golos-bench itself (the native side).
		{id: "podman_runc", name: "podman run --rm of the static hello, runc (native side)",
			argv: podmanHello("runc"), setup: podmanSetup, only: []int{native},
			unit: "ms", want: "hello 42\n", runs: 7},
		{id: "podman_golos", name: "podman run --rm of the static hello, golos-oci (native side)",
			argv: podmanHello(podmanOCI), setup: podmanSetup, only: []int{native},
			unit: "ms", want: "hello 42\n", runs: 7, targets: []target{
				{goal: "≤ 1.2× the same under runc", num: ref{"podman_golos", native}, den: ref{"podman_runc", native}, limit: 1.2},
			}},
		{id: "sud_floor", name: "Syscall User Dispatch floor (native only)", argv: []string{"sud_floor", syscalls}, ppid: true,
			unit: "ns", self: true, runs: 7, only: []int{native}},
	}
}

// podmanOCI is where the podman rows find golos-oci: a link podmanSetup makes to the one
// built beside golos in the work directory (golos-oci runs the golos beside its own real
// path).
var podmanOCI = filepath.Join(os.TempDir(), "golos-bench-oci", "golos-oci")

const podmanImage = "localhost/golos-bench-hello:latest"

// podmanHello is `podman run --rm` of the static hello with the given runtime, with the
// flags runc needs on this kind of machine (its hard limits are below podman's defaults).
func podmanHello(runtime string) []string {
	return []string{lookPath("podman"), "--runtime", runtime, "run", "--rm", "--network=none",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", podmanImage, "/hello"}
}

// podmanSetup links podmanOCI to the work directory's golos-oci and imports an image
// holding only the static hello (built here: -only may leave out the hello row).
func podmanSetup(dir string) error {
	if err := os.MkdirAll(filepath.Dir(podmanOCI), 0o755); err != nil {
		return err
	}
	os.Remove(podmanOCI)
	if err := os.Symlink(filepath.Join(dir, "golos-oci"), podmanOCI); err != nil {
		return err
	}
	img := filepath.Join(dir, "podman-hello")
	if err := os.MkdirAll(img, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("gcc", "-O2", "-static", "-o", filepath.Join(img, "hello"), "bench/hello.c").CombinedOutput(); err != nil {
		return fmt.Errorf("gcc: %v: %s", err, out)
	}
	cmd := exec.Command("sh", "-c", `tar -C "$1" -c hello | podman import - "$2"`, "sh", img, podmanImage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("podman import: %v: %s", err, out)
	}
	return nil
}

// sudTarget is the target for a syscall site that golos leaves to Syscall User
// Dispatch: within 1.2× the bare SUD round trip. (A site golos rewrites into a jump has
// its own: within 2× a native syscall.)
func sudTarget(id string) target {
	return target{goal: "site left to SUD ≤ 1.2× SUD floor", num: ref{id, golos}, den: ref{"sud_floor", native}, limit: 1.2}
}

// serverTarget is the target for a server row: ≥ 0.95× native throughput, that
// is time per request ≤ 1/0.95 native.
func serverTarget(id string) target {
	return target{goal: "throughput ≥ 0.95× native (time per request ≤ 1.053×)", num: ref{id, golos}, den: ref{id, native}, limit: 1 / 0.95}
}

func toNative(id string, limit float64) target {
	return target{goal: fmt.Sprintf("≤ %g× native", limit), num: ref{id, golos}, den: ref{id, native}, limit: limit}
}

// python3 prefers the system's python3: a python3 earlier in PATH may be a shim (pyenv's
// is a shell script that execs the real one), and the row would then time two starts
// (golos runs an execve in a new golos process, as Linux runs it in the same one).
func python3() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return lookPath("python3")
}

// lookPath returns the program's path, or its bare name when it is not installed: that
// then fails on every side and the row shows why.
func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return "/nonexistent/" + name
}

// buildCommand is the command that builds the work-directory program name into dir.
// C workloads are static (one binary, the same on every side), except the dynamic hello,
// which gets gcc's default (dynamic, PIE). The Go programs (a directory bench/NAME) are
// built with CGO_ENABLED=0.
func buildCommand(name, dir string) *exec.Cmd {
	out := filepath.Join(dir, name)
	gcc := func(src string, static bool) *exec.Cmd {
		args := []string{"-O2", "-Wall", "-pthread", "-o", out, src}
		if static {
			args = append(args, "-static")
		}
		return exec.Command("gcc", args...)
	}
	if st, err := os.Stat(filepath.Join("bench", name)); err == nil && st.IsDir() {
		cmd := exec.Command("go", "build", "-o", out, "./bench/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		return cmd
	}
	switch name {
	case "hello_dyn":
		return gcc("bench/hello.c", false)
	}
	return gcc(filepath.Join("bench", name+".c"), true)
}

// ref names one median: a workload's, on one side.
type ref struct {
	id   string
	side int
}

// A target is one of the goals. With den set it judges the ratio num/den,
// otherwise num's median itself, a time in ms; met means value ≤ limit, or value ≥
// limit when atLeast. needs names a CPU flag without which the target does not apply.
type target struct {
	goal     string
	num, den ref
	limit    float64
	atLeast  bool
	needs    string
}

// judge returns the target's value as text and whether it is met; ok is false when a
// median it needs is missing (a side failed).
func (t target) judge(median func(ref) (float64, bool)) (value string, met, ok bool) {
	v, ok := median(t.num)
	if !ok {
		return "", false, false
	}
	value = formatValue(v) + " ms"
	if t.den.id != "" {
		d, ok := median(t.den)
		if !ok {
			return "", false, false
		}
		v /= d
		value = formatRatio(v)
		if v < 2 { // close calls: enough digits that 1.034 does not read as 1.03
			value = fmt.Sprintf("%.3f×", v)
		}
	}
	if t.atLeast {
		return value, v >= t.limit, true
	}
	return value, v <= t.limit, true
}

// thousandFilesDir is the ls workload's directory of 1,000 small files.
var thousandFilesDir = filepath.Join(os.TempDir(), "golos-bench-1000-files")

// makeThousandFiles makes thousandFilesDir, unless an earlier run did.
func makeThousandFiles() error {
	dir := thousandFilesDir
	if _, err := os.Stat(filepath.Join(dir, "f999")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 0; i < 1000; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), []byte("x\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeProjectDir is the make workload's project, in the work directory.
const makeProjectDir = "makeproj"

// makeProject writes the make workload's project: a Makefile and five C files, each
// compiled with gcc -O2 -c (two at a time under -j2), then linked into prog.
func makeProject(dir string) error {
	files := map[string]string{
		"Makefile": "CC = gcc\nCFLAGS = -O2 -Wall\nOBJS = main.o vec.o str.o hash.o sort.o\n\n" +
			"prog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n" +
			"%.o: %.c proj.h\n\t$(CC) $(CFLAGS) -c $<\n",
		"proj.h": `#include <stddef.h>
#include <stdint.h>
long vec_dot(const long *a, const long *b, size_t n);
void vec_scale(long *a, size_t n, long k);
size_t str_count(const char *s, char c);
void str_reverse(char *s);
uint64_t hash_fnv(const void *p, size_t n);
uint32_t hash_crc32(const void *p, size_t n);
void sort_longs(long *a, size_t n);
int sorted(const long *a, size_t n);
`,
		"main.c": `#include <stdio.h>
#include <string.h>
#include "proj.h"

int main(void)
{
	long a[64], b[64];
	for (size_t i = 0; i < 64; i++) {
		a[i] = (long)(i * 7919 % 64);
		b[i] = (long)i;
	}
	vec_scale(b, 64, 2);
	char s[] = "golos builds golos";
	str_reverse(s);
	sort_longs(a, 64);
	printf("%ld %zu %s %llx %x %d\n", vec_dot(a, b, 64), str_count(s, 'o'), s,
	       (unsigned long long)hash_fnv(s, strlen(s)), hash_crc32(s, strlen(s)), sorted(a, 64));
	return 0;
}
`,
		"vec.c": `#include "proj.h"

long vec_dot(const long *a, const long *b, size_t n)
{
	long s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

void vec_scale(long *a, size_t n, long k)
{
	for (size_t i = 0; i < n; i++)
		a[i] *= k;
}
`,
		"str.c": `#include <string.h>
#include "proj.h"

size_t str_count(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

void str_reverse(char *s)
{
	for (size_t i = 0, j = strlen(s); i + 1 < j; i++, j--) {
		char t = s[i];
		s[i] = s[j - 1];
		s[j - 1] = t;
	}
}
`,
		"hash.c": `#include "proj.h"

uint64_t hash_fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

uint32_t hash_crc32(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t c = 0xffffffff;
	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}
`,
		"sort.c": `#include <stdlib.h>
#include "proj.h"

static int cmp(const void *x, const void *y)
{
	long a = *(const long *)x, b = *(const long *)y;
	return (a > b) - (a < b);
}

void sort_longs(long *a, size_t n)
{
	qsort(a, n, sizeof *a, cmp);
}

int sorted(const long *a, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (a[i - 1] > a[i])
			return 0;
	return 1;
}
`,
	}
	proj := filepath.Join(dir, makeProjectDir)
	if err := os.MkdirAll(proj, 0o755); err != nil {
		return err
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(proj, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
