package tests

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Robustness (invariants 4 and 5 of DESIGN.md): wild pointers and sizes get Linux's errno,
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

// golosmemWant is what testdata/golosmem.c must print under golos, in order ("info:" and
// "detail:" lines aside). To the application, golos's memory is not mapped (DESIGN.md:
// "the application may not map over or unmap golos"), so each call aimed at it must
// answer as Linux answers for memory that is not mapped, or, where Linux would replace
// the memory, refuse as golos documents.
func golosmemWant() []golosmemLine {
	const line = "a line written to /dev/null\n" // written 10,000 times by golosmem.c
	return []golosmemLine{
		memLine("golos has mappings of its own (its image, its heap, its threads' stacks)",
			"golos: foreign mappings found: yes"),
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
		case !strings.HasPrefix(l, "info: "):
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
		t.Logf("%s stdout without its info and detail lines:\n%s", what, strings.Join(got, "\n"))
	}
}

// TestGolosMemoryProtected: testdata/golosmem.c aims mmap(MAP_FIXED), MAP_FIXED_NOREPLACE,
// mremap(MREMAP_FIXED), mprotect, madvise(MADV_DONTNEED) and munmap at every mapping of
// golos it finds in /proc/self/maps (golos's image, its Go heap wherever the runtime put
// it, its threads' stacks) and at golos's link address, then makes some 13,000 syscalls
// and checks MAP_FIXED and MAP_FIXED_NOREPLACE over its own memory. golos-only: natively
// those addresses are free. A second run keeps golos's garbage collector busy
// (GOLOS_STRESS_RUNTIME) for a second after the attempts, so that a heap the
// application managed to zero or unmap would be found.
func TestGolosMemoryProtected(t *testing.T) {
	forFlavours(t, "golosmem", func(t *testing.T, p string) {
		// Natively: the program's own half must hold, and it must find no foreign mapping
		// (else its idea of its own memory is wrong, and it would aim at itself).
		nat := runNative(&runOpts{dir: t.TempDir()}, p)
		wantNative(t, nat, 0, "golos: foreign mappings found: no\n", "done\n")
		checkGolosmem(t, "native run", nat.stdout, true)

		needGolos(t)
		for _, stress := range []bool{false, true} {
			o := &runOpts{dir: t.TempDir()}
			args := []string{"run", p}
			what := "golos run"
			if stress {
				o.env = []string{"GOLOS_STRESS_RUNTIME=1"}
				args = append(args, "1000")
				what = "golos run (GOLOS_STRESS_RUNTIME=1)"
			}
			g := runGolosOpts(o, args...)
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
			checkGolosmem(t, what, g.stdout, false)
			if t.Failed() {
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

// TestUnimplementedSyscall: io_uring_setup (425) and syscall 1000 are not implemented by
// golos; each, called twice, gives ENOSYS (never a silent success), and golos names each
// once on stderr, not at all with --quiet (invariant 4 of DESIGN.md; README, Usage).
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
