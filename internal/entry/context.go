// Package entry is golos's crossing between application code and the kernel: it runs an
// application thread's registers on the current OS thread (Switch) and comes back to the
// calling goroutine when the application makes a syscall (trapped by Syscall User
// Dispatch as SIGSYS) or faults. The application's FS register is never saved, restored
// or read here: the Go runtime's TLS lives on GS (see docs/design.md and internal/tlsmove).
package entry

import "golos/internal/abi"

// Regs holds an application thread's general registers in the order of Linux's
// mcontext_t gregs (REG_R8 … REG_EFL in <sys/ucontext.h>), so that the signal handlers
// copy them from the kernel's signal frame in one block.
type Regs struct {
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP uint64
	RIP, RFLAGS                            uint64
}

// Why Switch returned.
const (
	ReasonSyscall = 1 // the application executed a syscall instruction; RAX is its number
	ReasonFault   = 2 // a synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP)
	ReasonSignal  = 3 // a kick: a signal is pending
	// ReasonFastDone: a syscall fastEntry made itself finished (RAX = its result, Addr =
	// its number) and a signal is pending (an EINTR result may call for a restart), or
	// it failed with EPIPE.
	ReasonFastDone = 4
)

// CodeFast is the Code of a ReasonSyscall that came through a rewritten site rather than
// a SIGSYS (whose si_code is SYS_USER_DISPATCH).
const CodeFast = 100

// Syscall User Dispatch selector values (Documentation/admin-guide/syscall-user-dispatch.rst).
// Used from entry_amd64.s through go_asm.h.
const (
	//lint:ignore U1000 used from assembly
	selectorAllow = 0 // SYSCALL_DISPATCH_FILTER_ALLOW
	selectorBlock = 1 // SYSCALL_DISPATCH_FILTER_BLOCK
)

// xsaveMax bounds the application's extended (x87/SSE/AVX/AVX-512) state. The largest
// user-visible XSAVE area of current x86-64 CPUs without AMX is under 3 KiB; AMX tile data
// would need 11 KiB. The signal frame says how much it holds; more than this is refused.
const xsaveMax = 12 << 10

// Context is one application thread's CPU state while it is not running, and what the
// crossing reports back. It lives in memory golos maps for it (never the Go heap), aligned
// to a page, so that XRSTOR finds its 64-byte-aligned area and the GC never moves or frees
// it while assembly holds its address in m.tls[1] (GS:0).
type Context struct {
	Regs Regs

	goSP uint64 // the goroutine's stack pointer inside switchToApp

	Reason uint64 // ReasonSyscall, ReasonFault, ReasonSignal or ReasonFastDone
	Signo  int64  // siginfo si_signo
	Code   int64  // siginfo si_code
	Addr   uint64 // siginfo si_addr: the faulting address; for SIGSYS the call address
	Err    uint64 // mcontext REG_ERR: the page-fault error code
	Trapno uint64 // mcontext REG_TRAPNO: the CPU exception vector

	selector uint8 // the Syscall User Dispatch selector byte of this thread
	inApp    uint8 // 1 while application code runs on this thread
	_        [2]byte

	// Pending is non-zero while a signal waits for this thread. Whoever makes it
	// pending sets it before kicking the thread (Kick); enterApp checks it last thing
	// before running application code.
	Pending uint32

	// GS. goGS is golos's GS base on this thread (the Go runtime's TLS); appGS the
	// application's own, loaded on the way into its code when hasAppGS is set
	// (SetAppGS) and replaced by goGS on every way out.
	goGS     uint64
	appGS    uint64
	hasAppGS uint8
	_        [7]byte

	// slot is this thread's slot (slots_unsafe.go): its signal stack, its GS
	// trampoline, and the pointer back to this Context that the handlers find by
	// their stack pointer.
	slot uint64

	goSigstack abi.StackT // the Go runtime's signal stack for this thread (Enable, Release)

	// ttyBlocked is which of TTYSignals this thread's host mask blocks (BlockTTYSignals;
	// none after Enable).
	ttyBlocked uint64

	_ [48]byte // pads xsave to a 64-byte boundary (checked by a test)

	// xsave is the application's extended state in the standard (non-compacted) XSAVE
	// format, as the kernel lays it out in a signal frame.
	xsave [xsaveMax]byte
}
