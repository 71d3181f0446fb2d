package tlsmove

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"
)

// golos links its kernel high (docs/design.md, "Architecture"); the sample is linked the same way.
const linkAddr = "-T=0x7e0000001000"

var workDir string // removed by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tlsmove-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// artifact is something the tests make once per test binary.
type artifact struct {
	once sync.Once
	path string
	data []byte
	err  error
}

func (a *artifact) get(t testing.TB, make func() (string, error)) (string, []byte) {
	t.Helper()
	a.once.Do(func() {
		a.path, a.err = make()
		if a.err == nil {
			a.data, a.err = os.ReadFile(a.path)
		}
	})
	if a.err != nil {
		t.Fatal(a.err)
	}
	return a.path, a.data
}

var sampleArt, strippedArt, rewrittenArt artifact

// buildSample builds testdata/sample the way golos builds its kernel:
// CGO_ENABLED=0, linked at 0x7e0000001000.
func buildSample(name string, ldflags ...string) (string, error) {
	src := filepath.Join(workDir, "src-"+name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	code, err := os.ReadFile("testdata/sample/main.go")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), code, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module sample\n\ngo 1.26\n"), 0o644); err != nil {
		return "", err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	out := filepath.Join(workDir, name)
	cmd := exec.Command(goCmd, "build", "-o", out, "-ldflags="+strings.Join(append(ldflags, linkAddr), " "), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
}

func sample(t testing.TB) (string, []byte) {
	return sampleArt.get(t, func() (string, error) { return buildSample("sample") })
}

func stripped(t testing.TB) (string, []byte) {
	return strippedArt.get(t, func() (string, error) { return buildSample("sample-stripped", "-s") })
}

var rewriteReport *Report

func rewritten(t testing.TB) (string, []byte) {
	_, bin := sample(t)
	return rewrittenArt.get(t, func() (string, error) {
		out, rep, err := Rewrite(bin)
		if err != nil {
			return "", err
		}
		rewriteReport = rep
		p := filepath.Join(workDir, "sample.gs")
		return p, os.WriteFile(p, out, 0o755)
	})
}

var objdumpCache sync.Map // path -> string

// objdump disassembles path with GNU objdump: the independent witness.
func objdump(t *testing.T, path string) string {
	t.Helper()
	if s, ok := objdumpCache.Load(path); ok {
		return s.(string)
	}
	if _, err := exec.LookPath("objdump"); err != nil {
		t.Skip("objdump not installed")
	}
	out, err := exec.Command("objdump", "-d", "-w", "--no-show-raw-insn", path).Output()
	if err != nil {
		t.Fatalf("objdump %s: %v", path, err)
	}
	objdumpCache.Store(path, string(out))
	return string(out)
}

// objdumpInsns returns address -> instruction text for every instruction
// line of an objdump listing.
func objdumpInsns(dump string) map[uint64]string {
	m := map[uint64]string{}
	sc := bufio.NewScanner(strings.NewReader(dump))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		addr, rest, ok := strings.Cut(l, ":\t")
		if !ok || !strings.HasPrefix(addr, " ") {
			continue
		}
		a, err := strconv.ParseUint(strings.TrimSpace(addr), 16, 64)
		if err == nil {
			m[a] = strings.TrimSpace(rest)
		}
	}
	return m
}

func TestRewriteSample(t *testing.T) {
	path, bin := sample(t)
	orig := bytes.Clone(bin)
	gsPath, out := rewritten(t)
	rep := rewriteReport
	if !bytes.Equal(bin, orig) {
		t.Fatal("Rewrite modified its input")
	}
	t.Logf("report: %d FS instructions, settls %#x, clone or %#x, gettid %#x, stub %#x",
		rep.FSInstructions, rep.Settls, rep.CloneOr, rep.CloneGettid, rep.Stub)

	// objdump's count of FS instructions is the independent expectation.
	before := objdumpInsns(objdump(t, path))
	var fsAddrs []uint64
	for a, text := range before {
		if strings.Contains(text, "%fs:") {
			fsAddrs = append(fsAddrs, a)
		}
	}
	if len(fsAddrs) < 400 { // docs/design.md: about 450 on Go 1.26.8
		t.Errorf("objdump finds only %d %%fs: instructions in the sample", len(fsAddrs))
	}
	if rep.FSInstructions != len(fsAddrs) {
		t.Errorf("Rewrite rewrote %d FS instructions, objdump finds %d", rep.FSInstructions, len(fsAddrs))
	}
	after := objdump(t, gsPath)
	if n := strings.Count(after, "%fs:"); n != 0 {
		t.Errorf("objdump finds %d %%fs: in the rewritten binary", n)
	}
	if n := strings.Count(after, "%gs:"); n != len(fsAddrs) {
		t.Errorf("objdump finds %d %%gs: in the rewritten binary, want %d", n, len(fsAddrs))
	}

	if err := Check(out); err != nil {
		t.Errorf("Check(rewritten): %v", err)
	}
	err := Check(bin)
	if err == nil {
		t.Fatal("Check(original) passed")
	}
	for _, want := range []string{"FS-relative memory access", "ARCH_SET_FS", "CLONE_SETTLS", "runtime.settls"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check(original) error does not mention %q: %v", want, err)
		}
	}
	t.Logf("Check(original): %.300s...", err)

	// Every changed byte is accounted for: an FS prefix that objdump saw,
	// settls's immediate, clone's OR and gettid, or the stub in padding.
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	changed := map[uint64]bool{}
	for i := range bin {
		if bin[i] != out[i] {
			changed[text.Addr+uint64(i)-text.Offset] = true
		}
	}
	allowed := map[uint64]bool{}
	for _, a := range fsAddrs {
		if bin[a-text.Addr+text.Offset] != 0x64 || out[a-text.Addr+text.Offset] != 0x65 {
			t.Errorf("%#x (%s): first byte %#x -> %#x, want 0x64 -> 0x65", a, before[a], bin[a-text.Addr+text.Offset], out[a-text.Addr+text.Offset])
		}
		allowed[a] = true
	}
	for _, r := range []struct{ at, n uint64 }{{rep.Settls + 3, 4}, {rep.CloneOr, 7}, {rep.CloneGettid, 7}, {rep.Stub, stubSize}} {
		for a := r.at; a < r.at+r.n; a++ {
			allowed[a] = true
		}
	}
	for a := range changed {
		if !allowed[a] {
			t.Errorf("unexpected change at %#x", a)
		}
	}
	for a := rep.Stub - 1; a < rep.Stub+stubSize; a++ {
		if bin[a-text.Addr+text.Offset] != 0xcc {
			t.Errorf("stub byte %#x was not int3 padding", a)
		}
	}

	// The patched instructions, as objdump shows them.
	dis := objdumpInsns(after)
	for _, c := range []struct {
		at   uint64
		want string
	}{
		{rep.Settls, "mov    $0x1001,%rdi"},
		{rep.CloneOr, "nopl   0x0(%rax)"},
		{rep.CloneGettid, fmt.Sprintf("jmp    %x", rep.Stub)},
		{rep.Stub, "mov    $0x1001,%edi"},
		{rep.Stub + stubSize - 5, fmt.Sprintf("jmp    %x", rep.CloneGettid+7)},
	} {
		if !strings.HasPrefix(dis[c.at], c.want) {
			t.Errorf("objdump at %#x: %q, want %q", c.at, dis[c.at], c.want)
		}
	}
}

// TestGSOutsideRuntime: golos's entry assembly uses GS on purpose (it is
// written for the rewritten binary); such code outside the Go runtime is
// left as it is.
func TestGSOutsideRuntime(t *testing.T) {
	path, bin := sample(t)
	_, _ = rewritten(t)
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	dis := objdumpInsns(objdump(t, path))
	var fsAddrs []uint64
	for a, insn := range dis {
		if strings.Contains(insn, "%fs:") {
			fsAddrs = append(fsAddrs, a)
		}
	}
	slices.Sort(fsAddrs)
	for _, a := range fsAddrs {
		for _, s := range syms {
			if a < s.Value || a >= s.Value+s.Size || elf.ST_TYPE(s.Info) != elf.STT_FUNC || inRuntime(s.Name) {
				continue
			}
			off := a - text.Addr + text.Offset
			b := bytes.Clone(bin)
			b[off] = 0x65 // %fs: -> %gs: in a function outside the runtime
			out, rep, err := Rewrite(b)
			if err != nil {
				t.Fatalf("GS in %s at %#x: %v", s.Name, a, err)
			}
			if rep.FSInstructions != rewriteReport.FSInstructions-1 || out[off] != 0x65 {
				t.Errorf("GS in %s: %d FS instructions rewritten (want %d), byte %#x", s.Name, rep.FSInstructions, rewriteReport.FSInstructions-1, out[off])
			}
			if err := Check(out); err != nil {
				t.Error(err)
			}
			return
		}
	}
	t.Fatal("no FS access outside the runtime in the sample")
}

// run runs a binary with a timeout and returns its stdout and exit code.
func run(t *testing.T, path string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %v: timed out", path, args)
	case errors.As(err, &ee):
		return stdout.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", path, args, err)
	}
	return stdout.String(), 0
}

func TestRunRewritten(t *testing.T) {
	path, _ := sample(t)
	gsPath, _ := rewritten(t)

	t.Run("work", func(t *testing.T) {
		// Goroutines on locked and unlocked threads, forced GCs, timers
		// and a loop that only a preemption signal can stop.
		want, wantCode := run(t, path)
		got, code := run(t, gsPath)
		if got != want || code != wantCode {
			t.Errorf("rewritten: %q, exit %d; original: %q, exit %d", got, code, want, wantCode)
		}
		if wantCode != 3 || !strings.Contains(want, "gc>=3:true threads>=3:true") {
			t.Errorf("the sample did not do its work: %q, exit %d", want, wantCode)
		}
	})

	t.Run("tls", func(t *testing.T) {
		// A Go runtime with its TLS on FS sets FS and never GS; after the
		// rewrite it sets GS and never FS, which therefore keeps the zero
		// that execve gives it, on the main thread (settls) and on a
		// thread made by clone.
		for _, c := range []struct{ path, want string }{
			{path, "main: fs=set gs=zero mainthread=true\nthread: fs=set gs=zero newthread=true\n"},
			{gsPath, "main: fs=zero gs=set mainthread=true\nthread: fs=zero gs=set newthread=true\n"},
		} {
			got, code := run(t, c.path, "tls")
			if got != c.want || code != 0 {
				t.Errorf("%s tls: %q, exit %d; want %q, exit 0", filepath.Base(c.path), got, code, c.want)
			}
		}
	})

	t.Run("junkfs", func(t *testing.T) {
		// docs/design.md: with the rewrite, Go code runs with the FS base of
		// its thread pointed at junk, and leaves it there.
		got, code := run(t, gsPath, "junkfs")
		if want := "junk fs kept=true allocs=20\n"; got != want || code != 0 {
			t.Errorf("rewritten junkfs: %q, exit %d; want %q, exit 0", got, code, want)
		}
		// The original needs its FS: the same program must crash.
		if got, code := run(t, path, "junkfs"); code == 0 {
			t.Errorf("original junkfs survived a junk FS: %q", got)
		}
	})
}

// TestDecoderAgreesWithObjdump checks instruction sync, on which every patch
// depends: the instruction boundaries this package decodes in all of .text
// (functions and padding) are exactly objdump's. Set TLSMOVE_XCHECK to a
// colon-separated list of other Go binaries to check them too.
func TestDecoderAgreesWithObjdump(t *testing.T) {
	path, _ := sample(t)
	paths := []string{path}
	if extra := os.Getenv("TLSMOVE_XCHECK"); extra != "" {
		paths = append(paths, strings.Split(extra, ":")...)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			im, err := loadImage(b)
			if err != nil {
				t.Fatal(err)
			}
			theirs := objdumpInsns(objdump(t, p))
			ours := map[uint64]bool{}
			unknown := 0
			for _, r := range im.regions() {
				insns, err := im.decodeRegion(r)
				if err != nil {
					t.Fatal(err)
				}
				for _, in := range insns {
					ours[in.pc] = true
					if !in.known {
						unknown++
					}
					if _, ok := theirs[in.pc]; !ok {
						t.Errorf("%s: we decode an instruction (%s), objdump does not", r.where(in.pc), in.text(in.pc))
					}
				}
			}
			missing := 0
			for a, text := range theirs {
				if !ours[a] && text != "" {
					if missing++; missing <= 10 {
						t.Errorf("objdump decodes %q at %#x, we do not", text, a)
					}
				}
			}
			t.Logf("%d instructions agree; %d not known to x86asm, skipped by length", len(ours), unknown)
		})
	}
}

// mutate returns a copy of bin with the only occurrence of old inside
// function fn replaced by new.
func mutate(t *testing.T, bin []byte, fn string, old, new []byte) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	for _, s := range syms {
		if s.Name != fn {
			continue
		}
		off := int(s.Value - text.Addr + text.Offset)
		body := bin[off : off+int(s.Size)]
		if bytes.Count(body, old) != 1 {
			t.Fatalf("%s: % x occurs %d times", fn, old, bytes.Count(body, old))
		}
		i := bytes.Index(body, old)
		b := bytes.Clone(bin)
		copy(b[off+i:], new)
		return b
	}
	t.Fatalf("no symbol %s", fn)
	return nil
}

func TestRefuseUnexpected(t *testing.T) {
	_, bin := sample(t)
	_, gs := rewritten(t)
	nop7 := []byte{0x0f, 0x1f, 0x80, 0, 0, 0, 0}
	goVersion := runtime.Version() // the toolchain that built the sample
	cases := []struct {
		name string
		bin  func() []byte
		want []string // all must appear in the error
	}{
		{"settls immediate", func() []byte {
			return mutate(t, bin, "runtime.settls.abi0", []byte{0x48, 0xc7, 0xc7, 0x02, 0x10, 0, 0}, []byte{0x48, 0xc7, 0xc7, 0x03, 0x10, 0, 0})
		}, []string{"runtime.settls.abi0", `expected "mov $0x1002,%rdi"`, "mov $0x1003,%rdi"}},
		{"settls syscall number", func() []byte {
			return mutate(t, bin, "runtime.settls.abi0", []byte{0x48, 0xc7, 0xc0, 0x9e, 0, 0, 0}, []byte{0x48, 0xc7, 0xc0, 0x9f, 0, 0, 0})
		}, []string{"runtime.settls.abi0", "mov $0x9f,%rax"}},
		{"clone or", func() []byte {
			return mutate(t, bin, "runtime.clone.abi0", []byte{0x48, 0x81, 0xcf, 0, 0, 8, 0}, nop7)
		}, []string{"runtime.clone.abi0", `no "or $0x80000,%rdi"`}},
		{"clone tls address", func() []byte {
			return mutate(t, bin, "runtime.clone.abi0", []byte{0x49, 0x83, 0xc0, 0x08}, []byte{0x49, 0x83, 0xc0, 0x10})
		}, []string{"runtime.clone.abi0", "add $0x10,%r8"}},
		{"clone gettid removed", func() []byte {
			return mutate(t, bin, "runtime.clone.abi0", []byte{0xb8, 0xba, 0, 0, 0, 0x0f, 0x05}, nop7)
		}, []string{"runtime.clone.abi0", `no "mov $0xba,%eax; syscall" (gettid)`}},
		{"clone r8 changed before gettid", func() []byte {
			// cmp $0x0,%r13 -> cmp $0x0,%r8: only in the child path
			b := mutate(t, bin, "runtime.clone.abi0", []byte{0x48, 0x89, 0xf4, 0x49, 0x83, 0xfd, 0x00}, []byte{0x48, 0x89, 0xf4, 0x4d, 0x31, 0xc0, 0x90})
			return b
		}, []string{"runtime.clone.abi0", "xor %r8,%r8", "may change %r8"}},
		{"unexpected FS operand", func() []byte {
			// clone's "mov %r9,%fs:-8" (MOVQ R9, g(CX)) -> %fs:-16
			return mutate(t, bin, "runtime.clone.abi0", []byte{0x64, 0x4c, 0x89, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff}, []byte{0x64, 0x4c, 0x89, 0x0c, 0x25, 0xf0, 0xff, 0xff, 0xff})
		}, []string{"runtime.clone.abi0", "unexpected FS use", "%fs:-0x10"}},
		{"no settls", func() []byte {
			return bytes.ReplaceAll(bin, []byte("runtime.settls.abi0\x00"), []byte("runtime.settlz.abi0\x00"))
		}, []string{"runtime.settls.abi0 or runtime.settls not found"}},
		{"go version", func() []byte {
			newer := strings.Replace(goVersion, "go1.26", "go1.27", 1)
			if newer == goVersion {
				t.Skipf("toolchain %s is not go1.26", goVersion)
			}
			return bytes.ReplaceAll(bin, []byte(goVersion), []byte(newer))
		}, []string{"go1.27", "not verified"}},
		{"already rewritten", func() []byte { return gs }, []string{"already rewritten"}},
		{"runtime uses GS", func() []byte {
			// clone's "mov %r9,%fs:-8" -> "mov %r9,%gs:-8"
			return mutate(t, bin, "runtime.clone.abi0", []byte{0x64, 0x4c, 0x89, 0x0c, 0x25}, []byte{0x65, 0x4c, 0x89, 0x0c, 0x25})
		}, []string{"runtime.clone.abi0", "the Go runtime already uses GS", "mov %r9,%gs:-0x8"}},
		{"not x86-64", func() []byte {
			b := bytes.Clone(bin)
			b[18] = byte(elf.EM_AARCH64) // e_machine
			return b
		}, []string{"not an x86-64 ELF"}},
		{"shared object", func() []byte {
			b := bytes.Clone(bin)
			b[16] = byte(elf.ET_DYN) // e_type
			return b
		}, []string{"ET_DYN", "ET_EXEC"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.bin()
			out, rep, err := Rewrite(in)
			if err == nil {
				t.Fatalf("Rewrite accepted it: %+v", rep)
			}
			if out != nil || rep != nil {
				t.Errorf("Rewrite returned output with an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			t.Log(err)
		})
	}
}

func TestBadInput(t *testing.T) {
	_, bin := sample(t)
	_, strip := stripped(t)
	cases := map[string][]byte{
		"empty":    nil,
		"text":     []byte("#!/bin/sh\necho hello\n"),
		"magic":    []byte("\x7fELF"),
		"stripped": strip,
	}
	for _, n := range []int{16, 63, 64, 200, 0x190, 0x1000, 0x1200, len(bin) / 2, len(bin) - 1} {
		cases[fmt.Sprintf("truncated at %d", n)] = bin[:n]
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			// The unexported functions do not recover: a panic fails the test.
			if _, _, err := rewrite(b); err == nil {
				t.Error("rewrite accepted it")
			} else if name == "stripped" && !strings.Contains(err.Error(), "stripped") {
				t.Errorf("error does not say stripped: %v", err)
			} else {
				t.Log(err)
			}
			if err := checkBytes(b); err == nil {
				t.Error("Check accepted it")
			}
		})
	}
}

// TestMutatedHeadersNoPanic flips bytes in the ELF, program and section
// headers and the symbol table. Rewrite may accept or refuse; it must not
// panic (the unexported function has no recover).
func TestMutatedHeadersNoPanic(t *testing.T) {
	_, bin := sample(t)
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	symtab := f.Section(".symtab")
	// Section headers start at e_shoff (ELF64: offset 0x28).
	shoff := int(f.ByteOrder.Uint64(bin[0x28:]))
	areas := [][2]int{{0, 64}, {64, 64 + 6*56}, {shoff, shoff + len(f.Sections)*64}, {int(symtab.Offset), int(symtab.Offset) + 24*64}}
	seed := uint64(1)
	next := func(n int) int { // xorshift: deterministic
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int(seed % uint64(n))
	}
	for i := 0; i < 24; i++ {
		b := bytes.Clone(bin)
		a := areas[i%len(areas)]
		for k := 0; k < 1+next(3); k++ {
			b[a[0]+next(a[1]-a[0])] = byte(next(256))
		}
		_, _, _ = rewrite(b)
	}
}

func TestRewriteFile(t *testing.T) {
	path, _ := sample(t)
	_, want := rewritten(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "kernel")
	if err := os.WriteFile(out, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := RewriteFile(path, out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FSInstructions != rewriteReport.FSInstructions {
		t.Errorf("report %+v, Rewrite's %+v", rep, rewriteReport)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("RewriteFile wrote something other than Rewrite's output")
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, %v; want 0755", st.Mode(), err)
	}

	// A refusal leaves out alone and no temporary file behind.
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("not elf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RewriteFile(bad, out); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("RewriteFile(bad): %v", err)
	}
	if got2, _ := os.ReadFile(out); !bytes.Equal(got2, want) {
		t.Error("a failed RewriteFile changed its output")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("directory holds %d entries after RewriteFile, want 2", len(ents))
	}
}

// TestPatterns checks each hand-written encoding against x86asm's reading of it.
func TestPatterns(t *testing.T) {
	for _, p := range []pattern{movArchSetFS, movArchPrctl, syscallInsn, addR8, orCloneTLS, movSysClone, movSysGettid, nop7} {
		inst, err := x86asm.Decode(p.enc, 64)
		if err != nil || inst.Len != len(p.enc) {
			t.Errorf("% x: %v, len %d", p.enc, err, inst.Len)
			continue
		}
		got := x86asm.GNUSyntax(inst, 0, nil)
		if p.text == nop7.text {
			got = strings.Replace(got, "nopl (%rax)", "nopl 0x0(%rax)", 1) // objdump spells the zero displacement
		}
		if got != p.text {
			t.Errorf("% x decodes as %q, pattern says %q", p.enc, got, p.text)
		}
	}
}

func TestStub(t *testing.T) {
	const at, back = 0x7e0000081166, 0x7e00000814f3
	b, err := encodeStub(at, back)
	if err != nil {
		t.Fatal(err)
	}
	want := "bf011000004c89c6b89e0000000f05b8ba0000000f05e9" + "72030000"
	if got := fmt.Sprintf("%x", b); got != want {
		t.Errorf("stub %s, want %s", got, want)
	}
	if _, err := encodeStub(at, at+1<<32); err == nil {
		t.Error("encodeStub accepted a jump out of rel32 range")
	}
}

func TestDecodeInsn(t *testing.T) {
	// Lengths as GNU objdump decodes these bytes.
	cases := []struct {
		hex   string
		len   int
		known bool
		fs    int
	}{
		{"644c8b3425f8ffffff", 9, true, 0},  // mov %fs:-8,%r14
		{"c5f877", 3, true, -1},             // vzeroupper (x86asm v0.33.0 says 4)
		{"c4e17877", 4, true, -1},           // vzeroupper, 3-byte VEX
		{"664d0f38f628", 6, false, -1},      // adcx (%r8),%r13: x86asm returns Op 0
		{"f34d0f38f6f3", 6, false, -1},      // adox %r11,%r14
		{"c5fe6f16", 4, true, -1},           // vmovdqu (%rsi),%ymm2
		{"c5fe6f0510000000", 8, true, -1},   // vmovdqu 0x10(%rip),%ymm0
		{"c5fe6f042500100000", 9, true, -1}, // vmovdqu 0x1000,%ymm0 (SIB, no base)
		{"c5fe6f8600010000", 8, true, -1},   // vmovdqu 0x100(%rsi),%ymm0
		{"c5fd70c11b", 5, true, -1},         // vpshufd $0x1b,%ymm1,%ymm0
		{"660f3800c1", 5, true, -1},         // pshufb %xmm1,%xmm0
		{"660f3a0fc108", 6, true, -1},       // palignr $0x8,%xmm1,%xmm0
		{"62f1fe486f4e01", 7, true, -1},     // vmovdqu64 0x40(%rsi),%zmm1
		{"62f3754825c296", 7, true, -1},     // vpternlogd $0x96,%zmm2,%zmm1,%zmm0
		{"64c5fe6f06", 5, false, 0},         // vmovdqu %fs:(%rsi),%ymm0: x86asm takes 64 alone
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		b = append(b, bytes.Repeat([]byte{0x90}, 8)...) // following bytes must not be consumed
		in, err := decodeInsn(b)
		if err != nil {
			t.Errorf("%s: %v", c.hex, err)
			continue
		}
		if in.len != c.len || in.fsPrefix != c.fs {
			t.Errorf("%s: len %d fsPrefix %d, want %d %d", c.hex, in.len, in.fsPrefix, c.len, c.fs)
		}
		if in.known != c.known && c.known {
			t.Errorf("%s: x86asm did not decode it", c.hex)
		}
		if c.fs >= 0 && fsOffence(in) == "" {
			t.Errorf("%s: FS prefix not reported", c.hex)
		}
	}
	for _, h := range []string{"c5f8", "62f4", "62f07c481000", "0f38", "c4e0787700"} {
		b, _ := hex.DecodeString(h)
		if in, err := decodeInsn(b); err == nil {
			t.Errorf("%s: decoded as %d bytes, want an error", h, in.len)
		}
	}
}

func FuzzRewrite(f *testing.F) {
	_, bin := sample(f)
	f.Add(bin[:0x1000])
	f.Add(bin[:64])
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// No recover here: a panic is a bug.
		if _, _, err := rewrite(b); err == nil {
			t.Fatal("rewrite accepted a fuzzed binary")
		}
		_ = checkBytes(b)
	})
}
