package tests

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"golos/internal/tlsmove"
)

// TestGolosBinaryHasNoFS checks invariant 1 of docs/design.md on the golos binary the tests
// run: no instruction addresses memory through FS or writes the FS base. objdump is the
// independent judge; tlsmove.Check decodes the same binary its own way.
func TestGolosBinaryHasNoFS(t *testing.T) {
	needGolos(t)
	bin, err := os.ReadFile(golosBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsmove.Check(bin); err != nil {
		t.Errorf("tlsmove.Check: %v", err)
	}
	out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", golosBin).Output()
	if err != nil {
		t.Fatalf("objdump (binutils; the README's test command installs it): %v", err)
	}
	fsUse := regexp.MustCompile(`%fs:|wrfsbase|rdfsbase`)
	gsUse := 0
	lines := strings.Split(string(out), "\n")
	for _, line := range lines {
		if fsUse.MatchString(line) {
			t.Errorf("FS still used: %s", strings.TrimSpace(line))
		}
		if strings.Contains(line, "%gs:") {
			gsUse++
		}
	}
	// The Go runtime's ~450 TLS accesses moved to GS: a binary without them would
	// mean the disassembly was not of a Go program at all.
	if gsUse < 400 {
		t.Errorf("only %d GS-relative instructions in %d lines of disassembly", gsUse, len(lines))
	}
	// runtime.settls asks for ARCH_SET_GS (0x1001), never ARCH_SET_FS (0x1002).
	settls := regexp.MustCompile(`(?s)<runtime\.settls\.abi0>:\n(.*?)\n\n`).FindStringSubmatch(string(out))
	if settls == nil {
		t.Fatal("no runtime.settls in the disassembly")
	}
	if !strings.Contains(settls[1], "$0x1001,%rdi") || strings.Contains(settls[1], "$0x1002") {
		t.Errorf("runtime.settls does not ask for ARCH_SET_GS:\n%s", settls[1])
	}
}
