package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golos/internal/entry"
)

// The rt_sigframe golos builds for the application's handlers must be the one Linux
// builds: glibc's and musl's handlers and Go's runtime read it by these offsets. (The
// SA_*, SS_* and SI_* constants, and the structs inside the frame, are checked against the
// headers with the rest of the ABI in internal/abi.)
func TestSigframeLayoutMatchesCHeaders(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "frame.c")
	prog := `#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ucontext.h>
#define P(name, v) printf("%s %ld\n", name, (long)(v))
int main(void) {
	P("uc_stack", offsetof(ucontext_t, uc_stack));
	P("uc_mcontext", offsetof(ucontext_t, uc_mcontext));
	P("gregs", offsetof(ucontext_t, uc_mcontext.gregs));
	P("csgsfs", offsetof(ucontext_t, uc_mcontext.gregs[REG_CSGSFS]));
	P("err", offsetof(ucontext_t, uc_mcontext.gregs[REG_ERR]));
	P("trapno", offsetof(ucontext_t, uc_mcontext.gregs[REG_TRAPNO]));
	P("oldmask", offsetof(ucontext_t, uc_mcontext.gregs[REG_OLDMASK]));
	P("cr2", offsetof(ucontext_t, uc_mcontext.gregs[REG_CR2]));
	P("fpregs", offsetof(ucontext_t, uc_mcontext.fpregs));
	P("uc_sigmask", offsetof(ucontext_t, uc_sigmask));
	P("siginfo", sizeof(siginfo_t));
	P("si_pid", offsetof(siginfo_t, si_pid));
	P("si_uid", offsetof(siginfo_t, si_uid));
	P("si_value", offsetof(siginfo_t, si_value));
	P("si_addr", offsetof(siginfo_t, si_addr));
	return 0;
}
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "frame")
	if out, err := exec.Command("gcc", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc (the README's test command installs it): %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		c[f[0]], _ = strconv.ParseInt(f[1], 10, 64)
	}
	var r entry.Regs
	checks := []struct {
		name      string
		got, want int64
	}{
		{"ucStackOff", ucStackOff, c["uc_stack"]},
		{"ucMcontextOff", ucMcontextOff, c["gregs"]},
		{"gregs block", mcGregsCount * 8, int64(unsafe.Sizeof(r))},
		{"mcCsgsfsOff", mcCsgsfsOff, c["csgsfs"]},
		{"mcErrOff", mcErrOff, c["err"]},
		{"mcTrapnoOff", mcTrapnoOff, c["trapno"]},
		{"mcOldmaskOff", mcOldmaskOff, c["oldmask"]},
		{"mcCr2Off", mcCr2Off, c["cr2"]},
		{"mcFpstateOff", mcFpstateOff, c["fpregs"]},
		{"ucSigmaskOff", ucSigmaskOff, c["uc_sigmask"]},
		{"siginfo size", frameSize - frameSiginfo, c["siginfo"]},
		{"siPidOff", siPidOff, c["si_pid"]},
		{"siUidOff", siUidOff, c["si_uid"]},
		{"siValueOff", siValueOff, c["si_value"]},
		{"siAddrOff", siAddrOff, c["si_addr"]},
	}
	for _, k := range checks {
		if k.got != k.want {
			t.Errorf("%s = %d, the C headers say %d", k.name, k.got, k.want)
		}
	}
}
