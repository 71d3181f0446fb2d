package build

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSkipCgroupProcs patches a Go program built by the toolchain golos is built with:
// the function's first byte becomes ret; patched again, the function no longer begins
// with the instruction the patch was measured over, and the patch refuses, naming what it
// found and changing nothing.
func TestSkipCgroupProcs(t *testing.T) {
	path := buildGoProgram(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := skipCgroupProcs(path); err != nil {
		t.Fatalf("first patch: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := countDiff(b, after); diff != 1 {
		t.Errorf("the patch changed %d bytes, want 1", diff)
	}
	err = skipCgroupProcs(path)
	if err == nil || !strings.Contains(err.Error(), "begins with c3 3b 66 10") {
		t.Errorf("second patch: %v, want a refusal naming the bytes found", err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(after, again) {
		t.Error("the refused patch changed the file")
	}
}

// TestKeepSyscallPs patches a Go program built by the toolchain golos is built with: one
// byte of runtime.retake changes, from je to jmp; patched again, the code the patch was
// measured over is no longer there, and the patch refuses, changing nothing.
func TestKeepSyscallPs(t *testing.T) {
	path := buildGoProgram(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := keepSyscallPs(path); err != nil {
		t.Fatalf("first patch: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := countDiff(b, after); diff != 1 {
		t.Errorf("the patch changed %d bytes, want 1", diff)
	}
	at := -1
	for i := range b {
		if b[i] != after[i] {
			at = i
			break
		}
	}
	if at < 0 || b[at] != 0x74 || after[at] != 0xeb {
		t.Fatalf("the changed byte at %d: % x -> % x, want je rel8 (74) -> jmp rel8 (eb)", at, b[max(at, 0):max(at, 0)+1], after[max(at, 0):max(at, 0)+1])
	}
	err = keepSyscallPs(path)
	if err == nil || !strings.Contains(err.Error(), "0 times") {
		t.Errorf("second patch: %v, want a refusal saying the code is not there", err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(after, again) {
		t.Error("the refused patch changed the file")
	}
}

func TestSysmonBackoff(t *testing.T) {
	path := buildGoProgram(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sysmonBackoff(path); err != nil {
		t.Fatalf("first patch: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := countDiff(b, after); diff != 1 {
		t.Errorf("the patch changed %d bytes, want 1", diff)
	}
	at := bytes.Index(b, sysmonBackoffCheck)
	if at < 0 || b[at+12] != 0x48 || b[at+13] != 0x83 || b[at+14] != 0xf8 {
		t.Fatalf("the unpatched file has no cmp $imm8,%%rax in sysmon's sleep choice")
	}
	if b[at+sysmonIdleImm] != 50 || after[at+sysmonIdleImm] != sysmonIdleTicks {
		t.Errorf("the cmp's immediate: %d -> %d, want 50 (the runtime's) -> %d", b[at+sysmonIdleImm], after[at+sysmonIdleImm], sysmonIdleTicks)
	}
	err = sysmonBackoff(path)
	if err == nil || !strings.Contains(err.Error(), "0 times") {
		t.Errorf("second patch: %v, want a refusal saying the code is not there", err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(after, again) {
		t.Error("the refused patch changed the file")
	}
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
