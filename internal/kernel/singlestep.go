package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// A program may set TF, the trap flag, itself (popf): the CPU then traps after each of its
// instructions and Linux sends it SIGTRAP with si_code TRAP_TRACE (exc_debug_user in
// arch/x86/kernel/traps.c), as single-stepping debuggers and instruction counters use.
// The steps through golos's own code on the program's behalf are not the program's:
// the entry code's handler lets those in golos's text go on (faultTramp), and those in a
// rewritten site's stub come here, to go on the same way, so that the program never sees
// a trap at an address that is not its own.

// trapTrace is TRAP_TRACE, the si_code of a single-step trap (<asm-generic/siginfo.h>).
const trapTrace = 2

// stepInStub reports whether the fault is a single-step trap in one of the rewriter's
// stubs, which the thread then steps over: it goes on from where it stopped, except at
// the stub's final jmp back to the site, which is made here, so that the program's next
// instruction runs before it traps (enterApp resumes with TF as Linux's IRET does) and
// no trap is seen between the two. The trap after the stub's copy of the site's first
// instruction is the program's, at the site's syscall instruction: it is delivered
// (false) with that address.
func (t *Thread) stepInStub() bool {
	c := t.ctx
	r := &c.Regs
	if c.Signo != int64(unix.SIGTRAP) || c.Code != trapTrace {
		return false
	}
	w := &t.p.mm.rw
	w.mu.Lock()
	in := false
	for _, pg := range w.pages {
		if r.RIP >= pg.addr && r.RIP < pg.addr+pageSize {
			in = true
			break
		}
	}
	w.mu.Unlock()
	if !in {
		return false
	}
	// A stub (syspatch.Stub) is the site's first instruction, relocated, then "lea
	// rel32(%rip),%rcx; jmp *rel32(%rip); syscall; jmp rel32" back to the site.
	var b [20]byte
	if copyIn(r.RIP, b[:]) == 0 && string(b[:9]) == "\x48\x8d\x0d\x06\x00\x00\x00\xff\x25" &&
		string(b[13:16]) == "\x0f\x05\xe9" {
		// The trap after the site's first instruction: on Linux the program traps here
		// at the site's syscall instruction, which it runs next. It does so: the
		// syscall instruction is still there, after the jmp (its slow path).
		r.RIP += 20 + uint64(int64(int32(binary.LittleEndian.Uint32(b[16:])))) - 2
		c.Addr = r.RIP // si_addr: the trap's instruction pointer (send_sigtrap)
		return false
	}
	if copyIn(r.RIP-2, b[:7]) == 0 && string(b[:3]) == "\x0f\x05\xe9" {
		// The way back after golos made the call: the jmp is made here.
		r.RIP += 5 + uint64(int64(int32(binary.LittleEndian.Uint32(b[3:7]))))
	}
	return true
}
