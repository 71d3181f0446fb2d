// Package syspatch rewrites syscall sites in an application's code so that they reach
// golos's entry code with a jump instead of a SIGSYS from Syscall User Dispatch.
//
// A site is the 7-byte "mov $nr,%eax; syscall" that C libraries emit for most of their
// syscalls. Only its first instruction, the 5-byte mov, is replaced, by a jmp to a stub
// of the site's own in a stub page golos maps within reach of the code:
//
//	stub:   mov  $nr,%eax          the instruction the jmp replaced
//	        lea  slow(%rip),%rcx   where fastEntry goes when it cannot take the call
//	        jmp  *entry(%rip)      golos's fastEntry, from the stub page's header
//	slow:   syscall                traps through Syscall User Dispatch as before
//	        jmp  site+7            back after the site's syscall instruction
//
// The site's syscall instruction stays where it was: code that jumps to it directly (with
// its own RAX) still makes its syscall, through Syscall User Dispatch. RCX and R11 are
// free at a syscall (the instruction clobbers them); the red zone is never touched.
// Sites are found by their bytes and confirmed by decoding (x86asm): the site must decode
// as those two instructions and be an instruction boundary for every decoding that starts
// in the bytes before it, and no direct branch seen there may land inside the mov.
package syspatch

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Site is a syscall site: the address of its mov and the syscall number it loads.
type Site struct {
	Addr uint64
	Nr   uint32
}

// siteLen is the length of "mov $imm32,%eax; syscall".
const siteLen = 7

// lookBehind is how far before a site decodings are started to check that it is an
// instruction boundary, and syncStarts how many consecutive starts are tried there.
const (
	lookBehind = 32
	syncStarts = 8
)

// Check reports whether code[at:] is a syscall site, with code holding at least
// lookBehind bytes before it where there are any (see isSite), and returns it.
func Check(code []byte, at int, base uint64) (Site, bool) {
	if at < 0 || at+siteLen > len(code) || code[at] != 0xb8 || !isSite(code, at) {
		return Site{}, false
	}
	return Site{Addr: base + uint64(at), Nr: binary.LittleEndian.Uint32(code[at+1:])}, true
}

// Window is how many bytes before a site Check wants to see.
const Window = lookBehind

// Len is the length of a site.
const Len = siteLen

// Find returns the syscall sites in code, which is mapped at base.
func Find(code []byte, base uint64) []Site {
	var sites []Site
	for off := 0; ; {
		i := bytes.Index(code[off:], []byte{0x0f, 0x05})
		if i < 0 {
			break
		}
		at := off + i - 5 // where the mov would start
		off += i + 1
		if at < 0 || code[at] != 0xb8 {
			continue
		}
		if !isSite(code, at) {
			continue
		}
		sites = append(sites, Site{Addr: base + uint64(at), Nr: binary.LittleEndian.Uint32(code[at+1:])})
	}
	return sites
}

// isSite checks by decoding that code[at:] is "mov $imm32,%eax; syscall" at an
// instruction boundary that no nearby branch jumps into.
func isSite(code []byte, at int) bool {
	mov, err := x86asm.Decode(code[at:], 64)
	if err != nil || mov.Op != x86asm.MOV || mov.Len != 5 || mov.Args[0] != x86asm.EAX {
		return false
	}
	if _, ok := mov.Args[1].(x86asm.Imm); !ok {
		return false
	}
	sc, err := x86asm.Decode(code[at+5:], 64)
	if err != nil || sc.Op != x86asm.SYSCALL || sc.Len != 2 {
		return false
	}
	// Decode forward from several starts well before the site: x86 decodings fall into
	// step with the real instruction stream within a few instructions, so starts that
	// are not instruction boundaries still end up on the site if the site is one.
	landed, missed := 0, 0
	for start := max(0, at-lookBehind); start < max(0, at-lookBehind)+syncStarts && start < at; start++ {
		pc := start
		for pc < at {
			in, err := x86asm.Decode(code[pc:], 64)
			if err != nil {
				break
			}
			if target, ok := branchTarget(in, pc); ok && target > at && target < at+siteLen {
				return false // a jump into the site
			}
			pc += in.Len
		}
		switch {
		case pc == at:
			landed++
		case pc > at:
			missed++
		}
	}
	return at < lookBehind && missed == 0 || landed >= 3*missed+1
}

// branchTarget is the target of a direct relative jump or call decoded at pc.
func branchTarget(in x86asm.Inst, pc int) (int, bool) {
	switch in.Op {
	case x86asm.JMP, x86asm.CALL, x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP,
		x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JS, x86asm.JRCXZ, x86asm.LOOP:
		if rel, ok := in.Args[0].(x86asm.Rel); ok {
			return pc + in.Len + int(rel), true
		}
	}
	return 0, false
}

// Layout of a stub page: a header holding fastEntry's address, then one stub per site.
const (
	headerLen = 16
	stubLen   = 32
)

// PageLen is the size of the stub page for n sites.
func PageLen(n int) int {
	return (headerLen + n*stubLen + 4095) &^ 4095
}

// StubsPerPage is how many stubs one page of stubs holds.
const StubsPerPage = (4096 - headerLen) / stubLen

// Header is the start of a stub page: fastEntry's address, which every stub jumps
// through.
func Header(fastEntry uint64) []byte {
	b := make([]byte, headerLen)
	binary.LittleEndian.PutUint64(b, fastEntry)
	return b
}

// Stub returns the stub for site as the i-th of the stub page at page, and the 5 bytes
// that replace the site's mov. A site out of rel32 reach of the page is an error.
func Stub(page uint64, i int, site Site) (stub []byte, jmp [5]byte, err error) {
	off := headerLen + i*stubLen
	b := make([]byte, stubLen)
	if err := putStub(b, page, off, site, &jmp); err != nil {
		return nil, jmp, err
	}
	return b, jmp, nil
}

// StubOffset is where the i-th stub lies in its page.
func StubOffset(i int) int { return headerLen + i*stubLen }

// Stubs builds the stub page, to be mapped at page, for sites, with fastEntry the
// address the stubs jump to. It returns the page and, for each site, the 5 bytes that
// replace its mov. A site out of rel32 reach of page is an error.
func Stubs(page uint64, sites []Site, fastEntry uint64) ([]byte, [][5]byte, error) {
	buf := make([]byte, PageLen(len(sites)))
	copy(buf, Header(fastEntry))
	jmps := make([][5]byte, len(sites))
	for i, s := range sites {
		off := headerLen + i*stubLen
		if err := putStub(buf[off:off+stubLen], page, off, s, &jmps[i]); err != nil {
			return nil, nil, err
		}
	}
	return buf, jmps, nil
}

// putStub writes the stub for s, at offset off of the page at page, into b, and the jump
// that replaces the site's mov into jmp.
func putStub(b []byte, page uint64, off int, s Site, jmp *[5]byte) error {
	le := binary.LittleEndian
	{
		stub := page + uint64(off)
		b[0] = 0xb8 // mov $nr,%eax
		le.PutUint32(b[1:], s.Nr)
		copy(b[5:], []byte{0x48, 0x8d, 0x0d}) // lea rel32(%rip),%rcx → slow
		le.PutUint32(b[8:], 18-12)
		copy(b[12:], []byte{0xff, 0x25}) // jmp *rel32(%rip) → the header
		le.PutUint32(b[14:], uint32(int32(-int64(off)-18)))
		copy(b[18:], []byte{0x0f, 0x05}) // slow: syscall
		b[20] = 0xe9                     // jmp rel32 → site+7
		back, ok := rel32(s.Addr+siteLen, stub+25)
		if !ok {
			return fmt.Errorf("syscall site %#x is out of reach of its stub at %#x", s.Addr, stub)
		}
		le.PutUint32(b[21:], back)
		for j := 25; j < stubLen; j++ {
			b[j] = 0xcc
		}
		to, ok := rel32(stub, s.Addr+5)
		if !ok {
			return fmt.Errorf("stub %#x is out of reach of syscall site %#x", stub, s.Addr)
		}
		jmp[0] = 0xe9
		le.PutUint32(jmp[1:], to)
	}
	return nil
}

// rel32 is target-next as a rel32 displacement, if it fits.
func rel32(target, next uint64) (uint32, bool) {
	d := int64(target - next)
	if d != int64(int32(d)) {
		return 0, false
	}
	return uint32(int32(d)), true
}
