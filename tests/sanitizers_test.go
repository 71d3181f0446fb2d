package tests

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Programs built with GCC's sanitizers (testdata/san_*.c, built by extraBuilds), natively
// and under golos, started many times: AddressSanitizer maps its shadow at fixed addresses
// as it starts, where golos's own heap once landed one start in four (the Go runtime
// places it at random: cmd/golos/sanreserve.go), and LeakSanitizer stops the process's
// threads from a task that shares its memory and ptraces them (internal/kernel/rawtask.go).
// Each start under golos must end as the native run did: the same exit status, stdout and
// sanitizer report, once the report's addresses and pids are left out.

// sanStarts is how many times each sanitizer program starts under golos. With one start
// in four failing, 20 starts all pass by chance once in 300; each case of the test starts
// its program that many times.
const sanStarts = 20

var (
	sanHex = regexp.MustCompile(`0x[0-9a-f]+`)
	sanPid = regexp.MustCompile(`==[0-9]+==|pid=[0-9]+`)
	// A frame's module offset ("(libc.so.6+0x271ca)") depends on nothing golos does, but
	// its absolute address does.
	sanFrameNo = regexp.MustCompile(`#[0-9]+ 0x[0-9a-f]+`)
)

// sanReport is a sanitizer's report on stderr with what differs from run to run (the
// addresses, which ASLR moves, and the pid) left out.
func sanReport(stderr []byte) string {
	s := sanPid.ReplaceAllString(string(stderr), "==PID==")
	s = sanFrameNo.ReplaceAllString(s, "#N ADDR")
	return sanHex.ReplaceAllString(s, "ADDR")
}

// sanKind is the report's first error line ("ERROR: AddressSanitizer: heap-buffer-overflow",
// "runtime error: signed integer overflow"), or "" if it has none.
func sanKind(report string) string {
	for _, l := range strings.Split(report, "\n") {
		if i := strings.Index(l, "ERROR: "); i >= 0 {
			return strings.TrimSpace(strings.SplitN(l[i:], " on address", 2)[0])
		}
		if i := strings.Index(l, "runtime error: "); i >= 0 {
			return strings.TrimSpace(l[i:])
		}
	}
	return ""
}

// sanCase runs argv natively once (wantCode, a report of wantKind: "" for none) and
// sanStarts times under golos; each golos start must match the native run.
func sanCase(t *testing.T, wantCode int, wantKind string, wantStdout string, argv ...string) {
	t.Helper()
	needGolos(t)
	dir := t.TempDir()
	o := &runOpts{dir: dir}
	nat := runNative(o, argv...)
	wantNative(t, nat, wantCode, wantStdout)
	natReport := sanReport(nat.stderr)
	if k := sanKind(natReport); k != wantKind {
		t.Fatalf("test program misbehaves natively: report kind %q, want %q\nstderr:\n%s", k, wantKind, clip(nat.stderr))
	}
	failed := 0
	for i := 0; i < sanStarts; i++ {
		g := runGolosOpts(o, append([]string{"run"}, argv...)...)
		var problems []string
		if g.err != nil || g.timedOut || g.signal != nat.signal {
			problems = append(problems, "golos run: "+g.String())
		}
		if g.code != nat.code {
			problems = append(problems, fmt.Sprintf("exit status: native %d, golos %d", nat.code, g.code))
		}
		if !bytes.Equal(g.stdout, nat.stdout) {
			problems = append(problems, "stdout differs: "+firstDiff(nat.stdout, g.stdout))
		}
		if r := sanReport(g.stderr); r != natReport {
			problems = append(problems, fmt.Sprintf("report differs (kind: native %q, golos %q): %s",
				wantKind, sanKind(r), firstDiff([]byte(natReport), []byte(r))))
		}
		if len(problems) == 0 {
			continue
		}
		failed++
		if failed == 1 {
			t.Errorf("start %d of %d under golos differs from the native run:\n  %s\n--- golos stderr:\n%s---",
				i+1, sanStarts, strings.Join(problems, "\n  "), clip(g.stderr))
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d starts under golos differ from the native run", failed, sanStarts)
	}
}

// TestSanitizerASan: gcc -fsanitize=address, LeakSanitizer on (the default): a clean run,
// a heap-buffer-overflow, a heap-use-after-free, leaks found at exit, and a leak found at
// exit while two threads run (one in the program's code, one blocked in read(2), both
// stopped by LeakSanitizer's tracer through ptrace), and a fork and a system(3), whose
// children get ASan's terabytes of shadow (almost none of it there).
func TestSanitizerASan(t *testing.T) {
	p := prog(t, "san_asan.asan")
	cases := []struct {
		mode, kind, stdout string
		code               int
	}{
		{"clean", "", "hello from asan, 15 bytes\n", 0},
		{"overflow", "ERROR: AddressSanitizer: heap-buffer-overflow", "writing p[16] of a 16-byte block\n", 1},
		{"uaf", "ERROR: AddressSanitizer: heap-use-after-free", "reading a freed block\n", 1},
		{"leak", "ERROR: LeakSanitizer: detected memory leaks", "lost 3 blocks of 100 bytes\n", 1},
		{"threads", "ERROR: LeakSanitizer: detected memory leaks", "lost 1 block of 1000 bytes with two threads running\n", 1},
		{"fork", "", "child wrote its copy\nchild exited 0\nfrom system\n", 0},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			sanCase(t, c.code, c.kind, c.stdout, p, c.mode)
		})
	}
}

// TestSanitizerASanCxx: g++ -fsanitize=address: containers, strings and an exception, then
// a clean end or an overflow of a new[] block.
func TestSanitizerASanCxx(t *testing.T) {
	p := prog(t, "san_asan_cxx.asan")
	t.Run("clean", func(t *testing.T) {
		sanCase(t, 0, "", "100 items, 100 keys, caught thrown\n", p)
	})
	t.Run("overflow", func(t *testing.T) {
		sanCase(t, 1, "ERROR: AddressSanitizer: heap-buffer-overflow", "writing a[4] of new int[4]\n", p, "overflow")
	})
}

// TestSanitizerUBSan: gcc -fsanitize=undefined: three reports, the program going on to
// exit 0.
func TestSanitizerUBSan(t *testing.T) {
	p := prog(t, "san_ubsan.ubsan")
	sanCase(t, 0, "runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'",
		"overflowed -2147483648, shifted 1, loaded 16843009\n", p)
}

// TestSanitizerTSan: gcc -fsanitize=thread cannot run under golos (its fixed layout takes
// the addresses of golos's own image and heap: internal/loader/needed.go). Natively the
// program reports its data race; golos refuses it before it runs, with one line that
// says why and exit status 125 (an executable golos cannot run), where TSan itself
// stopped with "unexpected memory mapping".
func TestSanitizerTSan(t *testing.T) {
	p := prog(t, "san_tsan.tsan")
	needGolos(t)
	nat := runNative(&runOpts{dir: t.TempDir()}, p)
	wantNative(t, nat, 66, "counted something\n")
	if !bytes.Contains(nat.stderr, []byte("WARNING: ThreadSanitizer: data race")) {
		t.Errorf("test program misbehaves natively: no data race reported\nstderr:\n%s", clip(nat.stderr))
	}
	g := runGolos(t, 0, "run", p)
	if g.code != 125 || g.signal != 0 {
		t.Errorf("golos run: %s, want exit status 125\nstderr:\n%s", g, clip(g.stderr))
	}
	if len(g.stdout) != 0 {
		t.Errorf("the program ran: stdout %q", g.stdout)
	}
	oneLine(t, "golos's stderr", g.stderr)
	if !bytes.Contains(g.stderr, []byte("is built with ThreadSanitizer")) {
		t.Errorf("stderr does not say the program is built with ThreadSanitizer:\n%s", clip(g.stderr))
	}
}
