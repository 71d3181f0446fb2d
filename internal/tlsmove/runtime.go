package tlsmove

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// pattern is one instruction as the Go 1.26.8 assembler encodes it.
// TestPatterns checks that x86asm prints each enc as text.
type pattern struct {
	text string // GNU syntax, as objdump prints it
	enc  []byte
}

func (p pattern) is(in placed) bool { return in.known && bytes.Equal(in.raw, p.enc) }

// The instructions of runtime·settls and runtime·clone
// ($GOROOT/src/runtime/sys_linux_amd64.s, Go 1.26.8) that Rewrite matches.
var (
	// settls: MOVQ $0x1002, DI // ARCH_SET_FS; MOVQ $SYS_arch_prctl, AX; SYSCALL
	movArchSetFS = pattern{"mov $0x1002,%rdi", []byte{0x48, 0xc7, 0xc7, 0x02, 0x10, 0x00, 0x00}}
	movArchPrctl = pattern{"mov $0x9e,%rax", []byte{0x48, 0xc7, 0xc0, 0x9e, 0x00, 0x00, 0x00}}
	syscallInsn  = pattern{"syscall", []byte{0x0f, 0x05}}

	// clone: LEAQ m_tls(R13), R8; ADDQ $8, R8; ORQ $0x00080000, DI (CLONE_SETTLS);
	// nog1: MOVL $SYS_clone, AX; SYSCALL
	addR8        = pattern{"add $0x8,%r8", []byte{0x49, 0x83, 0xc0, 0x08}}
	orCloneTLS   = pattern{"or $0x80000,%rdi", []byte{0x48, 0x81, 0xcf, 0x00, 0x00, 0x08, 0x00}}
	movSysClone  = pattern{"mov $0x38,%eax", []byte{0xb8, 0x38, 0x00, 0x00, 0x00}}
	movSysGettid = pattern{"mov $0xba,%eax", []byte{0xb8, 0xba, 0x00, 0x00, 0x00}}

	// The 7-byte nop that replaces the OR (SDM vol. 2B, NOP: 0F 1F /0).
	nop7 = pattern{"nopl 0x0(%rax)", []byte{0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00}}
	// The 2-byte nop after the jmp that replaces gettid: 66 90.
	nop2 = []byte{0x66, 0x90}
)

// Linux x86-64 ABI numbers (arch/x86/include/uapi/asm/prctl.h,
// arch/x86/entry/syscalls/syscall_64.tbl).
const (
	archSetGS      = 0x1001
	sysArchPrctl   = 0x9e
	sysGettid      = 0xba
	gettidSiteSize = 7 // mov $0xba,%eax (5) + syscall (2)
)

// Go 1.26.8 names assembly functions with their ABI: runtime.settls.abi0
// and runtime.clone.abi0 (measured). The plain names are accepted in case a
// build has them instead (e.g. no ABI wrappers); the patterns still decide.
var (
	settlsNames = []string{"runtime.settls.abi0", "runtime.settls"}
	cloneNames  = []string{"runtime.clone.abi0", "runtime.clone"}
)

// patchSettls turns settls's ARCH_SET_FS into ARCH_SET_GS in out and returns
// the address of the patched instruction.
func patchSettls(im *image, out []byte) (uint64, error) {
	fn, err := im.lookup(settlsNames...)
	if err != nil {
		return 0, err
	}
	insns, err := im.decodeRegion(fn)
	if err != nil {
		return 0, err
	}
	var hits []int
	var loads []string // every immediate load of %rdi/%edi, for the error message
	for i, in := range insns {
		if movImmTo(in.insn, x86asm.RDI, x86asm.EDI) {
			loads = append(loads, fmt.Sprintf("%q at %s", in.text(in.pc), fn.where(in.pc)))
		}
		if movArchSetFS.is(in) {
			hits = append(hits, i)
		}
	}
	if len(hits) != 1 {
		found := "no immediate load of %rdi"
		if len(loads) > 0 {
			found = strings.Join(loads, ", ")
		}
		return 0, fmt.Errorf("tlsmove: %s: expected %q (ARCH_SET_FS) once, found %s", fn.name, movArchSetFS.text, found)
	}
	i := hits[0]
	if err := expectSeq(fn, insns, i, movArchSetFS, movArchPrctl, syscallInsn); err != nil {
		return 0, err
	}
	// MOVQ $imm32, DI is REX.W C7 /0 id: the immediate is the last 4 bytes.
	binary.LittleEndian.PutUint32(out[insns[i].off+3:], archSetGS)
	return insns[i].pc, nil
}

// patchClone drops CLONE_SETTLS from clone and routes the child's gettid
// through a stub that first sets the thread's GS base.
//
// runtime·clone (sys_linux_amd64.s:574-636) in the child: after SYSCALL
// returns 0, it does MOVQ SI, SP, checks R13 (m) and R9 (g), then
// MOVL $SYS_gettid, AX; SYSCALL; MOVQ AX, m_procid(R13); and only then
// get_tls(CX); MOVQ R9, g(CX) — its first TLS access. So the stub runs
// before any TLS access. The stub clobbers DI and SI: DI is dead in the
// child (only written again by MOVL $111, DI before exit), SI is dead once
// copied into SP, and the functions called afterwards (runtime·stackcheck,
// the ABI0 fn in R12, i.e. runtime·mstart) take no register arguments.
// R8 still holds &m.tls+8, because a Linux syscall preserves every register
// but RAX, RCX and R11, and the child starts with the parent's registers.
// R9, R12 and R13 (g, fn, m) are not touched by the stub.
//
// Signals cannot run on the new thread before its GS base is set: newosproc
// (os_linux.go:182-192) blocks all signals around clone, the child inherits
// that mask, and minit unblocks them later, long after the stub.
func patchClone(im *image, out []byte, rep *Report) error {
	fn, err := im.lookup(cloneNames...)
	if err != nil {
		return err
	}
	insns, err := im.decodeRegion(fn)
	if err != nil {
		return err
	}
	ors := find(insns, orCloneTLS)
	switch len(ors) {
	case 0:
		return fmt.Errorf("tlsmove: %s: no %q (CLONE_SETTLS) to remove", fn.name, orCloneTLS.text)
	case 1:
	default:
		return fmt.Errorf("tlsmove: %s: %q (CLONE_SETTLS) %d times, expected once", fn.name, orCloneTLS.text, len(ors))
	}
	k := ors[0]
	// %r8 must be &m.tls+8, the TLS base Rewrite will put in GS.
	if k < 2 || !leaR8FromR13(insns[k-2].insn) || !addR8.is(insns[k-1]) {
		return fmt.Errorf("tlsmove: %s: expected \"lea m_tls(%%r13),%%r8; %s\" before %q, found %s",
			fn.name, addR8.text, orCloneTLS.text, texts(insns, k-2, k))
	}
	if err := expectSeq(fn, insns, k+1, movSysClone, syscallInsn); err != nil {
		return err
	}

	// The child's gettid: the first "mov $0xba,%eax; syscall" after the
	// clone syscall, with nothing in between that could change %r8 or
	// make a call.
	g := -1
	for j := k + 3; j+1 < len(insns); j++ {
		if movSysGettid.is(insns[j]) && syscallInsn.is(insns[j+1]) {
			g = j
			break
		}
	}
	if g < 0 {
		return fmt.Errorf("tlsmove: %s: no \"%s; syscall\" (gettid) in the child after the clone syscall", fn.name, movSysGettid.text)
	}
	for _, in := range insns[k+3 : g] {
		if !in.known || touchesR8(in.insn) || in.inst.Op == x86asm.CALL || in.inst.Op == x86asm.SYSCALL {
			return fmt.Errorf("tlsmove: %s: %q at %s, between the clone syscall and gettid, may change %%r8",
				fn.name, in.text(in.pc), fn.where(in.pc))
		}
	}
	site := insns[g]
	back := site.pc + gettidSiteSize // the instruction after gettid's syscall
	// No branch may land inside the bytes that the jmp and nop replace.
	for _, in := range insns {
		if t, ok := branchTarget(in); ok && t > site.pc && t < back {
			return fmt.Errorf("tlsmove: %s: %q at %s jumps into the gettid sequence", fn.name, in.text(in.pc), fn.where(in.pc))
		}
	}

	stubAddr, stubOff, err := findPadding(im, stubSize, site.pc)
	if err != nil {
		return fmt.Errorf("tlsmove: %s: %w", fn.name, err)
	}
	stub, err := encodeStub(stubAddr, back)
	if err != nil {
		return fmt.Errorf("tlsmove: %s: %w", fn.name, err)
	}
	jmp, err := encodeJmp(site.pc, stubAddr)
	if err != nil {
		return fmt.Errorf("tlsmove: %s: %w", fn.name, err)
	}

	copy(out[insns[k].off:], nop7.enc)
	copy(out[site.off:], jmp)
	copy(out[site.off+len(jmp):], nop2)
	copy(out[stubOff:], stub)
	rep.CloneOr, rep.CloneGettid, rep.Stub = insns[k].pc, site.pc, stubAddr
	return nil
}

// The stub, 27 bytes, entered by jmp from clone's child path:
//
//	mov $0x1001,%edi   bf 01 10 00 00   ARCH_SET_GS (zero-extends into %rdi)
//	mov %r8,%rsi       4c 89 c6         &m.tls+8
//	mov $0x9e,%eax     b8 9e 00 00 00   SYS_arch_prctl
//	syscall            0f 05
//	mov $0xba,%eax     b8 ba 00 00 00   SYS_gettid, as the runtime expects
//	syscall            0f 05
//	jmp back           e9 rel32         to MOVQ AX, m_procid(R13)
//
// arch_prctl cannot fail here: %r8 is a canonical user address (the m was
// allocated by the Go heap). Had it failed, the first %gs:-8 store would
// fault at once rather than corrupt anything.
const stubSize = 27

var stubText = []string{"mov $0x1001,%edi", "mov %r8,%rsi", "mov $0x9e,%eax", "syscall", "mov $0xba,%eax", "syscall"}

func encodeStub(at, back uint64) ([]byte, error) {
	b := []byte{
		0xbf, 0x01, 0x10, 0x00, 0x00,
		0x4c, 0x89, 0xc6,
		0xb8, sysArchPrctl, 0x00, 0x00, 0x00,
		0x0f, 0x05,
		0xb8, sysGettid, 0x00, 0x00, 0x00,
		0x0f, 0x05,
	}
	jmp, err := encodeJmp(at+uint64(len(b)), back)
	if err != nil {
		return nil, err
	}
	b = append(b, jmp...)
	// Self-check: the hand-encoded bytes decode, with x86asm, to exactly
	// the instructions above.
	pc := at
	for i, rest := 0, b; len(rest) > 0; i++ {
		inst, err := x86asm.Decode(rest, 64)
		if err != nil {
			return nil, fmt.Errorf("stub does not decode at +%d: %w", pc-at, err)
		}
		if i < len(stubText) {
			if got := x86asm.GNUSyntax(inst, pc, nil); got != stubText[i] {
				return nil, fmt.Errorf("stub instruction %d decodes as %q, want %q", i, got, stubText[i])
			}
		} else if t, ok := relTarget(inst, pc); !ok || inst.Op != x86asm.JMP || t != back || i != len(stubText) {
			return nil, fmt.Errorf("stub instruction %d decodes as %q, want jmp %#x", i, x86asm.GNUSyntax(inst, pc, nil), back)
		}
		pc += uint64(inst.Len)
		rest = rest[inst.Len:]
	}
	if len(b) != stubSize {
		return nil, fmt.Errorf("stub is %d bytes, want %d", len(b), stubSize)
	}
	return b, nil
}

// encodeJmp encodes "jmp rel32" at pc to target (E9 cd).
func encodeJmp(pc, target uint64) ([]byte, error) {
	rel := int64(target - (pc + 5))
	if rel < math.MinInt32 || rel > math.MaxInt32 {
		return nil, fmt.Errorf("jmp from %#x to %#x is out of rel32 range", pc, target)
	}
	b := []byte{0xe9, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], uint32(int32(rel)))
	return b, nil
}

// findPadding finds size bytes of int3 padding outside every function
// symbol, in the int3 run nearest to near that is long enough, and returns
// their address and file offset. Padding is never executed: Go fills the space after a function's
// last instruction with int3 (0xCC) up to the next function's alignment.
func findPadding(im *image, size int, near uint64) (uint64, int, error) {
	best, bestOff, found := uint64(0), 0, false
	dist := func(a uint64) uint64 {
		if a > near {
			return a - near
		}
		return near - a
	}
	for _, g := range im.gaps {
		code := im.data[g.off : g.off+g.size]
		for i := 0; i < len(code); {
			if code[i] != 0xcc {
				i++
				continue
			}
			j := i
			for j < len(code) && code[j] == 0xcc {
				j++
			}
			// Keep one int3 before the stub, so that nothing can fall
			// through into it from the preceding function (whose last
			// instruction may be a call to a function that never
			// returns, e.g. runtime.abort).
			if j-i >= size+1 {
				a := g.addr + uint64(i+1)
				if !found || dist(a) < dist(best) {
					best, bestOff, found = a, g.off+i+1, true
				}
			}
			i = j
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("no run of %d int3 padding bytes between functions for the stub", size)
	}
	return best, bestOff, nil
}

// expectSeq checks that insns[i:] starts with want.
func expectSeq(fn region, insns []placed, i int, want ...pattern) error {
	for j, p := range want {
		if i+j >= len(insns) || !p.is(insns[i+j]) {
			var ws []string
			for _, w := range want {
				ws = append(ws, w.text)
			}
			return fmt.Errorf("tlsmove: %s: expected %q, found %s", fn.name, strings.Join(ws, "; "), texts(insns, i, i+len(want)))
		}
	}
	return nil
}

func find(insns []placed, p pattern) []int {
	var idx []int
	for i, in := range insns {
		if p.is(in) {
			idx = append(idx, i)
		}
	}
	return idx
}

// texts renders insns[i:j] (clipped) for error messages.
func texts(insns []placed, i, j int) string {
	i, j = max(i, 0), min(j, len(insns))
	if i >= j {
		return "nothing (end of function)"
	}
	var s []string
	for _, in := range insns[i:j] {
		s = append(s, in.text(in.pc))
	}
	return fmt.Sprintf("%q at %#x", strings.Join(s, "; "), insns[i].pc)
}

func movImmTo(in insn, regs ...x86asm.Reg) bool {
	if !in.known || in.inst.Op != x86asm.MOV {
		return false
	}
	r, ok := in.inst.Args[0].(x86asm.Reg)
	_, imm := in.inst.Args[1].(x86asm.Imm)
	return ok && imm && (r == regs[0] || len(regs) > 1 && r == regs[1])
}

func leaR8FromR13(in insn) bool {
	if !in.known || in.inst.Op != x86asm.LEA || in.inst.Args[0] != x86asm.R8 {
		return false
	}
	m, ok := in.inst.Args[1].(x86asm.Mem)
	return ok && m.Base == x86asm.R13 && m.Index == 0 && m.Segment == 0
}

func touchesR8(in insn) bool {
	for _, a := range in.inst.Args {
		switch a := a.(type) {
		case x86asm.Reg:
			if a == x86asm.R8 || a == x86asm.R8L || a == x86asm.R8W || a == x86asm.R8B {
				return true
			}
		case x86asm.Mem:
			if a.Base == x86asm.R8 || a.Index == x86asm.R8 {
				return true
			}
		}
	}
	return false
}

// branchTarget returns the target of a direct (rel8/rel32) jump or call.
func branchTarget(in placed) (uint64, bool) {
	if !in.known {
		return 0, false
	}
	return relTarget(in.inst, in.pc)
}

func relTarget(inst x86asm.Inst, pc uint64) (uint64, bool) {
	for _, a := range inst.Args {
		if r, ok := a.(x86asm.Rel); ok {
			return pc + uint64(inst.Len) + uint64(int64(r)), true
		}
	}
	return 0, false
}
