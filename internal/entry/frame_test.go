package entry

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// cOffsets compiles and runs a C program that prints "name value" lines, and returns them.
func cOffsets(t *testing.T, includes, body string) map[string]int {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "offsets.c")
	prog := includes + `
#include <stddef.h>
#include <stdio.h>
#define P(name, v) printf("%s %ld\n", name, (long)(v))
int main(void) {
` + body + `
	return 0;
}
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "offsets")
	if out, err := exec.Command("gcc", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc (install it: the README's test command does): %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		v, _ := strconv.Atoi(f[1])
		m[f[0]] = v
	}
	return m
}

// The handlers copy the general registers from the signal frame into Regs in one block
// and read fixed offsets of ucontext_t and siginfo_t: all of it must match the C ABI.
func TestFrameOffsetsMatchCHeaders(t *testing.T) {
	c := cOffsets(t, "#define _GNU_SOURCE\n#include <signal.h>\n#include <sys/ucontext.h>", `
	ucontext_t uc;
	P("gregs", offsetof(ucontext_t, uc_mcontext.gregs));
	P("fpregs", offsetof(ucontext_t, uc_mcontext.fpregs));
	P("REG_R8", REG_R8); P("REG_R9", REG_R9); P("REG_R10", REG_R10); P("REG_R11", REG_R11);
	P("REG_R12", REG_R12); P("REG_R13", REG_R13); P("REG_R14", REG_R14); P("REG_R15", REG_R15);
	P("REG_RDI", REG_RDI); P("REG_RSI", REG_RSI); P("REG_RBP", REG_RBP); P("REG_RBX", REG_RBX);
	P("REG_RDX", REG_RDX); P("REG_RAX", REG_RAX); P("REG_RCX", REG_RCX); P("REG_RSP", REG_RSP);
	P("REG_RIP", REG_RIP); P("REG_EFL", REG_EFL); P("REG_ERR", REG_ERR); P("REG_TRAPNO", REG_TRAPNO);
	P("si_signo", offsetof(siginfo_t, si_signo)); P("si_code", offsetof(siginfo_t, si_code));
	P("si_addr", offsetof(siginfo_t, si_addr)); P("si_call_addr", offsetof(siginfo_t, si_call_addr));
	P("si_pid", offsetof(siginfo_t, si_pid));
	(void)uc;`)
	// The kernel's own view of the XSAVE area's software bytes and the SIGSYS code.
	k := cOffsets(t, "#include <asm/sigcontext.h>\n#include <asm-generic/siginfo.h>", `
	P("sw_magic1", offsetof(struct _fpstate_64, sw_reserved) + offsetof(struct _fpx_sw_bytes, magic1));
	P("sw_xstate_size", offsetof(struct _fpstate_64, sw_reserved) + offsetof(struct _fpx_sw_bytes, xstate_size));
	P("FP_XSTATE_MAGIC1", FP_XSTATE_MAGIC1); P("FP_XSTATE_MAGIC2", FP_XSTATE_MAGIC2);
	P("SYS_USER_DISPATCH", SYS_USER_DISPATCH);`)
	for name, v := range k {
		c[name] = v
	}
	var r Regs
	regs := map[string]uintptr{
		"REG_R8": unsafe.Offsetof(r.R8), "REG_R9": unsafe.Offsetof(r.R9), "REG_R10": unsafe.Offsetof(r.R10),
		"REG_R11": unsafe.Offsetof(r.R11), "REG_R12": unsafe.Offsetof(r.R12), "REG_R13": unsafe.Offsetof(r.R13),
		"REG_R14": unsafe.Offsetof(r.R14), "REG_R15": unsafe.Offsetof(r.R15), "REG_RDI": unsafe.Offsetof(r.RDI),
		"REG_RSI": unsafe.Offsetof(r.RSI), "REG_RBP": unsafe.Offsetof(r.RBP), "REG_RBX": unsafe.Offsetof(r.RBX),
		"REG_RDX": unsafe.Offsetof(r.RDX), "REG_RAX": unsafe.Offsetof(r.RAX), "REG_RCX": unsafe.Offsetof(r.RCX),
		"REG_RSP": unsafe.Offsetof(r.RSP), "REG_RIP": unsafe.Offsetof(r.RIP), "REG_EFL": unsafe.Offsetof(r.RFLAGS),
	}
	for name, off := range regs {
		if int(off) != 8*c[name] {
			t.Errorf("Regs: %s at offset %d, ucontext gregs has it at %d", name, off, 8*c[name])
		}
	}
	if int(unsafe.Sizeof(r)) != 8*(c["REG_EFL"]+1) {
		t.Errorf("Regs is %d bytes; the block REG_R8…REG_EFL is %d", unsafe.Sizeof(r), 8*(c["REG_EFL"]+1))
	}
	want := map[string][2]int{
		"ucGregs":           {ucGregs, c["gregs"]},
		"ucRip":             {ucRip, c["gregs"] + 8*c["REG_RIP"]},
		"ucErr":             {ucErr, c["gregs"] + 8*c["REG_ERR"]},
		"ucTrapno":          {ucTrapno, c["gregs"] + 8*c["REG_TRAPNO"]},
		"ucFpregs":          {ucFpregs, c["fpregs"]},
		"siSigno":           {siSigno, c["si_signo"]},
		"siCode":            {siCode, c["si_code"]},
		"siAddr":            {siAddr, c["si_addr"]},
		"siPid":             {siPid, c["si_pid"]},
		"siAddr (SIGSYS)":   {siAddr, c["si_call_addr"]},
		"swMagic1":          {swMagic1, c["sw_magic1"]},
		"swXstateSize":      {swXstateSize, c["sw_xstate_size"]},
		"FPXstateMagic1":    {FPXstateMagic1, c["FP_XSTATE_MAGIC1"]},
		"FPXstateMagic2":    {FPXstateMagic2, c["FP_XSTATE_MAGIC2"]},
		"siSysUserDispatch": {siSysUserDispatch, c["SYS_USER_DISPATCH"]},
	}
	for name, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %d, the C headers say %d", name, v[0], v[1])
		}
	}
}

// XRSTOR needs a 64-byte-aligned area; NewContext maps Contexts at page boundaries.
func TestXsaveAligned(t *testing.T) {
	var c Context
	if off := unsafe.Offsetof(c.xsave); off%64 != 0 {
		t.Fatalf("Context.xsave at offset %d, not 64-byte aligned", off)
	}
	ctx, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer FreeContext(ctx)
	if p := uintptr(unsafe.Pointer(&ctx.xsave[0])); p%64 != 0 {
		t.Fatalf("xsave area at %#x", p)
	}
	if XsaveSize < 576 || XsaveSize+4 > xsaveMax {
		t.Fatalf("XsaveSize %d outside [576, %d]", XsaveSize, xsaveMax-4)
	}
}

// The kick handler tells parts of the entry code apart by their addresses.
func TestEntryLayout(t *testing.T) {
	if err := checkLayout(); err != nil {
		t.Fatal(err)
	}
}
