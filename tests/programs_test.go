package tests

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each test below runs one program of testdata in every flavour, natively and under
// golos; wantNative checks that the native run does what the program is written to do.

func TestTLS(t *testing.T) {
	forFlavours(t, "tls", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 3,
			"[initial] ie_int=42 ie_ll=-1234567890123",
			"[final] ie_int=47",
			"tls below thread pointer: yes",
			"errno=ENOENT", "errno=EBADF", "errno set and read back: 12345")
	})
}

func TestTLSBig(t *testing.T) {
	forFlavours(t, "tlsbig", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "tbss nonzero bytes initially: 0", "page-aligned tls: aligned=yes first=0x5a small=99")
	})
}

// TestFSOwn: the program points FS at its own block and checks it after 100,000 syscalls
// and page faults (invariant 2 of docs/design.md).
func TestFSOwn(t *testing.T) {
	forFlavours(t, "fsown", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "fs mismatches: 0", "PASS")
	})
}

// TestFSUnmapped: FS at unmapped memory for 1.5 s of syscalls while golos's Go runtime
// collects garbage and preempts its goroutines (invariant 2 of docs/design.md).
func TestFSUnmapped(t *testing.T) {
	forFlavours(t, "fsunmapped", func(t *testing.T, p string) {
		// GOLOS_STRESS_RUNTIME makes golos's runtime collect garbage without pause and
		// spin goroutines that only a preemption signal stops, and report the count.
		nat, g := runBothOpts(t, runOpts{env: []string{"GOLOS_STRESS_RUNTIME=1"}}, p)
		wantNative(t, nat, 0, "junk FS kept up to the restore: yes", "PASS")
		if g == nil {
			return
		}
		m := regexp.MustCompile(`runtime stress: (\d+) garbage collections`).FindStringSubmatch(string(g.stderr))
		if m == nil {
			t.Fatalf("golos did not report its runtime stress; stderr:\n%s", clip(g.stderr))
		}
		if n, _ := strconv.Atoi(m[1]); n < 5 {
			t.Errorf("only %d garbage collections ran in golos while FS was junk; want at least 5", n)
		}
	})
}

// TestGSOwn: the program sets its own GS base and checks it across syscalls, faults,
// handlers, thread creation, signals to a spinning thread and, while it spins, signals
// from outside taken by golos's Go runtime. Linux gives every program ARCH_SET_GS, with or
// without FSGSBASE; golos switches GS with wrgsbase where the CPU has FSGSBASE and with
// arch_prctl where it does not. --no-fsgsbase forces the second way, so both are tested
// on every machine.
func TestGSOwn(t *testing.T) {
	// The way --stats names, by the CPU's flags (the loader's AT_HWCAP2 is the host's).
	byInsn := "switched with arch_prctl (no FSGSBASE)"
	if cpuFlag("fsgsbase") {
		byInsn = "switched with wrgsbase (FSGSBASE)"
	}
	paths := []struct {
		name  string
		flags []string
		way   string
	}{
		{"default", []string{"--stats"}, byInsn},
		{"no-fsgsbase", []string{"--stats", "--no-fsgsbase"}, "switched with arch_prctl (no FSGSBASE)"},
	}
	forFlavours(t, "gsown", func(t *testing.T, p string) {
		for _, path := range paths {
			t.Run(path.name, func(t *testing.T) {
				o := runOpts{golosFlags: path.flags, pester: syscall.SIGURG, pesterEvery: time.Millisecond}
				nat, g := runBothOpts(t, o, p, "spin")
				wantNative(t, nat, 0, "ARCH_GET_GS gives the block: yes\n", "syscalls: 0 mismatches\n",
					"threads: 0 mismatches, 4 of 4 inherited the creator's GS\n",
					"busy: 200 signals taken, 0 mismatches\n", "spin: 0 mismatches\n", "PASS\n")
				if g != nil && !bytes.Contains(g.stderr, []byte(path.way)) {
					t.Errorf("golos --stats should say GS was %s; stderr:\n%s", path.way, clip(g.stderr))
				}
			})
		}
	})
}

// cpuFlag reports whether /proc/cpuinfo lists flag for the first CPU.
func cpuFlag(flag string) bool {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			return slices.Contains(strings.Fields(v), flag)
		}
	}
	return false
}

func TestExitCode(t *testing.T) {
	forFlavours(t, "exitcode", func(t *testing.T, p string) {
		for _, how := range []string{"exit", "return", "_exit"} {
			for _, status := range []int{0, 1, 42, 255, 256} {
				if status == 256 && how != "exit" {
					continue // one case of a status beyond 8 bits is enough
				}
				t.Run(fmt.Sprintf("%s-%d", how, status), func(t *testing.T) {
					nat, _ := runBoth(t, p, strconv.Itoa(status), how)
					line := fmt.Sprintf("exitcode: status %d via %s\n", status, how)
					want := []string{line + "atexit handler ran\n"}
					if how == "_exit" {
						// _exit flushes nothing; glibc buffers the line fully (stdout is a
						// pipe), musl writes it at its newline before it notices that.
						want = []string{"", line}
					}
					wantNative(t, nat, status&0xff)
					if !slices.Contains(want, string(nat.stdout)) {
						t.Errorf("test program misbehaves natively: stdout %q, want one of %q", nat.stdout, want)
					}
				})
			}
		}
	})
}

// TestKillSelf: a program killed by signal N kills golos by signal N, so that the parent
// sees WIFSIGNALED (runBoth compares the signal; a shell reports 128+N). The core-dumping
// ones (SIGABRT, SIGSEGV) show no WCOREDUMP under golos, which writes no core.
func TestKillSelf(t *testing.T) {
	signals := []struct {
		name string
		num  int
	}{{"abrt", 6}, {"segv", 11}, {"kill", 9}, {"term", 15}}
	forFlavours(t, "killself", func(t *testing.T, p string) {
		for _, sig := range signals {
			t.Run(sig.name, func(t *testing.T) {
				nat, _ := runBoth(t, p, sig.name)
				wantNative(t, nat, 128+sig.num, "killself: "+sig.name+"\n")
				if nat.signal != 0 && int(nat.signal) != sig.num {
					t.Errorf("test program misbehaves natively: killed by signal %d, want %d", nat.signal, sig.num)
				}
			})
		}
	})
}

// TestKillSelfStats: golos run --stats still prints its report when the program dies of a
// signal, before golos dies of it.
func TestKillSelfStats(t *testing.T) {
	p := prog(t, "killself.glibc-static")
	g := runGolos(t, runTimeout, "run", "--stats", p, "segv")
	if g.signal != syscall.SIGSEGV || !bytes.Contains(g.stderr, []byte("golos: stats: ")) {
		t.Errorf("golos run --stats killself segv: %s, want killed by SIGSEGV with a report on stderr:\n%s", g, clip(g.stderr))
	}
}

// argsArgv are arguments that golos must pass through untouched, golos's own options
// among them.
var argsArgv = []string{"", "two words", "--help", "--quiet", "--debug=syscalls", "run", "-", "ünïcødé"}

var argsEnv = []string{"GOLOS_TEST_A=hello world", "GOLOS_TEST_EMPTY="}

func TestArgs(t *testing.T) {
	forFlavours(t, "args", func(t *testing.T, p string) {
		dir := t.TempDir()
		o := runOpts{env: argsEnv, unsetEnv: []string{"GOLOS_TEST_UNSET"}, dir: dir}
		nat, _ := runBothOpts(t, o, append([]string{p}, argsArgv...)...)
		wantNative(t, nat, 0,
			fmt.Sprintf("argc=%d\n", 1+len(argsArgv)),
			"argv[0]=["+p+"]", "argv[1]=[]\n", "argv[2]=[two words]", "argv[8]=[ünïcødé]",
			"GOLOS_TEST_A=[hello world]", "GOLOS_TEST_EMPTY=[]", "GOLOS_TEST_UNSET unset",
			"cwd="+dir+"\n", "/proc/self/exe basename="+filepath.Base(p)+"\n")
	})
}

// TestPathLookup: a PROGRAM without a slash is looked up in PATH, and argv[0] stays the
// name as given, as a shell does it.
func TestPathLookup(t *testing.T) {
	forFlavours(t, "args", func(t *testing.T, p string) {
		dir := t.TempDir()
		const name = "golos-args-test"
		copyFile(t, p, filepath.Join(dir, name), 0o755)
		o := runOpts{
			env:        []string{"PATH=" + dir + ":" + os.Getenv("PATH")},
			nativePath: filepath.Join(dir, name),
		}
		nat, _ := runBothOpts(t, o, name, "x")
		wantNative(t, nat, 0, "argc=2\n", "argv[0]=["+name+"]\n", "/proc/self/exe basename="+name+"\n")
	})
}

// TestAuxv compares the auxiliary vector; the FSGSBASE bit of AT_HWCAP2 is the intended
// difference: golos clears it (docs/design.md, "The program's own GS").
func TestAuxv(t *testing.T) {
	const fsgsbase = "AT_HWCAP2 FSGSBASE (bit 1): "
	forFlavours(t, "auxv", func(t *testing.T, p string) {
		nat, gol := runBothOpts(t, runOpts{maskPrefixes: []string{fsgsbase}}, p)
		wantNative(t, nat, 0, "AT_PAGESZ: 4096\n", "AT_PHDR is this executable's program headers: yes",
			"AT_ENTRY is _start: yes", "AT_EXECFN: "+p+"\n", fsgsbase)
		if gol != nil && !bytes.Contains(gol.stdout, []byte(fsgsbase+"clear\n")) {
			t.Errorf("golos must clear FSGSBASE (bit 1) in AT_HWCAP2; the program saw %q",
				lineWith(gol.stdout, fsgsbase))
		}
	})
}

func TestMalloc(t *testing.T) {
	forFlavours(t, "malloc", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "brk below the start refused: yes", "brk shrank back to the start: yes",
			"regrown brk memory is zero: yes", "calloc 3 MiB zero: yes", "errors: 0\n")
	})
}

// TestStdin feeds stdin from /dev/null, a pipe and a regular file; the expected output is
// computed here too.
func TestStdin(t *testing.T) {
	var data bytes.Buffer
	for i := 0; data.Len() < 1<<20; i++ {
		fmt.Fprintf(&data, "line %d %s\n", i, strings.Repeat(string(rune('a'+i%26)), i%97))
		if i%1000 == 0 {
			data.Write([]byte{0, 1, 2, 0xff, 0xfe})
		}
	}
	file := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(file, data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := func(b []byte) string {
		h := fnv.New64a()
		h.Write(b)
		return fmt.Sprintf("bytes=%d lines=%d fnv1a=%016x\n", len(b), bytes.Count(b, []byte("\n")), h.Sum64())
	}
	cases := []struct {
		name string
		o    runOpts
		want string
	}{
		{"devnull", runOpts{}, summary(nil)},
		{"pipe", runOpts{stdin: data.Bytes()}, summary(data.Bytes())},
		{"file", runOpts{stdinFile: file}, summary(data.Bytes())},
	}
	forFlavours(t, "stdin", func(t *testing.T, p string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				nat, _ := runBothOpts(t, c.o, p)
				wantNative(t, nat, 0, c.want)
			})
		}
	})
}

// TestGoProgram runs the Go program of testdata/goprog (goroutines, channels, GC, timers,
// async preemption, sha256); it exits with status 7.
func TestGoProgram(t *testing.T) {
	t.Parallel()
	p := prog(t, "goprog.go-static")
	nat, _ := runBoth(t, p, "a", "b c", "--help")
	wantNative(t, nat, 7, `args: 3 ["a" "b c" "--help"]`, "garbage collections ran: true",
		"async preemption worked: true true", "exiting with status 7\n")
}

// TestBusybox runs a few applets of the static busybox (Debian's busybox-static).
func TestBusybox(t *testing.T) {
	const bb = "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Fatalf("%s: %v (%s)", bb, err, installHint)
	}
	dir := t.TempDir()
	var data bytes.Buffer
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&data, "%d\n", (i*7919)%5003)
	}
	if err := os.WriteFile(filepath.Join(dir, "numbers"), data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		o    runOpts
		argv []string
		code int
	}{
		{"true", runOpts{}, []string{"true"}, 0},
		{"false", runOpts{}, []string{"false"}, 1},
		{"echo", runOpts{}, []string{"echo", "hello", "  world"}, 0},
		{"seq", runOpts{}, []string{"seq", "1", "3", "10000"}, 0},
		{"sha256sum", runOpts{dir: dir}, []string{"sha256sum", "numbers"}, 0},
		{"wc", runOpts{dir: dir}, []string{"wc", "-l", "-c", "numbers"}, 0},
		{"sort-stdin", runOpts{stdin: data.Bytes()}, []string{"sort", "-n", "-r"}, 0},
		{"sh", runOpts{}, []string{"sh", "-c", `x=6; echo "$((x * 7))"; exit 5`}, 5},
		{"env", runOpts{env: argsEnv}, []string{"env"}, 0},
		{"cat-missing", runOpts{dir: dir}, []string{"cat", "no-such-file"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			nat, _ := runBothOpts(t, c.o, append([]string{bb}, c.argv...)...)
			wantNative(t, nat, c.code)
		})
	}
}

// copyFile copies the file from to a file to with mode. The write holds off this process's
// forks (syscall.ForkLock), so that no parallel test's child inherits the writer's descriptor and makes a program just copied "text file busy"
// when it is run.
func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err == nil {
		syscall.ForkLock.RLock()
		err = os.WriteFile(to, b, mode)
		syscall.ForkLock.RUnlock()
	}
	if err == nil {
		err = os.Chmod(to, mode) // WriteFile's mode is subject to the umask
	}
	if err != nil {
		t.Fatal(err)
	}
}

// reachableTempDir is a temporary directory that other users reach (t.TempDir's parent is
// 0700), for a test that runs golos or a program as another user.
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lineWith(out []byte, prefix string) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return "(no such line)"
}

// TestRlimitMem: RLIMIT_AS and RLIMIT_DATA set by the program bind the program's own
// mappings and break, across fork and execve, as natively; golos's runtime, which they
// would starve, is not bound by them.
func TestRlimitMem(t *testing.T) {
	forFlavours(t, "rlimit_mem", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "failures: 0")
	})
}

// TestSharedAnonCommit: a shared anonymous mapping (or a shared one of /dev/zero) larger
// than the machine can commit fails with ENOMEM when it is made, as natively, though golos
// backs it with a memfd, whose pages the host charges only when they are touched.
func TestSharedAnonCommit(t *testing.T) {
	forFlavours(t, "mm_shared_commit", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		if mode, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err != nil || strings.TrimSpace(string(mode)) != "0" {
			// Only the heuristic mode's answers are known; the others are still compared.
			wantNative(t, nat, 0, "shared anonymous, one page: mapped\n")
			return
		}
		wantNative(t, nat, 0, "shared anonymous: ENOMEM\n", "shared anonymous, MAP_NORESERVE: mapped\n",
			"shared /dev/zero: ENOMEM\n", "private anonymous: ENOMEM\n", "shared anonymous, one page: mapped\n")
	})
}

// TestProcVM: the memory figures of /proc/self/status, stat and statm are the program's,
// as Linux counts them: they agree with each other and with smaps, the code and data lie
// where the program headers say, the peaks keep an unmapped mapping, shared anonymous
// memory is RssShmem, and stat's signal fields are the program's (proc_vm.c). golos
// showed its own: a VmPeak of 16 TiB, its runtime in VmRSS, its text as the code, its
// handlers as caught signals.
func TestProcVM(t *testing.T) {
	forFlavours(t, "proc_vm", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "stat's code is the program headers': ok\n", "VmPeak keeps the mapping: ok\n",
			"stat's caught signals: ok\n", "failures: 0\n")
	})
}

// TestProcVMOther: another process's /proc/<pid>/statm, status and stat agree on its
// program's memory, while it runs and while it is stopped (its golos then cannot answer,
// and the asker counts from what it published: procpeer.go), as TestProcVM checks them
// from inside.
func TestProcVMOther(t *testing.T) {
	script := `/bin/sleep 5 & p=$!
i=0; while [ "$(cat /proc/$p/comm)" != sleep ] && [ $i -lt 200 ]; do /bin/sleep 0.05; i=$((i+1)); done
kb() { awk -v k="$1:" '$1 == k {print $2}' /proc/$p/status; }
look() {
	w=$1
	set -- $(cat /proc/$p/statm); size=$1 res=$2 text=$4
	vs=$(kb VmSize) rss=$(kb VmRSS) exe=$(kb VmExe)
	set -- $(cut -d' ' -f23,24 /proc/$p/stat); vsize=$1 srss=$2
	[ $((size * 4)) = "$vs" ] && echo "$w statm size: ok" || echo "$w statm size $size, VmSize $vs"
	[ $((vsize / 1024)) = "$vs" ] && echo "$w stat vsize: ok" || echo "$w stat vsize $vsize, VmSize $vs"
	[ $((text * 4)) = "$exe" ] && echo "$w statm text: ok" || echo "$w statm text $text, VmExe $exe"
	d=$((res * 4 - rss)); [ ${d#-} -le 256 ] && echo "$w statm resident: ok" || echo "$w statm resident $res, VmRSS $rss"
	d=$((srss * 4 - rss)); [ ${d#-} -le 256 ] && echo "$w stat rss: ok" || echo "$w stat rss $srss, VmRSS $rss"
}
look running
kill -STOP $p; i=0; until grep -q '^State:.T' /proc/$p/status || [ $i -ge 200 ]; do /bin/sleep 0.05; i=$((i+1)); done
look stopped
kill -CONT $p; kill $p; wait $p; echo status $?
`
	nat, _ := runBothOpts(t, procEnv, "/bin/sh", "-c", script)
	var want []string
	for _, when := range []string{"running", "stopped"} {
		for _, what := range []string{"statm size", "stat vsize", "statm text", "statm resident", "stat rss"} {
			want = append(want, when+" "+what+": ok\n")
		}
	}
	wantNative(t, nat, 0, append(want, "status 143\n")...)
}

// TestBrkRandom: the program break starts a page or more after the executable's .bss, at
// a place that changes from run to run, as Linux's randomization puts it
// (randomize_va_space 2); golos started it right at the end of the .bss, every time.
func TestBrkRandom(t *testing.T) {
	forFlavours(t, "brk_random", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		if strings.Contains(string(nat.stdout), "randomize_va_space: 2\n") && !strings.HasSuffix(p, "static-pie") {
			wantNative(t, nat, 0, "a page's gap, within 1 GiB: yes\n")
		}
		// Where it starts, in four runs each: the same place every time on neither side.
		for _, side := range []string{"native", "golos"} {
			seen := map[string]bool{}
			for i := 0; i < 4; i++ {
				var r *result
				if side == "native" {
					r = runNative(&runOpts{dir: t.TempDir()}, p, "offset")
				} else {
					r = runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p, "offset")
				}
				if r.err != nil || r.code != 0 {
					t.Fatalf("%s run of %s offset: %s", side, p, r)
				}
				seen[string(r.stdout)] = true
			}
			if strings.Contains(string(nat.stdout), "randomize_va_space: 2\n") && len(seen) == 1 {
				t.Errorf("%s: the break started at the same place in four runs: %v", side, seen)
			}
		}
	})
}

// TestProcReread: a /proc file of golos's making, kept open and read again from its
// start (lseek, pread, readv), shows the process as it is then, as Linux's seq_files do;
// golos served the text of the moment of the open (proc_reread.c).
func TestProcReread(t *testing.T) {
	forFlavours(t, "proc_reread", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "read again after lseek sees the new memory: yes\n", "pread at 0 sees it: yes\n",
			"readv from the start sees it: yes\n", "a read in two parts is one text: yes\n",
			"stat read again counts the new thread: yes\n")
	})
}
