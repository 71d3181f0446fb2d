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
	setup      func() // prepares what the program works on, before it is measured
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
			unit: "ms", self: true, runs: 7},
		{id: "futex", name: "futex ping-pong, 2 threads, per round trip", argv: []string{"futex", size(20000, 5000)},
			unit: "ns", self: true, runs: 7},
		{id: "sha256", name: "SHA-256 of " + shaMiB + " MiB (C, compute-bound)", argv: []string{"sha256", shaMiB},
			unit: "ms", self: true, runs: 5, targets: []target{toNative("sha256", 1.03)}},
		{id: "ls", name: "ls -l on a directory of 1,000 files", argv: []string{lookPath("ls"), "-l", thousandFilesDir},
			setup: makeThousandFiles,
			unit:  "ms", runs: 11, anyOutput: true},
		{id: "tar", name: "tar cf /dev/null /usr/include", argv: []string{lookPath("tar"), "cf", "/dev/null", "/usr/include"},
			unit: "ms", runs: 7, targets: []target{toNative("tar", 1.2)}},
		{id: "sud_floor", name: "Syscall User Dispatch floor (native only)", argv: []string{"sud_floor", syscalls}, ppid: true,
			unit: "ns", self: true, runs: 7, only: []int{native}},
	}
}

// sudTarget is the target for a syscall site that golos leaves to Syscall User
// Dispatch: within 1.2× the bare SUD round trip. (A site golos rewrites into a jump has
// its own: within 2× a native syscall.)
func sudTarget(id string) target {
	return target{goal: "site left to SUD ≤ 1.2× SUD floor", num: ref{id, golos}, den: ref{"sud_floor", native}, limit: 1.2}
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
func makeThousandFiles() {
	dir := thousandFilesDir
	if _, err := os.Stat(filepath.Join(dir, "f999")); err == nil {
		return
	}
	os.MkdirAll(dir, 0o755)
	for i := 0; i < 1000; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), []byte("x\n"), 0o644)
	}
}
