package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Robustness (invariants 4 and 5 of docs/design.md): wild pointers and sizes get Linux's errno,
// golos's own memory is out of the application's reach, and a syscall golos does not
// implement is ENOSYS, named once on stderr.

// TestWildPointers: testdata/wild.c gives wild pointers (1, 16, a non-canonical and a
// kernel address, PROT_NONE pages, buffers and strings that run into a PROT_NONE page) and
// wild sizes (negative, too large, high bits above an int argument) to syscalls golos
// answers itself and to ones it passes through, and prints one line per call. Every case
// is one whose result Linux fixes, so golos must print the same lines; it must neither
// crash nor hang.
func TestWildPointers(t *testing.T) {
	forFlavours(t, "wild", func(t *testing.T, p string) {
		nat, g := runBoth(t, p)
		// A few facts from the man pages, to show the native run did what wild.c means.
		wantNative(t, nat, 0,
			`syscall(SYS_readlink, "/proc/self/exe", (char *)1, 100): -1 EFAULT`+"\n", // readlink(2)
			`syscall(SYS_readlink, "/proc/self/exe", buf, 0): -1 EINVAL`+"\n",         // readlink(2)
			"syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, 8): -1 EINVAL\n",           // sigaction(2)
			"syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)1): -1 EFAULT\n",            // arch_prctl(2)
			"syscall(SYS_munmap, pg, 0): -1 EINVAL\n",                                 // munmap(2)
			"syscall(SYS_tgkill, self, 999999, SIGUSR1): -1 ESRCH\n",                  // tgkill(2)
			"syscall(SYS_clone3, &ca, 8): -1 EINVAL\n",                                // clone(2)
			"done\n")
		if g == nil {
			return
		}
		if bytes.Contains(g.stderr, []byte("panic")) || bytes.Contains(g.stderr, []byte("goroutine ")) {
			t.Errorf("golos crashed; stderr:\n%s", clip(g.stderr))
		}
		// runBoth names the first difference; list them all, one call per line.
		if d := wildLineDiffs(nat.stdout, g.stdout); len(d) > 0 {
			t.Errorf("%d calls give golos a different result than Linux (native | golos):\n%s",
				len(d), strings.Join(d, "\n"))
		}
	})
}

// wildLineDiffs lists the lines where a and b differ, as "a-line | b-line".
func wildLineDiffs(a, b []byte) []string {
	al := strings.Split(strings.TrimSuffix(string(a), "\n"), "\n")
	bl := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var d []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			d = append(d, fmt.Sprintf("  %s | %s", x, y))
		}
	}
	return d
}

// golosmemLine is one expected line of testdata/golosmem.c's output: its text, or one of
// several texts that share what comes before the last ": ".
type golosmemLine struct {
	want []string // the first is the one documented; others are also right
	why  string   // where the expectation comes from
}

func memLine(why string, want ...string) golosmemLine { return golosmemLine{want, why} }

// golosmemWant is what testdata/golosmem.c must print under golos, in order ("info:",
// "view:" and "detail:" lines aside). To the application, golos's memory is not mapped (docs/design.md,
// "Architecture": the program's calls never reach golos's mappings), so each call aimed at it must
// answer as Linux answers for memory that is not mapped, or, where Linux would replace
// the memory, refuse as golos documents.
func golosmemWant() []golosmemLine {
	const line = "a line written to /dev/null\n" // written 10,000 times by golosmem.c
	return []golosmemLine{
		memLine("proc(5): /proc/self/maps lists the process's mappings; to the application golos's image is not one",
			"maps: nothing at golos's image 0x7e0000000000-0x7e0004000000: yes"),
		memLine("proc(5): a mapping backed by a file names the file: the program's text is its own executable's",
			"maps: the program's text is an executable mapping of its file: yes"),
		memLine("proc(5): [stack] is the initial process's (main thread's) stack: the program's own",
			"maps: the program's stack is marked [stack]: yes"),
		memLine("every address the program uses lies in a mapping its /proc/self/maps lists",
			"maps: every address of the program's own is in its view: yes"),
		memLine("golos has mappings of its own (its image, its heap, its threads' stacks) that the application does not see",
			"golos: foreign mappings found: yes"),
		memLine("what the application's view leaves out is golos's, none of the program's own memory",
			"golos: foreign ranges holding the program's own memory: 0"),
		memLine("MAP_FIXED may not replace golos's memory: ENOMEM (mmap(2): no memory is available)",
			"golos: mmap fixed over each foreign mapping: -1 ENOMEM"),
		memLine("MAP_FIXED_NOREPLACE cannot have golos's memory either: EEXIST (mmap(2)) or golos's ENOMEM",
			"golos: mmap fixed-noreplace over each foreign mapping: -1 EEXIST",
			"golos: mmap fixed-noreplace over each foreign mapping: -1 ENOMEM"),
		memLine("mremap(MREMAP_FIXED) follows MAP_FIXED's rule",
			"golos: mremap own page onto each foreign mapping: -1 ENOMEM"),
		memLine("mprotect(2): ENOMEM, the range specifies pages that are not mapped",
			"golos: mprotect PROT_NONE each foreign mapping: -1 ENOMEM"),
		memLine("madvise(2): ENOMEM, addresses in the range are not currently mapped",
			"golos: madvise MADV_DONTNEED each foreign mapping: -1 ENOMEM"),
		memLine("proc(5): /proc/self/mem reads memory that is not mapped as EIO (fs/proc/base.c, mem_rw)",
			"golos: pread /proc/self/mem at each foreign mapping: -1 EIO"),
		memLine("proc(5): /proc/self/mem writes memory that is not mapped as EIO, page protections aside",
			"golos: pwrite /proc/self/mem at each foreign mapping: -1 EIO"),
		memLine("munmap(2): it is not an error if the range contains no mapped pages",
			"golos: munmap each foreign mapping: 0 -"),
		memLine("a refused mremap leaves the old mapping as it was",
			"golos: own page intact after the mremaps: yes"),
		memLine("MAP_FIXED over golos's image: ENOMEM",
			"golos: mmap fixed 64MiB at 0x7e0000000000: -1 ENOMEM"),
		memLine("MAP_FIXED over golos's text: ENOMEM",
			"golos: mmap fixed 1 page at 0x7e0000001000: -1 ENOMEM"),
		memLine("mprotect(2) of pages that are not mapped: ENOMEM",
			"golos: mprotect 1 page at 0x7e0000001000 PROT_NONE: -1 ENOMEM"),
		memLine("mprotect(2) of pages that are not mapped: ENOMEM",
			"golos: mprotect 64MiB at 0x7e0000000000 PROT_READ: -1 ENOMEM"),
		memLine("madvise(2) of pages that are not mapped: ENOMEM",
			"golos: madvise 64MiB at 0x7e0000000000 MADV_DONTNEED: -1 ENOMEM"),
		memLine("munmap(2) of pages that are not mapped: 0",
			"golos: munmap 64MiB at 0x7e0000000000: 0 -"),
		memLine("write(2) to /dev/null returns the count",
			fmt.Sprintf("work: 10000 writes of %d bytes: %d bytes", len(line), 10000*len(line))),
		memLine("/proc/self/exe names the program every time",
			"work: 2000 readlinks of /proc/self/exe the same: 2000"),
		memLine("mmap(2) and munmap(2) of the program's own memory work",
			"work: 1000 mmap/touch/munmap cycles: 1000"),
		memLine("mmap(2) MAP_FIXED: the overlapped part of an existing mapping is discarded; the call returns addr",
			"own: mmap fixed over own page returns its address: yes"),
		memLine("mmap(2) MAP_ANONYMOUS: the mapping is initialized to zero",
			"own: replaced page reads zero: yes"),
		memLine("mmap(2) MAP_FIXED replaces only the overlapped pages",
			"own: neighbours kept: yes"),
		memLine("mmap(2) MAP_FIXED_NOREPLACE: a collision with an existing mapping fails with EEXIST",
			"own: mmap fixed-noreplace over own page: -1 EEXIST"),
		memLine("mmap(2) MAP_FIXED_NOREPLACE into free space maps at addr",
			"own: mmap fixed-noreplace into a hole returns its address: yes"),
		memLine("munmap(2)", "own: munmap 4 own pages: 0 -"),
		memLine("mprotect(2): ENOMEM for pages that are not mapped", "own: mprotect unmapped pages: -1 ENOMEM"),
		memLine("madvise(2): ENOMEM for addresses not currently mapped", "own: madvise unmapped pages: -1 ENOMEM"),
		memLine("the program ran to its end", "done"),
	}
}

// checkGolosmem compares golosmem.c's output with golosmemWant, line by line.
func checkGolosmem(t *testing.T, what string, out []byte, native bool) {
	t.Helper()
	var got, details []string
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "detail: "):
			details = append(details, l)
		case !strings.HasPrefix(l, "info: ") && !strings.HasPrefix(l, "view: "):
			got = append(got, l)
		}
	}
	want := golosmemWant()
	bad := 0
	for i, w := range want {
		if native && strings.HasPrefix(w.want[0], "golos: ") {
			continue // natively nothing is at golos's addresses: mapping there succeeds
		}
		if i >= len(got) {
			bad++
			t.Errorf("%s: output ends after %d lines; line %d should be %q (%s)", what, len(got), i+1, w.want[0], w.why)
			break
		}
		g := got[i]
		ok := false
		for _, s := range w.want {
			ok = ok || g == s
		}
		if !ok {
			bad++
			t.Errorf("%s: line %d: got %q, want %q (%s)", what, i+1, g, w.want[0], w.why)
		}
	}
	if len(got) > len(want) {
		t.Errorf("%s: %d lines more than expected, from %q", what, len(got)-len(want), got[len(want)])
	}
	if bad > 0 || len(got) != len(want) {
		// The result of each call on each foreign mapping, when they were not all alike.
		if strings.Contains(strings.Join(got, "\n"), "differs") {
			t.Logf("%s: each call on each mapping:\n%s", what, strings.Join(details, "\n"))
		}
		t.Logf("%s stdout without its info, view and detail lines:\n%s", what, strings.Join(got, "\n"))
	}
}

// TestProcSelfMem: /proc/self/mem through pread, pwrite, preadv, pwritev, read, writev and
// a dup: the program's memory reads and writes (a read-only page too), a read past a
// mapping's end stops there, and addresses where golos has its image and the Go heap
// (nothing natively) are EIO, as natively, with the rewriter and without it; golos itself
// goes on (a write there used to land in golos's memory).
func TestProcSelfMem(t *testing.T) {
	forFlavours(t, "proc_mem", func(t *testing.T, p string) {
		for _, flags := range [][]string{nil, {"--no-rewrite"}} {
			nat, _ := runBothOpts(t, runOpts{golosFlags: flags}, p)
			wantNative(t, nat, 0, "pwrite read-only page: 4\n", "pread across a mapping's end: 4096\n",
				"pwrite 0x7e0000001000: EIO\n", "pwrite 0xc000000000: EIO\n", "lseek+writev 0xc000000000: EIO\n",
				"write across a mapping's end: 16\n", "still running\n")
		}
	})
}

// TestGolosMemoryProtected: testdata/golosmem.c aims mmap(MAP_FIXED), MAP_FIXED_NOREPLACE,
// mremap(MREMAP_FIXED), mprotect, madvise(MADV_DONTNEED) and munmap at every mapping of
// golos's process that is not the application's (golos's image, its Go heap wherever the
// runtime put it, its threads' stacks) and at golos's link address, then makes some
// 13,000 syscalls and checks MAP_FIXED and MAP_FIXED_NOREPLACE over its own memory.
//
// golos shows the application only its own memory in /proc/self/maps, so the program
// cannot find golos's mappings itself: it prints its view and its pid and waits; the test
// reads the real map of that process from the host (/proc/PID/maps: the application runs
// inside golos's process), takes away the ranges of the program's view and sends the rest
// over stdin (golosmemForeign). The view itself must leave golos's image out and hold the
// program's text (named by its file) and its stack (marked [stack]).
//
// Natively the view is the whole map, so the list is empty, and the "golos:" lines are
// golos-only: natively those addresses are free. A second run keeps golos's garbage
// collector busy (GOLOS_STRESS_RUNTIME) for a second after the attempts, so that a heap
// the application managed to zero or unmap would be found.
func TestGolosMemoryProtected(t *testing.T) {
	forFlavours(t, "golosmem", func(t *testing.T, p string) {
		// Natively: the program's own half must hold, and the host's map of the process
		// must hold nothing its own view lacks (else the test's subtraction is wrong, and
		// under golos it would send the program ranges of its own).
		nat := runGolosmem(t, &runOpts{dir: t.TempDir()}, p)
		if nat.err != nil || nat.timedOut {
			t.Errorf("native run: %s\nstderr:\n%s", nat, clip(nat.stderr))
		}
		wantNative(t, &nat.result, 0, "golos: foreign mappings found: no\n", "done\n")
		if len(nat.foreign) != 0 {
			t.Errorf("test harness or host misbehaves natively: /proc/%d/maps has %d ranges the program's own /proc/self/maps lacks:\n%s",
				nat.pid, len(nat.foreign), strings.Join(nat.foreign, "\n"))
		}
		checkGolosmem(t, "native run", nat.stdout, true)

		needGolos(t)
		for _, stress := range []bool{false, true} {
			o := &runOpts{dir: t.TempDir()}
			args := []string{golosBin, "run", p}
			what := "golos run"
			if stress {
				o.env = []string{"GOLOS_STRESS_RUNTIME=1"}
				args = append(args, "1000")
				what = "golos run (GOLOS_STRESS_RUNTIME=1)"
			}
			g := runGolosmem(t, o, args...)
			if g.err != nil || g.timedOut {
				t.Errorf("%s: %s\nstderr:\n%s", what, g, clip(g.stderr))
				continue
			}
			if g.code != 0 || g.signal != 0 {
				t.Errorf("%s: %s, want exit status 0", what, g)
			}
			if crashed(g.stderr) {
				t.Errorf("%s: golos crashed; stderr:\n%s", what, clip(g.stderr))
			}
			if g.pid != g.hostPid {
				t.Errorf("%s: the program says its pid is %d; golos's process is %d (getpid(2) passes through)", what, g.pid, g.hostPid)
			}
			t.Logf("%s: sent %d foreign ranges (golos's process had %d mappings, the application's view %d)",
				what, len(g.foreign), len(g.hostMap), len(g.view))
			checkGolosView(t, what, g)
			checkApart(t, what, g)
			checkGolosmem(t, what, g.stdout, false)
			if t.Failed() {
				t.Logf("%s: %d foreign ranges sent:\n%s", what, len(g.foreign), strings.Join(g.foreign, "\n"))
				t.Logf("%s stderr:\n%s", what, clip(g.stderr))
			}
			if stress {
				m := regexp.MustCompile(`runtime stress: (\d+) garbage collections`).FindSubmatch(g.stderr)
				if m == nil {
					t.Errorf("%s: golos did not report its runtime stress; stderr:\n%s", what, clip(g.stderr))
				} else if n, _ := strconv.Atoi(string(m[1])); n < 2 {
					// The attempts come within milliseconds of the start, the second
					// collection a second or so later, after them.
					t.Errorf("%s: only %d garbage collections ran; want at least 2", what, n)
				}
			}
		}
	})
}

// checkGolosView checks the program's view of /proc/self/maps under golos against the
// real map of golos's process: golos's text (linked at 0x7e0000001000) is a mapping of
// the process but not of the view.
func checkGolosView(t *testing.T, what string, g *golosmemRun) {
	t.Helper()
	const golosText = 0x7e0000001000
	inHost := false
	for _, r := range g.hostMap {
		inHost = inHost || r.lo <= golosText && golosText < r.hi
	}
	if !inHost {
		t.Errorf("%s: golos's text at %#x is not in the host's /proc/%d/maps: is this golos linked elsewhere?", what, golosText, g.hostPid)
	}
	for _, r := range g.view {
		if r.lo < 0x7e0000000000+64<<20 && r.hi > 0x7e0000000000 {
			t.Errorf("%s: the application's /proc/self/maps shows golos's image: %s", what, r.line)
		}
	}
}

// checkApart checks that no writable memory of golos's lies right next to a writable
// mapping of the program's, so that a write just past either end of one (a buffer
// overrun, a syscall given too large a length) faults, or fails with EFAULT,
// where natively it would find nothing mapped, instead of landing in golos's heap,
// stacks or runtime. The program has mappings of several sizes placed by the kernel
// (golosmem.c), one of them moved by mremap.
func checkApart(t *testing.T, what string, g *golosmemRun) {
	t.Helper()
	for _, h := range g.hostMap {
		if !strings.Contains(h.perms, "w") {
			continue
		}
		pieces := golosmemForeign([]mapLine{h}, g.view) // the parts of h that are golos's
		for _, p := range pieces {
			var lo, hi uint64
			if _, err := fmt.Sscanf(p, "%x-%x", &lo, &hi); err != nil {
				t.Fatalf("%s: foreign range %q: %v", what, p, err)
			}
			for _, v := range g.view {
				if strings.Contains(v.perms, "w") && (v.hi == lo || v.lo == hi) {
					t.Errorf("%s: golos's writable memory %s is right next to the program's %s", what, p, v.line)
				}
			}
		}
	}
}

// A golosmemRun is a run of testdata/golosmem.c with the test's side of its protocol.
type golosmemRun struct {
	result
	pid, hostPid int       // the pid the program printed; the process the test started
	view         []mapLine // the program's /proc/self/maps
	hostMap      []mapLine // the host's /proc/PID/maps, read while the program waited
	foreign      []string  // the lines sent: hostMap less view
}

// A mapLine is a line of a maps file.
type mapLine struct {
	lo, hi uint64
	perms  string
	name   string
	line   string
}

func parseMaps(lines []string) []mapLine {
	var out []mapLine
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		a, b, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		lo, err1 := strconv.ParseUint(a, 16, 64)
		hi, err2 := strconv.ParseUint(b, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := mapLine{lo: lo, hi: hi, perms: f[1], line: l}
		if len(f) > 5 {
			m.name = strings.Join(f[5:], " ")
		}
		out = append(out, m)
	}
	return out
}

// golosmemForeign is host less view: the parts of the host's mappings that no mapping of
// the view covers, one "LO-HI PERMS NAME" line each.
func golosmemForeign(host, view []mapLine) []string {
	var out []string
	for _, h := range host {
		pieces := [][2]uint64{{h.lo, h.hi}}
		for _, v := range view {
			var next [][2]uint64
			for _, p := range pieces {
				if v.hi <= p[0] || v.lo >= p[1] {
					next = append(next, p)
					continue
				}
				if p[0] < v.lo {
					next = append(next, [2]uint64{p[0], v.lo})
				}
				if v.hi < p[1] {
					next = append(next, [2]uint64{v.hi, p[1]})
				}
			}
			pieces = next
		}
		for _, p := range pieces {
			name := h.name
			if name == "" {
				name = "(anonymous)"
			}
			out = append(out, fmt.Sprintf("%x-%x %s %s", p[0], p[1], h.perms, name))
		}
	}
	return out
}

// runGolosmem runs argv (the program, or golos running it) and plays the test's part:
// it reads the program's view of its map and its pid, reads /proc/PID/maps, and sends
// the difference. Under golos, the golos timeouts count as in runGolosOpts.
func runGolosmem(t *testing.T, o *runOpts, argv ...string) *golosmemRun {
	t.Helper()
	r := &golosmemRun{result: result{code: -1}}
	underGolos := argv[0] == golosBin
	if underGolos {
		if n := golosTimeouts.Load(); n >= maxGolosTimeouts {
			r.err = fmt.Errorf("%w: golos already timed out %d times in this test run (see the first failures)", errNotAttempted, n)
			return r
		}
	}
	timeout := o.timeoutOr(runTimeout)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = o.environ()
	cmd.Dir = o.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		r.err = err
		return r
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		r.err = err
		return r
	}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	r.hostPid = cmd.Process.Pid
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		timedOut.Store(true)
		cmd.Process.Kill()
	})

	var stdout bytes.Buffer
	br := bufio.NewReader(stdoutPipe)
	var viewLines []string
	ready := false
	for !ready {
		line, err := br.ReadString('\n')
		stdout.WriteString(line)
		l := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(l, "view: "):
			viewLines = append(viewLines, strings.TrimPrefix(l, "view: "))
		case strings.HasPrefix(l, "info: pid "):
			r.pid, _ = strconv.Atoi(strings.TrimPrefix(l, "info: pid "))
		case l == "info: ready":
			ready = true
		}
		if err != nil {
			break
		}
	}
	if ready {
		r.view = parseMaps(viewLines)
		pid := r.pid
		if pid <= 0 {
			pid = r.hostPid
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
		if err != nil {
			t.Errorf("reading the real map of process %d: %v", pid, err)
		}
		r.hostMap = parseMaps(strings.Split(string(raw), "\n"))
		r.foreign = golosmemForeign(r.hostMap, r.view)
		msg := strings.Join(r.foreign, "\n")
		if msg != "" {
			msg += "\n"
		}
		// The program reads until "end"; an error here shows in its output.
		io.WriteString(stdin, msg+"end\n")
	} else {
		t.Errorf("%q never said it was ready for the list of foreign ranges", argv)
	}
	stdin.Close()
	io.Copy(&stdout, br)

	err = cmd.Wait()
	timer.Stop()
	r.timedOut = timedOut.Load()
	if r.timedOut && underGolos && timeout >= runTimeout {
		golosTimeouts.Add(1)
	}
	r.elapsed = time.Since(start)
	r.stdout, r.stderr = stdout.Bytes(), stderr.Bytes()
	r.setExit(cmd, err)
	return r
}

// TestUnimplementedSyscall: io_uring_setup (425) and syscall 1000 are not implemented by
// golos; each, called twice, gives ENOSYS (never a silent success), and golos names each
// once on stderr, not at all with --quiet (invariant 4 of docs/design.md; README, Usage).
// Natively syscall 1000 is ENOSYS too (syscalls(2): no such system call).
func TestUnimplementedSyscall(t *testing.T) {
	want := "io_uring_setup: -1 ENOSYS\nsyscall 1000: -1 ENOSYS\n" +
		"io_uring_setup: -1 ENOSYS\nsyscall 1000: -1 ENOSYS\n"
	mentions := func(stderr []byte, re *regexp.Regexp) (n int) {
		for _, l := range strings.Split(string(stderr), "\n") {
			if re.MatchString(l) {
				n++
			}
		}
		return n
	}
	ioUring := regexp.MustCompile(`\bio_uring_setup\b`)
	beyond := regexp.MustCompile(`\b1000\b`)
	forFlavours(t, "enosys", func(t *testing.T, p string) {
		nat := runNative(&runOpts{dir: t.TempDir()}, p)
		wantNative(t, nat, 0)
		if n := bytes.Count(nat.stdout, []byte("syscall 1000: -1 ENOSYS\n")); n != 2 {
			t.Errorf("test program misbehaves natively: syscall 1000 gave ENOSYS %d times, want 2\nstdout:\n%s", n, clip(nat.stdout))
		}

		needGolos(t)
		for _, quiet := range []bool{false, true} {
			args := []string{"run", p}
			what := "golos run"
			if quiet {
				args = []string{"run", "--quiet", p}
				what = "golos run --quiet"
			}
			g := runGolosOpts(&runOpts{dir: t.TempDir()}, args...)
			if g.err != nil || g.timedOut {
				t.Errorf("%s: %s\nstderr:\n%s", what, g, clip(g.stderr))
				continue
			}
			if g.code != 0 || g.signal != 0 {
				t.Errorf("%s: %s, want exit status 0 (as natively: %s)", what, g, nat)
			}
			if crashed(g.stderr) {
				t.Errorf("%s: golos crashed; stderr:\n%s", what, clip(g.stderr))
			}
			if string(g.stdout) != want {
				t.Errorf("%s: stdout\n%swant\n%s", what, clip(g.stdout), want)
			}
			// The 1000 lines, as natively.
			if a, b := enosysLines(nat.stdout, "syscall 1000: "), enosysLines(g.stdout, "syscall 1000: "); a != b {
				t.Errorf("%s: syscall 1000 natively:\n%sunder golos:\n%s", what, a, b)
			}
			wantIO, wantBeyond := 1, 1
			if quiet {
				wantIO, wantBeyond = 0, 0
			}
			if n := mentions(g.stderr, ioUring); n != wantIO {
				t.Errorf("%s: %d lines of stderr name io_uring_setup, want %d\nstderr:\n%s", what, n, wantIO, clip(g.stderr))
			}
			if n := mentions(g.stderr, beyond); n != wantBeyond {
				t.Errorf("%s: %d lines of stderr name syscall 1000, want %d\nstderr:\n%s", what, n, wantBeyond, clip(g.stderr))
			}
		}
	})
}

// enosysLines returns the lines of out that start with prefix.
func enosysLines(out []byte, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if strings.HasPrefix(l, prefix) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// TestNotesToGolosStderr: golos's notes (an unimplemented syscall, --stats at exit) go to
// the stderr golos was started with, even when the program has sent its descriptor 2 to a
// file and closed it (testdata/notes_stderr.c); the program's file holds only its own line.
func TestNotesToGolosStderr(t *testing.T) {
	forFlavours(t, "notes_stderr", func(t *testing.T, p string) {
		dir := t.TempDir()
		nat := runNative(&runOpts{dir: dir}, p, dir+"/native.err")
		wantNative(t, nat, 0, "syscall 1000: -1 ENOSYS\n")
		natFile, err := os.ReadFile(dir + "/native.err")
		if err != nil || string(natFile) != "the program's own stderr\n" {
			t.Fatalf("test program misbehaves natively: its stderr file holds %q (%v)", natFile, err)
		}

		needGolos(t)
		g := runGolosOpts(&runOpts{dir: dir}, "run", "--stats", p, dir+"/golos.err")
		if g.err != nil || g.timedOut || g.code != 0 || crashed(g.stderr) {
			t.Fatalf("golos run --stats: %s\nstderr:\n%s", g, clip(g.stderr))
		}
		if string(g.stdout) != string(nat.stdout) {
			t.Errorf("stdout under golos:\n%snatively:\n%s", clip(g.stdout), clip(nat.stdout))
		}
		if f, err := os.ReadFile(dir + "/golos.err"); err != nil || string(f) != string(natFile) {
			t.Errorf("the program's stderr file under golos holds %q (%v), natively %q", f, err, natFile)
		}
		if !regexp.MustCompile(`(?m)^golos: .*\b1000\b.*not implemented`).Match(g.stderr) {
			t.Errorf("golos's stderr does not name syscall 1000:\n%s", clip(g.stderr))
		}
		if !regexp.MustCompile(`(?m)^golos: stats: \d+ syscalls`).Match(g.stderr) {
			t.Errorf("golos's stderr has no --stats report:\n%s", clip(g.stderr))
		}
		if !regexp.MustCompile(`(?m)^\s+getppid\s+3\s`).Match(g.stderr) {
			t.Errorf("the --stats report does not count 3 getppid calls:\n%s", clip(g.stderr))
		}
	})
}
