package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golos/internal/abi"
	"golos/internal/entry"
)

// The rt_sigframe golos builds for the application's handlers must be the one Linux
// builds: glibc's and musl's handlers and Go's runtime read it by these offsets. The
// structs themselves (abi.RtSigframe, abi.Ucontext, abi.Siginfo) are checked against the
// C headers in internal/abi; here, what golos adds to them: the offsets of the ucontext
// and the siginfo it hands the handler, and entry.Regs, which putRegs and getRegs copy
// to and from the gregs as one block in the same order.
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
	P("gregs", offsetof(ucontext_t, uc_mcontext.gregs[REG_R8]));
	P("gregs end", offsetof(ucontext_t, uc_mcontext.gregs[REG_EFL]) + sizeof(greg_t));
	P("R8", REG_R8); P("RDI", REG_RDI); P("RAX", REG_RAX); P("RSP", REG_RSP);
	P("RIP", REG_RIP); P("EFL", REG_EFL);
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
		i := strings.LastIndexByte(line, ' ')
		c[line[:i]], _ = strconv.ParseInt(line[i+1:], 10, 64)
	}
	var f abi.RtSigframe
	var r entry.Regs
	// Each register's index in the gregs that putRegs fills, from its offset in entry.Regs.
	idx := func(off uintptr) int64 { return int64(off / 8) }
	checks := []struct {
		name      string
		got, want int64
	}{
		{"frameUcontext", frameUcontext, int64(unsafe.Offsetof(f.Uc))},
		{"frameSiginfo", frameSiginfo, int64(unsafe.Offsetof(f.Info))},
		{"gregs block", int64(unsafe.Sizeof(r)), c["gregs end"] - c["gregs"]},
		{"gregs block in abi.Sigcontext", int64(unsafe.Sizeof(f.Uc.Mcontext.Gregs)), int64(unsafe.Sizeof(r))},
		{"Regs.R8", idx(unsafe.Offsetof(r.R8)), c["R8"]},
		{"Regs.RDI", idx(unsafe.Offsetof(r.RDI)), c["RDI"]},
		{"Regs.RAX", idx(unsafe.Offsetof(r.RAX)), c["RAX"]},
		{"Regs.RSP", idx(unsafe.Offsetof(r.RSP)), c["RSP"]},
		{"Regs.RIP", idx(unsafe.Offsetof(r.RIP)), c["RIP"]},
		{"Regs.RFLAGS", idx(unsafe.Offsetof(r.RFLAGS)), c["EFL"]},
	}
	for _, k := range checks {
		if k.got != k.want {
			t.Errorf("%s = %d, want %d", k.name, k.got, k.want)
		}
	}
	// putRegs and getRegs keep that order: each register goes to its own index and back.
	for i := range 18 {
		var in entry.Regs
		reflect.ValueOf(&in).Elem().Field(i).SetUint(uint64(i + 1))
		var g [18]uint64
		putRegs(&g, &in)
		if g[i] != uint64(i+1) {
			t.Errorf("putRegs: register %d of entry.Regs went to gregs %v", i, g)
		}
		var back entry.Regs
		getRegs(&g, &back)
		if back != in {
			t.Errorf("getRegs: register %d of entry.Regs came back as %+v", i, back)
		}
	}
}
