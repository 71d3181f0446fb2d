// Package build produces the golos binary: a CGO_ENABLED=0 `go build` of cmd/golos linked
// high in the address space, followed by the TLS move that puts the Go runtime's
// thread-locals on GS (see internal/tlsmove and docs/design.md).
package build

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golos/internal/tlsmove"
)

// TextAddress is where golos's text is linked. Linux places non-PIE executables at
// 0x400000, PIE executables near 0x555555554000 and mmap/stack near 0x7fffxxxxxxxx; golos
// sits between the PIE range and the mmap range so that all of them stay free for the
// application. The Go heap goes where the host's mmap puts it (Go 1.26 randomises its base
// below 0x400000000000); golos keeps the application off it (internal/kernel/mm.go).
const TextAddress = 0x7e0000001000

// Golos builds cmd/golos from the module rooted at root and writes the rewritten binary to
// out (atomically: a concurrent reader sees the old or the new file, never half of one),
// and golos-oci beside it (OCI). tags are build tags besides golosbuild (lockorder:
// internal/kernel/lockorder.go).
func Golos(root, out string, tags ...string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	linked, err := os.CreateTemp(filepath.Dir(out), ".golos-linked-*")
	if err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	linked.Close()
	defer os.Remove(linked.Name())
	// -checklinkname=0: golos reaches two variables of the runtime's poller and one of
	// package syscall (cmd/golos/hostfd_unsafe.go), which Go 1.23+ does not export. The
	// golosbuild tag selects that file; without it (a plain go build) cmd/golos builds a
	// binary that says how to build golos (cmd/golos/plainbuild.go). -E: golos's entry
	// moves a forked child's vDSO (cmd/golos/forkentry_amd64.s), then grows the
	// descriptor table (cmd/golos/prestart_amd64.s), before the runtime starts.
	cmd := exec.Command("go", "build", "-trimpath", "-tags="+strings.Join(append([]string{"golosbuild"}, tags...), ","),
		fmt.Sprintf("-ldflags=-T=%#x -checklinkname=0 -E=main.forkEntry", TextAddress),
		"-o", linked.Name(), "./cmd/golos")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build golos: go build: %w", err)
	}
	// The TLS move first: it reads the runtime's code as linked. Then the patch, on a
	// copy that replaces out whole once patched.
	moved := linked.Name() + ".moved"
	defer os.Remove(moved)
	if _, err := tlsmove.RewriteFile(linked.Name(), moved); err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	if err := skipCgroupProcs(moved); err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	if err := keepSyscallPs(moved); err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	if err := sysmonBackoff(moved); err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	if err := os.Rename(moved, out); err != nil {
		return fmt.Errorf("build golos: %w", err)
	}
	return OCI(root, filepath.Join(filepath.Dir(out), "golos-oci"))
}

// OCI builds cmd/golos-oci, golos as an OCI runtime, to out: an ordinary Go binary (it
// runs no application code itself; it runs golos, which it finds beside itself), written
// atomically as golos is.
func OCI(root, out string) error {
	f, err := os.CreateTemp(filepath.Dir(out), ".golos-oci-*")
	if err != nil {
		return fmt.Errorf("build golos-oci: %w", err)
	}
	f.Close()
	tmp := f.Name()
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "./cmd/golos-oci")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("build golos-oci: go build: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("build golos-oci: %w", err)
	}
	return nil
}
