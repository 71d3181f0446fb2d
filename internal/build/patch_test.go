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

func countDiff(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}
