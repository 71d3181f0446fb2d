package build

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSkipCgroupProcs: the function's first byte becomes ret; patched again, the function
// no longer begins with the instruction the patch was measured over, and the patch
// refuses, naming what it found.
func TestSkipCgroupProcs(t *testing.T) {
	b, after, at := patchTwice(t, skipCgroupProcs, "begins with c3 3b 66 10")
	if b[at] != 0x49 || after[at] != 0xc3 {
		t.Errorf("the changed byte: %x -> %x, want the cmp's 49 -> ret (c3)", b[at], after[at])
	}
}

// TestKeepSyscallPs: one byte of runtime.retake changes, from je to jmp; patched again,
// the code the patch was measured over is no longer there, and the patch refuses.
func TestKeepSyscallPs(t *testing.T) {
	b, after, at := patchTwice(t, keepSyscallPs, "0 times")
	if b[at] != 0x74 || after[at] != 0xeb {
		t.Errorf("the changed byte: %x -> %x, want je rel8 (74) -> jmp rel8 (eb)", b[at], after[at])
	}
}

// TestSysmonBackoff: the immediate of sysmon's cmp $50,%rax becomes sysmonIdleTicks;
// patched again, the code the patch was measured over is no longer there.
func TestSysmonBackoff(t *testing.T) {
	b, after, at := patchTwice(t, sysmonBackoff, "0 times")
	i := bytes.Index(b, sysmonBackoffCheck)
	if i < 0 || at != i+sysmonIdleImm || !bytes.Equal(b[i+12:i+15], []byte{0x48, 0x83, 0xf8}) {
		t.Fatalf("the patch changed the byte at %d, want the immediate of the cmp $imm8,%%rax at %d", at, i+sysmonIdleImm)
	}
	if b[at] != 50 || after[at] != sysmonIdleTicks {
		t.Errorf("the cmp's immediate: %d -> %d, want 50 (the runtime's) -> %d", b[at], after[at], sysmonIdleTicks)
	}
}

// patchTwice builds a Go program with the toolchain golos is built with, patches it, and
// checks that exactly one byte changed; then patches it again, which must refuse with an
// error containing refusal and change nothing. It returns the file before and after the
// first patch, and where they differ.
func patchTwice(t *testing.T, patch func(path string) error, refusal string) (before, after []byte, at int) {
	t.Helper()
	path := buildGoProgram(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := patch(path); err != nil {
		t.Fatalf("first patch: %v", err)
	}
	if after, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if diff := countDiff(before, after); diff != 1 {
		t.Fatalf("the patch changed %d bytes, want 1", diff)
	}
	for at = range before {
		if before[at] != after[at] {
			break
		}
	}
	err = patch(path)
	if err == nil || !strings.Contains(err.Error(), refusal) {
		t.Errorf("second patch: %v, want a refusal (%q)", err, refusal)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(after, again) {
		t.Error("the refused patch changed the file")
	}
	return before, after, at
}

// buildGoProgram builds an empty Go program with the toolchain golos is built with.
func buildGoProgram(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-o", path, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}
