// Package syspatch rewrites syscall sites in an application's code so that they reach
// golos's entry code with a jump instead of a SIGSYS from Syscall User Dispatch.
//
// A site is a syscall instruction and the instructions before it that run straight into
// it, the first of them at least 5 bytes long: C libraries' "mov $nr,%eax; syscall";
// glibc's syscall(3), whose "mov 0x8(%rsp),%r9" precedes its syscall; glibc's read(2),
// "cmpb $0x0,single_threaded(%rip); je cancellable; xor %eax,%eax; syscall". The first
// instruction's first bytes are replaced by a jmp to a stub of the site's own, in a stub
// page golos maps within reach of the code:
//
//	stub:   <the instructions up to the syscall, relocated>
//	        lea  slow(%rip),%rcx   where fastEntry goes when it cannot take the call
//	        jmp  *entry(%rip)      golos's fastEntry, from the stub page's header
//	slow:   syscall                traps through Syscall User Dispatch as before
//	        jmp  after             back after the site's syscall instruction
//
// Relocated means: a RIP-relative operand still addresses what it did, and a conditional
// branch (the only branch allowed) still goes where it did, as a jcc rel32. Every
// instruction but the first stays where it was, as does the syscall: code that jumps to
// one of them directly runs them as before and makes its syscall through Syscall User
// Dispatch. RCX and R11 are free at a syscall (the instruction clobbers them); the red
// zone is never touched. A site is confirmed by decoding (x86asm): decodings started at
// several places before it must fall into step on the same instruction boundaries, and no
// direct branch on the stream they share may land inside any of the site's instructions.
package syspatch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"golang.org/x/arch/x86/x86asm"
)

// Site is a syscall site.
type Site struct {
	Addr    uint64 // the instruction before the syscall: where the jmp goes
	Insn    []byte // that instruction
	Syscall uint64 // the syscall instruction
}

// Nr is the syscall number a "mov $nr,%eax" site loads, or -1 for another instruction.
func (s Site) Nr() int64 {
	if len(s.Insn) == 5 && s.Insn[0] == 0xb8 {
		return int64(binary.LittleEndian.Uint32(s.Insn[1:]))
	}
	return -1
}

// jmpLen is the length of the jmp rel32 that replaces a site's instruction.
const jmpLen = 5

// Window is how far before a syscall instruction decodings may be started to find the
// instruction before it, and syncStarts how many consecutive starts are tried there.
// They start shortWindow bytes before it first, which confirms most sites; a site they do
// not confirm is tried again from Window bytes before, which gives the decodings room to
// fall into step before the site: from 32, one of them crossed the displacement of a jg in
// glibc's start_thread as other instructions and met the stream only after the site's
// first instruction, which then did not count as confirmed, and every thread's exit
// trapped (TestFindRefuses). Starting from 64 at once cost every site half as much
// decoding again (BenchmarkBefore: 6.2–6.7 µs a site against 4.1–5.0).
const (
	Window      = 64
	shortWindow = 32
	syncStarts  = 8
)

// Before finds the site whose syscall instruction is at code[sc:], code being mapped at
// base and holding up to Window bytes before it.
func Before(code []byte, sc int, base uint64) (Site, bool) {
	if sc < 0 || sc+2 > len(code) || code[sc] != 0x0f || code[sc+1] != 0x05 {
		return Site{}, false
	}
	if s, ok := before(code, sc, base, shortWindow); ok {
		return s, true
	}
	return before(code, sc, base, Window)
}

// before is Before with the decodings started window bytes before the syscall.
func before(code []byte, sc int, base uint64, window int) (Site, bool) {
	// Decode forward from several starts before the syscall: x86 decodings fall into
	// step with the real instruction stream within a few instructions, so starts that
	// are not instruction boundaries still end up on the syscall if it is one, and the
	// instruction before it is the same for all of them.
	first := max(0, sc-window)
	type chain struct {
		start, prev int    // where the decoding started; the instruction before sc
		landed      bool   // it reached sc exactly
		visited     uint64 // the offsets (from first) it decoded an instruction at
	}
	var chains [syncStarts]chain
	nchains := 0
	// The decodings meet on the same offsets, so each offset is decoded once: its
	// instruction's length (0: not yet decoded, -1: no instruction there) and, for a
	// direct branch, its target.
	var lens [Window]int8
	var targets [Window]int
	// The starts are syncStarts consecutive bytes, from the first whose decoding reaches
	// the syscall: the window may begin inside a long instruction whose immediate
	// decodes as nothing (glibc's start_thread: "movl $0xfffffffe,%fs:0x924" ten bytes
	// before the mov of its set_robust_list site, 34 before the syscall), and a start
	// whose decoding meets such bytes before any has reached the syscall moves the starts
	// on by one.
	end := first + syncStarts
	for start := first; start < end && start < sc; start++ {
		pc, last := start, -1
		var visited uint64
		for pc < sc {
			i := pc - first
			if lens[i] == 0 {
				lens[i] = -1
				targets[i] = -1
				if in, err := x86asm.Decode(code[pc:], 64); err == nil {
					lens[i] = int8(in.Len)
					if t, ok := branchTarget(in, pc); ok {
						targets[i] = t
					}
				}
			}
			if lens[i] < 0 {
				break
			}
			visited |= 1 << i
			last = pc
			pc += int(lens[i])
		}
		if pc >= sc {
			chains[nchains] = chain{start: start, prev: last, landed: pc == sc, visited: visited}
			nchains++
		} else if nchains == 0 {
			end++
		}
	}
	// The earliest start that reached sc names the instruction before it; the starts up
	// to that instruction must overwhelmingly agree.
	prev := -1
	for _, c := range chains[:nchains] {
		if c.landed && c.prev >= 0 {
			prev = c.prev
			break
		}
	}
	if prev < 0 {
		return Site{}, false
	}
	agree, other := 0, 0
	// The offsets every agreeing decoding that started before them went through, and
	// those any agreeing decoding went through.
	common, seen := ^uint64(0), uint64(0)
	for _, c := range chains[:nchains] {
		switch {
		case c.start > prev:
			// started inside the instruction itself: proves nothing
		case c.landed && c.prev == prev:
			agree++
			// A decoding says nothing about what lies before its start.
			common &= c.visited | (1<<(c.start-first) - 1)
			seen |= c.visited
		default:
			other++
		}
	}
	if agree < 3*other+1 {
		return Site{}, false
	}
	common &= seen
	// The site's instructions: the one before the syscall, and as many before it on the
	// common stream as it takes for the first to hold the jmp.
	seq := []int{prev}
	for int(lens[seq[0]-first]) < jmpLen {
		if len(seq) == maxSeq {
			return Site{}, false
		}
		p := -1
		for o := seq[0] - 1; o >= first && o > seq[0]-16; o-- {
			if common&(1<<(o-first)) != 0 && o+int(lens[o-first]) == seq[0] {
				p = o
				break
			}
		}
		if p < 0 {
			return Site{}, false
		}
		seq = append([]int{p}, seq...)
	}
	start := seq[0]
	// A direct branch on that common stream into the middle of the site's instructions
	// disqualifies it; one to the start of any but the first is fine, as they stay.
	// (Branches that only decodings still out of step saw are not instructions of the
	// program: they would refuse good sites for nothing.)
	for i := range Window {
		t := targets[i]
		if common&(1<<i) != 0 && t > start && t < sc && !slices.Contains(seq, t) {
			return Site{}, false
		}
	}
	insn := code[start:sc]
	if _, ok := relocate(insn, base+uint64(start), base+uint64(start)); !ok {
		return Site{}, false
	}
	return Site{Addr: base + uint64(start), Insn: append([]byte(nil), insn...), Syscall: base + uint64(sc)}, true
}

// maxSeq is how many instructions a site may have before its syscall, and maxRelocated
// how many bytes they may take in the stub.
const (
	maxSeq       = 4
	maxRelocated = stubLen - 20
)

// relocate returns the instructions insn, which lie at from, as they must be written at
// to to do the same: a RIP-relative operand's displacement adjusted, a conditional branch
// re-encoded as a jcc rel32 to the same target. It refuses (false) what a stub cannot run
// in the site's place: another control transfer, a syscall, an instruction it cannot
// decode or reach, one that uses FS or GS, and a first instruction shorter than the jmp
// or that is a branch.
func relocate(insn []byte, from, to uint64) ([]byte, bool) {
	le := binary.LittleEndian
	var out []byte
	for off := 0; off < len(insn); {
		in, err := x86asm.Decode(insn[off:], 64)
		if err != nil || off+in.Len > len(insn) || off == 0 && in.Len < jmpLen {
			return nil, false
		}
		for _, p := range in.Prefix {
			if p&0xff == x86asm.PrefixFS&0xff || p&0xff == x86asm.PrefixGS&0xff {
				return nil, false
			}
		}
		for _, a := range in.Args {
			if m, ok := a.(x86asm.Mem); ok && m.Segment != 0 {
				return nil, false
			}
		}
		next := from + uint64(off+in.Len)
		at := to + uint64(len(out))
		cc, isJcc := jccCode[in.Op]
		switch {
		case isJcc && off > 0 && (in.PCRel == 1 || in.PCRel == 4):
			target := next + uint64(int64(in.Args[0].(x86asm.Rel)))
			rel, ok := rel32(target, at+6)
			if !ok {
				return nil, false
			}
			out = append(out, 0x0f, 0x80|cc, 0, 0, 0, 0)
			le.PutUint32(out[len(out)-4:], rel)
		case in.PCRel != 0:
			// Only a RIP-relative memory operand (any other PC-relative field is a branch's).
			if in.PCRel != 4 || !hasRIPMem(in) {
				return nil, false
			}
			target := next + uint64(int64(int32(le.Uint32(insn[off+in.PCRelOff:]))))
			rel, ok := rel32(target, at+uint64(in.Len))
			if !ok {
				return nil, false
			}
			out = append(out, insn[off:off+in.Len]...)
			le.PutUint32(out[len(out)-in.Len+in.PCRelOff:], rel)
		default:
			switch in.Op {
			case x86asm.JMP, x86asm.CALL, x86asm.RET, x86asm.LCALL, x86asm.LJMP, x86asm.LRET,
				x86asm.SYSCALL, x86asm.SYSENTER, x86asm.INT, x86asm.INTO, x86asm.IRET,
				x86asm.IRETD, x86asm.IRETQ, x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE,
				x86asm.JRCXZ, x86asm.JECXZ, x86asm.JCXZ:
				return nil, false
			}
			if _, ok := branchTarget(in, 0); ok {
				return nil, false
			}
			out = append(out, insn[off:off+in.Len]...)
		}
		off += in.Len
	}
	if len(out) > maxRelocated {
		return nil, false
	}
	return out, true
}

// hasRIPMem reports whether in addresses memory relative to RIP.
func hasRIPMem(in x86asm.Inst) bool {
	for _, a := range in.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.RIP {
			return true
		}
	}
	return false
}

// jccCode is the condition code (the low nibble of 0f 80+cc) of each conditional branch.
var jccCode = map[x86asm.Op]byte{
	x86asm.JO: 0x0, x86asm.JNO: 0x1, x86asm.JB: 0x2, x86asm.JAE: 0x3, x86asm.JE: 0x4,
	x86asm.JNE: 0x5, x86asm.JBE: 0x6, x86asm.JA: 0x7, x86asm.JS: 0x8, x86asm.JNS: 0x9,
	x86asm.JP: 0xa, x86asm.JNP: 0xb, x86asm.JL: 0xc, x86asm.JGE: 0xd, x86asm.JLE: 0xe,
	x86asm.JG: 0xf,
}

// Find returns the sites in code, which is mapped at base (golos rewrites sites one by
// one as they trap; Find serves tests and tools).
func Find(code []byte, base uint64) []Site {
	var sites []Site
	for off := 0; ; {
		i := bytes.Index(code[off:], []byte{0x0f, 0x05})
		if i < 0 {
			return sites
		}
		sc := off + i
		off = sc + 1
		lo := max(0, sc-Window)
		if s, ok := Before(code[lo:], sc-lo, base+uint64(lo)); ok {
			sites = append(sites, s)
		}
	}
}

// branchTarget is the target of a direct relative jump or call decoded at pc.
func branchTarget(in x86asm.Inst, pc int) (int, bool) {
	switch in.Op {
	case x86asm.JMP, x86asm.CALL, x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP,
		x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JS, x86asm.JRCXZ, x86asm.JECXZ, x86asm.LOOP,
		x86asm.LOOPE, x86asm.LOOPNE:
		if rel, ok := in.Args[0].(x86asm.Rel); ok {
			return pc + in.Len + int(rel), true
		}
	}
	return 0, false
}

// Layout of a stub page: a header holding fastEntry's address, then the stubs.
const (
	headerLen = 16
	stubLen   = 48
)

// StubsPerPage is how many stubs one page of stubs holds.
const StubsPerPage = (4096 - headerLen) / stubLen

// Header is the start of a stub page: fastEntry's address, which every stub jumps
// through.
func Header(fastEntry uint64) []byte {
	b := make([]byte, headerLen)
	binary.LittleEndian.PutUint64(b, fastEntry)
	return b
}

// StubOffset is where the i-th stub lies in its page.
func StubOffset(i int) int { return headerLen + i*stubLen }

// Stub returns the i-th stub of the stub page at page for site, and the bytes that
// replace the start of the site's first instruction: a jmp to the stub (the rest of that
// instruction's bytes stay, never to run again). A site out of rel32 reach of the page is
// an error.
func Stub(page uint64, i int, s Site) (stub []byte, jmp []byte, err error) {
	le := binary.LittleEndian
	off := StubOffset(i)
	at := page + uint64(off)
	code, ok := relocate(s.Insn, s.Addr, at)
	if !ok {
		return nil, nil, fmt.Errorf("syscall site %#x cannot run from its stub at %#x", s.Addr, at)
	}
	n := len(code)
	b := make([]byte, stubLen)
	copy(b, code)
	copy(b[n:], []byte{0x48, 0x8d, 0x0d}) // lea rel32(%rip),%rcx → slow
	le.PutUint32(b[n+3:], 6)              // slow follows the 6-byte jmp
	copy(b[n+7:], []byte{0xff, 0x25})     // jmp *rel32(%rip) → the page's header
	le.PutUint32(b[n+9:], uint32(int32(-int64(off)-int64(n)-13)))
	copy(b[n+13:], []byte{0x0f, 0x05}) // slow: syscall
	b[n+15] = 0xe9                     // jmp rel32 → after the site's syscall
	back, ok := rel32(s.Syscall+2, at+uint64(n)+20)
	if !ok {
		return nil, nil, fmt.Errorf("syscall site %#x is out of reach of its stub at %#x", s.Addr, at)
	}
	le.PutUint32(b[n+16:], back)
	for j := n + 20; j < stubLen; j++ {
		b[j] = 0xcc
	}
	to, ok := rel32(at, s.Addr+jmpLen)
	if !ok {
		return nil, nil, fmt.Errorf("stub %#x is out of reach of syscall site %#x", at, s.Addr)
	}
	jmp = make([]byte, jmpLen)
	jmp[0] = 0xe9
	le.PutUint32(jmp[1:], to)
	return b, jmp, nil
}

// rel32 is target-next as a rel32 displacement, if it fits.
func rel32(target, next uint64) (uint32, bool) {
	d := int64(target - next)
	if d != int64(int32(d)) {
		return 0, false
	}
	return uint32(int32(d)), true
}
