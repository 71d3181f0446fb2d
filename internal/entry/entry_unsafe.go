package entry

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// Implemented in entry_amd64.s. The handlers are reached only through their addresses
// (sigsysTrampPC and the like), which the assembly takes.
func switchToApp(ctx *Context)

//lint:ignore U1000 installed by address (sigsysTrampPC)
func sigsysTramp()

//lint:ignore U1000 installed by address (faultTrampPC)
func faultTramp()

//lint:ignore U1000 installed by address (kickTrampPC)
func kickTramp()

//lint:ignore U1000 installed by address (goSigTrampPC)
func goSigTramp()

//lint:ignore U1000 assembly only (goSigTramp without FSGSBASE)
func goSigTrampSyscall()

//lint:ignore U1000 installed by address (hostSigTrampPC)
func hostSigTramp()

//lint:ignore U1000 installed by address (urgTrampPC)
func urgTramp()

//lint:ignore U1000 assembly only (hostSigTramp's and urgTramp's first part)
func hostSigNote()

var urgTrampPC uintptr

var hostSigTrampPC uintptr

// Signals from outside, noted by hostSigTramp for HostSignals.
var (
	hostPending uint64             // one bit per signal
	hostInfo    [65][128]byte      // the last siginfo of each
	hostTid     [65]int32          // the thread it came to
	hostWake    uint32             // futex word, while there is no hostWakeFD
	hostWakeFD  int32         = -1 // an eventfd the forwarder waits on in the runtime's poller
)

// hostOne is what hostSigTramp adds to hostWakeFD's counter.
//
//lint:ignore U1000 assembly only
var hostOne uint64 = 1

func rdgsbase() uint64

//lint:ignore U1000 reached by address (FastEntryPC)
func fastEntry()

// Parts of fastEntry, named for the kick handler (which compares addresses with them).
//
//lint:ignore U1000 assembly only
func fastCallStart()

//lint:ignore U1000 assembly only
func fastCallSyscall()

//lint:ignore U1000 assembly only
func fastCallEnd()

//lint:ignore U1000 assembly only
func fastAbort()

//lint:ignore U1000 assembly only
func fastDone()

//lint:ignore U1000 assembly only
func fastSave()

//lint:ignore U1000 assembly only
func fastProbe()

//lint:ignore U1000 assembly only
func fastProbeFault()

//go:noescape
func blockingSyscall(pending *uint32, nr uintptr, a *[6]uintptr) (r uintptr)

//lint:ignore U1000 assembly only
func blockingWindow()

//lint:ignore U1000 assembly only
func blockingSyscallInsn()

//lint:ignore U1000 assembly only
func blockingEintr()

// BlockingSyscall makes syscall nr with args for the application thread of ctx, on its
// OS thread, in the runtime's syscall state. If a signal is pending for the thread
// before the call starts, or comes while it blocks, it fails with EINTR: the caller then
// delivers the signal and restarts the call or not, as Linux would.
func BlockingSyscall(ctx *Context, nr uintptr, args *[6]uintptr) (uintptr, unix.Errno) {
	r, e, _ := BlockingSyscallMade(ctx, nr, args)
	return r, e
}

// notMade is what blockingEintr returns: -ERESTARTNOHAND, which the host never returns to
// user space (include/linux/errno.h), so it cannot be the result of a call that was made.
const notMade = ^uintptr(514 - 1)

// BlockingSyscallMade is BlockingSyscall that also reports whether the call reached the
// host. An EINTR with made false means a pending signal stopped the call before it
// started: the host wrote none of its results, such as the remaining time nanosleep(2)
// writes when a signal interrupts it, and the caller must write what Linux would have.
//
//go:nosplit
func BlockingSyscallMade(ctx *Context, nr uintptr, args *[6]uintptr) (r uintptr, e unix.Errno, made bool) {
	entersyscall()
	r = blockingSyscall(&ctx.Pending, nr, args)
	exitsyscall()
	if r == notMade {
		return 0, unix.EINTR, false
	}
	if int64(r) < 0 && int64(r) > -4096 {
		return 0, unix.Errno(-int64(r)), true
	}
	return r, 0, true
}

// FastEntryPC is the address rewritten syscall sites jump to (through their stubs).
var FastEntryPC uintptr

// entryLayout holds, in this order, the addresses of enterApp, enterAppEnd,
// fastCallStart, fastCallSyscall, fastCallEnd, blockingWindow, blockingSyscallInsn,
// fastProbe and fastProbeFault.
var entryLayout [9]uintptr

// checkLayout makes sure the linker laid out each group of entry code the kick handler
// tells apart by address in the order it was written, and close together.
func checkLayout() error {
	l := entryLayout
	ok := l[0] < l[1] && l[1]-l[0] < 512 && l[2] < l[3] && l[3] < l[4] && l[4]-l[2] < 256 &&
		l[5] < l[6] && l[6]-l[5] < 64 && l[7] < l[8] && l[8]-l[7] < 512
	if !ok {
		return fmt.Errorf("golos's entry code was linked out of order (%#x): rebuild golos", l)
	}
	if u := userCopyLayout; !(u[0] < u[1] && u[1] < u[2] && u[2]-u[0] < 256) {
		return fmt.Errorf("golos's user copy code was linked out of order (%#x): rebuild golos", u)
	}
	return nil
}

// FDSyscalls marks the syscalls whose first argument is a file descriptor, and GoFDs the
// descriptors whose calls need Go: golos's own, which it refuses, and those of the
// application's that golos watches (a /proc/self/fd listing). fastEntry sends such a call
// on one of them to Go instead of making it (both indexed by the low 16 bits).
var FDSyscalls, GoFDs [1 << 16]uint8

// FDRSISyscalls and FDRDXSyscalls mark the syscalls whose second (RSI) or third (RDX)
// argument is a file descriptor too (sendfile's in_fd, splice's fd_out, epoll_ctl's fd):
// fastEntry sends such a call that names one of golos's own there (OwnFDs) to Go, which
// refuses it (indexed by the syscall number's low 16 bits).
var FDRSISyscalls, FDRDXSyscalls [1 << 16]uint8

// OwnFDs marks golos's own descriptors alone (indexed by the low 16 bits, as GoFDs): a
// rewritten site's poll or ppoll that names one of them goes to Go, which answers
// POLLNVAL for it as for a closed descriptor (poll(2)); one that names only the
// application's, watched or not, is made plain.
var OwnFDs [1 << 16]uint8

// SelectSlack is 0xffff less the lowest of golos's own descriptors (0 when it has none
// below 0xffff): a rewritten site's select whose nfds reaches that descriptor (nfds +
// SelectSlack > 0xffff) goes to Go, which answers EBADF when one of golos's is in a set
// (select(2)); a smaller nfds, the usual case, is made plain.
var SelectSlack uint64

// PlainSyscalls marks the syscall numbers that fastEntry makes itself, unchanged, for a
// rewritten site: calls golos passes through and that need nothing of golos's (1), or
// nothing unless their path begins with /proc, // or /. (PlainUnlessProcRDI, PlainUnlessProcRSI:
// the path's register). The kernel fills it in before the application runs.
var PlainSyscalls [1 << 16]uint8

// RelativeToGo, when 1, makes fastProbe send a call whose path is relative to Go, as it
// sends one that begins with "/proc": the kernel sets it while the working directory is
// / or under /proc, where a relative path may name the program's files in /proc. (One
// that begins with ".." always goes.)
var RelativeToGo uint8

// Values of PlainSyscalls besides 1.
const (
	PlainUnlessProcRDI = 2
	PlainUnlessProcRSI = 3
	PlainArchPrctlFS   = 4 // arch_prctl: plain for ARCH_SET_FS and ARCH_GET_FS
	PlainUnlessControl = 5 // sendmsg: plain unless its struct msghdr (RSI) has control data
	PlainUnlessMaskR8  = 6 // epoll_pwait, epoll_pwait2: plain unless their signal mask (R8) is not NULL
	PlainUnlessMaskR10 = 7 // ppoll: plain unless its signal mask (R10) is not NULL; then as PlainPoll
	PlainPoll          = 8 // poll: plain unless a pollfd of the array in RDI (RSI of them) is in OwnFDs
	PlainSelect        = 9 // select: plain unless nfds (RDI) reaches golos's lowest descriptor (SelectSlack)
	// PlainIoctl: ioctl, plain unless the low 16 bits of its request (RSI: the type and
	// number) are those of FIFREEZE, FITHAW, FICLONE, FICLONERANGE or FIDEDUPERANGE,
	// which the kernel checks (sysIoctl); then as 1, its descriptor checked.
	PlainIoctl = 10
)

// sysPoll and sysPpoll are the calls whose array of pollfds fastProbe scans: it tells
// them from a path by the number.
//
//lint:ignore U1000 assembly only
const sysPoll = unix.SYS_POLL

//lint:ignore U1000 assembly only
const sysPpoll = unix.SYS_PPOLL

// sysSendmsg is the one PlainUnlessControl syscall: fastProbe tells its struct msghdr
// from a path by the number.
//
//lint:ignore U1000 assembly only
const sysSendmsg = unix.SYS_SENDMSG

// anyAppGS is set once any thread of the process has its own GS base: from then on the
// rewritten sites take their slow path (read by fastEntry).
//
//lint:ignore U1000 read by fastEntry in entry_amd64.s
var anyAppGS uint8

//lint:ignore U1000 installed by address (sigreturnTrampPC)
func sigreturnTramp()

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv0() uint64

var sigsysTrampPC, faultTrampPC, kickTrampPC, goSigTrampPC, sigreturnTrampPC uintptr

// textStart and textEnd bound golos's own code: Syscall User Dispatch's allowed region,
// and how the kick handler tells application code from golos's (read by assembly).
var textStart, textEnd uintptr

// initXsave points at an XSAVE area that puts every component in its init state (with
// MXCSR 0x1f80), for abortEntry.
//
//lint:ignore U1000 read by abortEntry in entry_amd64.s
var initXsave uintptr

// XsaveSize is the size of the XSAVE area (standard format) for the features the host
// enabled, and XsaveFeatures those features (XCR0): what a signal frame holds.
var XsaveSize, XsaveFeatures = func() (int, uint64) {
	_, ebx, _, _ := cpuid(0xd, 0)
	return int(ebx), xgetbv0()
}()

// goHandlers holds the Go runtime's handler for each signal whose handler golos replaced
// or stands in front of (read by faultTramp and goSigTramp).
var goHandlers [65]uintptr

// FSGSBase reports whether the CPU and kernel let user code read and write the GS base
// directly (HWCAP2_FSGSBASE). With it golos switches GS for an application that has its
// own with rdgsbase/wrgsbase; without it (or after AvoidFSGSBase), with
// arch_prctl(ARCH_SET_GS/ARCH_GET_GS), which works on every x86-64 CPU: the kernel
// writes the MSR (arch_prctl(2); Documentation/arch/x86/x86_64/fsgs.rst).
var FSGSBase = func() bool {
	v, _ := unix.Auxv()
	for _, kv := range v {
		if kv[0] == 26 { // AT_HWCAP2
			return kv[1]&2 != 0 // HWCAP2_FSGSBASE
		}
	}
	return false
}()

// gsByInsn is 1 when the crossing switches GS with rdgsbase/wrgsbase, 0 when it asks the
// kernel with arch_prctl (read by the assembly and by the slots' trampolines). Set once, by
// Install, before any application code runs.
var gsByInsn uint8

var avoidFSGSBase bool

// AvoidFSGSBase makes golos switch GS with arch_prctl even where the CPU has FSGSBASE, as
// it must where the CPU lacks it: a test runs both paths on one machine. Call it before
// Install.
func AvoidFSGSBase() { avoidFSGSBase = true }

// GSByInsn reports whether golos switches GS with rdgsbase/wrgsbase (after Install).
func GSByInsn() bool { return gsByInsn != 0 }

// gsBase is the calling thread's GS base.
func gsBase() uint64 {
	if gsByInsn != 0 {
		return rdgsbase()
	}
	var v uint64
	unix.RawSyscall(sysArchPrctl, archGetGS, uintptr(unsafe.Pointer(&v)), 0)
	return v
}

// arch_prctl(2) and its codes for GS (asm/prctl.h), used by the assembly too.
const (
	sysArchPrctl = unix.SYS_ARCH_PRCTL
	archSetGS    = 0x1001
	archGetGS    = 0x1004
)

// entersyscall and exitsyscall bracket application execution: while the application
// runs, its goroutine is in the runtime's syscall state, so the scheduler and the GC carry
// on without it and its stack stays where it is. (Kept reachable by the runtime on
// purpose; see go.dev/issue/67401.)
//
//go:linkname entersyscall runtime.entersyscall
func entersyscall()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// Switch runs the application thread described by ctx on the calling OS thread until it
// makes a syscall or faults; ctx.Reason says which. The caller must have locked its
// goroutine to the OS thread and called Enable on it.
//
//go:nosplit
func Switch(ctx *Context) {
	entersyscall()
	switchToApp(ctx)
	exitsyscall()
}

// NewContext gives one application thread a Context (page-aligned, outside the Go heap)
// with the extended state in its initial configuration: one an ended thread left with its
// slot (Release), else new memory.
func NewContext() (*Context, error) {
	if ctx := reuseContext(); ctx != nil {
		return ctx, nil
	}
	size := (int(unsafe.Sizeof(Context{})) + 4095) &^ 4095
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("map thread context: %w", err)
	}
	ctx := (*Context)(unsafe.Pointer(&mem[0]))
	InitXsave(ctx.xsave[:])
	return ctx, nil
}

// kept holds the Contexts of ended threads, each with its slot still made (Release), for
// the next threads: a slot made anew and freed again costs three mprotect(2)s and an
// madvise(2), each a TLB shootdown on every CPU that runs the process, and a Context an
// mmap(2) and a munmap(2); a program that starts threads one after another would pay
// them on every thread.
var kept struct {
	mu   sync.Mutex
	ctxs []*Context
}

// maxKept bounds the Contexts kept: 64 slots' signal stacks at most stay mapped.
const maxKept = 64

// reuseContext returns a kept Context as a new one (its slot kept), or nil.
func reuseContext() *Context {
	kept.mu.Lock()
	n := len(kept.ctxs)
	if n == 0 {
		kept.mu.Unlock()
		return nil
	}
	ctx := kept.ctxs[n-1]
	kept.ctxs = kept.ctxs[:n-1]
	kept.mu.Unlock()
	slot := ctx.slot
	*ctx = Context{}
	ctx.slot = slot
	InitXsave(ctx.xsave[:])
	return ctx
}

// InitXsave fills an XSAVE area with the state of a new Linux process and of a signal
// handler's start: the x87 control word 0x37f and MXCSR 0x1f80 (FNINIT and the psABI's
// defaults), and XSTATE_BV = 0, which puts every other component in its init state on
// XRSTOR. The software-reserved bytes describe the area as the kernel's signal frames do.
func InitXsave(x []byte) {
	clear(x[:576])
	x[0], x[1] = 0x7f, 0x03
	x[24], x[25] = 0x80, 0x1f
	binary.LittleEndian.PutUint32(x[28:], 0xffff) // MXCSR_MASK
	PutSWBytes(x)
}

// PutSWBytes writes the software-reserved bytes (struct _fpx_sw_bytes at offset 464) that
// mark an XSAVE area in a signal frame, and FP_XSTATE_MAGIC2 after the area
// (arch/x86/include/uapi/asm/sigcontext.h).
func PutSWBytes(x []byte) {
	binary.LittleEndian.PutUint32(x[464:], FPXstateMagic1)
	binary.LittleEndian.PutUint32(x[468:], uint32(XsaveSize+4)) // extended_size
	binary.LittleEndian.PutUint64(x[472:], XsaveFeatures)       // xfeatures
	binary.LittleEndian.PutUint32(x[480:], uint32(XsaveSize))   // xstate_size
	if len(x) >= XsaveSize+4 {
		binary.LittleEndian.PutUint32(x[XsaveSize:], FPXstateMagic2)
	}
}

// Magic numbers of the XSAVE area in a signal frame.
const (
	FPXstateMagic1 = 0x46505853
	FPXstateMagic2 = 0x46505845
)

// Kick makes the thread whose Context is ctx, host thread tid, look at its pending
// signals: at once if it runs application code, else before it runs any again.
func Kick(ctx *Context, tid int) bool {
	// One kick at a time: the thread clears Pending before it looks at its signals, so
	// a signal that comes after that kicks again. (Kicks that pile up would also nest on
	// the thread's signal stack, each with a full XSAVE frame.)
	if atomic.CompareAndSwapUint32(&ctx.Pending, 0, 1) {
		unix.Tgkill(selfPid, tid, KickSignal)
		return true
	}
	return false
}

// Rekick kicks the thread again if it has not yet looked at its signals since the last
// kick. A kick that comes while the thread is inside one of the Go runtime's own signal
// handlers nested in application code cannot take it back to its goroutine; the thread
// would otherwise wait for its next syscall, which may never come (a thread blocked in
// futex(2) for good). It reports whether the thread still had not looked.
func Rekick(ctx *Context, tid int) bool {
	if atomic.LoadUint32(&ctx.Pending) == 0 {
		return false
	}
	unix.Tgkill(selfPid, tid, KickSignal)
	return true
}

// KickSignal is the host signal golos sends its own threads to kick them: signal 33, a
// real-time signal (kicks queue rather than merge with anything) that the Go runtime
// leaves alone without cgo and that golos does not forward to the application.
const KickSignal = unix.Signal(33)

var selfPid = unix.Getpid()

// FreeContext unmaps a Context made by NewContext once its thread is gone.
func FreeContext(ctx *Context) {
	size := (int(unsafe.Sizeof(Context{})) + 4095) &^ 4095
	unix.Syscall(unix.SYS_MUNMAP, uintptr(unsafe.Pointer(ctx)), uintptr(size), 0)
}

var installOnce sync.Once
var installErr error

// ignoredAtStart holds the forwarded signals golos's process was started with ignored
// (IgnoredAtStart).
var ignoredAtStart uint64

// IgnoredAtStart returns the signals golos's process was started with ignored, as far
// as the Go runtime left them so (after Install): SIGHUP and SIGINT (os/signal: "If the
// program was started with SIGHUP or SIGINT ignored … they will remain ignored"); it
// installs its own handler for the others. The program, which would have inherited them
// natively, starts with them ignored (nohup(1), a shell's background job).
func IgnoredAtStart() uint64 { return ignoredAtStart }

// Install puts golos's raw handlers in place (once per process): SIGSYS for trapped
// syscalls, KickSignal, and the fault signals, whose Go runtime handlers are kept for
// faults in golos's own code; and goSigTramp in front of every other handler the Go
// runtime has installed (call Install after signal.Notify). golos's own handlers often
// leave through trapToGo rather than their frame, so they run with SA_NODEFER and an
// empty mask: the thread's mask is the same after them as before. The kick handler is
// the exception (KickSignal stays blocked while it runs; see UnblockKick).
func Install(text0, text1 uintptr) error {
	installOnce.Do(func() { installErr = install(text0, text1) })
	return installErr
}

func install(text0, text1 uintptr) error {
	textStart, textEnd = text0, text1
	if FSGSBase && !avoidFSGSBase {
		gsByInsn = 1
	}
	if err := checkLayout(); err != nil {
		return err
	}
	if XsaveSize+4 > xsaveMax {
		return fmt.Errorf("this CPU's XSAVE area takes %d bytes; golos handles up to %d", XsaveSize, xsaveMax-4)
	}
	mem, err := unix.Mmap(-1, 0, xsaveMax, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("map init XSAVE area: %w", err)
	}
	InitXsave(mem)
	initXsave = uintptr(unsafe.Pointer(&mem[0]))
	if err := reserveSlots(); err != nil {
		return err
	}
	own := abi.Sigaction{
		Flags:    abi.SA_SIGINFO | abi.SA_ONSTACK | abi.SA_RESTORER | abi.SA_NODEFER,
		Restorer: uint64(sigreturnTrampPC),
	}
	for sig := unix.Signal(1); sig <= 64; sig++ {
		act := own
		switch sig {
		case unix.SIGKILL, unix.SIGSTOP:
			continue
		case unix.SIGSYS:
			act.Handler = uint64(sigsysTrampPC)
		case KickSignal:
			// Without SA_NODEFER: kicks that queued up while the thread was not running
			// (a loaded machine; Rekick every 5 ms) are then delivered one after another,
			// not all at once each nested in the last, which overflowed the slot's signal
			// stack. The kernel does not fail such a frame but starts again at the top of
			// the stack (x86 get_sigframe checks the interrupted SP less its red zone), over
			// the oldest frames: the thread looped in kickTramp for ever.
			act.Handler = uint64(kickTrampPC)
			act.Flags &^= abi.SA_NODEFER
		case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
			act.Handler = uint64(faultTrampPC)
		default:
			if Forwarded(sig) {
				act.Handler = uint64(hostSigTrampPC)
				// Without SA_RESTART: a syscall of the application's that the signal
				// interrupts must come back as EINTR, so that golos delivers the signal
				// and then restarts the call or not by the application's own handler
				// (Thread.interrupted). With SA_RESTART the kernel rewinds a plain call
				// of fastEntry to its syscall instruction, which the kick handler takes
				// for a call not yet made: it was made again after the handler, and a
				// program whose handler has no SA_RESTART never saw its EINTR.
				act.Flags = abi.SA_SIGINFO | abi.SA_ONSTACK | abi.SA_RESTORER
				var old abi.Sigaction
				if err := rtSigaction(sig, &act, &old); err != nil {
					return fmt.Errorf("install %v handler: %w", sig, err)
				}
				if old.Handler == abi.SIG_IGN {
					ignoredAtStart |= 1 << (sig - 1)
				}
				continue
			}
			var old abi.Sigaction
			if err := rtSigaction(sig, nil, &old); err != nil {
				return fmt.Errorf("read %v handler: %w", sig, err)
			}
			if old.Handler <= abi.SIG_IGN { // SIG_DFL, SIG_IGN: not the Go runtime's
				continue
			}
			goHandlers[sig] = uintptr(old.Handler)
			old.Handler = uint64(goSigTrampPC)
			if sig == unix.SIGURG {
				old.Handler = uint64(urgTrampPC) // the application's too, from another process
			}
			if err := rtSigaction(sig, &old, nil); err != nil {
				return fmt.Errorf("install %v handler: %w", sig, err)
			}
			continue
		}
		var old abi.Sigaction
		if err := rtSigaction(sig, &act, &old); err != nil {
			return fmt.Errorf("install %v handler: %w", sig, err)
		}
		if old.Handler > abi.SIG_IGN {
			goHandlers[sig] = uintptr(old.Handler)
		}
	}
	return nil
}

// The terminal's job control looks at the host's view of SIGTTOU and SIGTTIN: a process
// of a background group that writes to its terminal or changes its settings (tcsetattr,
// tcsetpgrp) is allowed to when it blocks or ignores SIGTTOU, and stopped by it otherwise
// (drivers/tty/tty_jobctrl.c, __tty_check_change; termios(3), "TOSTOP"). So the program's
// blocking and ignoring of these two are mirrored on the host: golos keeps the others to
// itself.

// TTYSignals are SIGTTIN and SIGTTOU as a signal set.
const TTYSignals = 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)

// BlockTTYSignals makes the host mask of ctx's thread, the calling one, block those of
// SIGTTIN and SIGTTOU that set blocks. Most of the program's mask changes leave those two
// as they were (a section that blocks SIGCHLD or SIGINT, a handler's mask), and such a
// change costs no syscall: ctx remembers what the host mask holds (UnblockKick keeps it).
func BlockTTYSignals(ctx *Context, set uint64) {
	var block, unblock unix.Sigset_t
	block.Val[0] = set & TTYSignals &^ ctx.ttyBlocked
	unblock.Val[0] = ctx.ttyBlocked &^ set
	if block.Val[0] != 0 {
		unix.PthreadSigmask(unix.SIG_BLOCK, &block, nil)
	}
	if unblock.Val[0] != 0 {
		unix.PthreadSigmask(unix.SIG_UNBLOCK, &unblock, nil)
	}
	ctx.ttyBlocked = set & TTYSignals
}

// IgnoreTTYSignal makes the host ignore sig (SIGTTIN or SIGTTOU) when the program does,
// and gives it back to golos's forwarding handler when it does not.
func IgnoreTTYSignal(sig unix.Signal, ignore bool) {
	if 1<<(sig-1)&TTYSignals == 0 {
		return
	}
	act := abi.Sigaction{Handler: uint64(hostSigTrampPC), Flags: abi.SA_SIGINFO | abi.SA_ONSTACK | abi.SA_RESTORER, Restorer: uint64(sigreturnTrampPC)}
	if ignore {
		act = abi.Sigaction{Handler: abi.SIG_IGN, Flags: abi.SA_RESTORER, Restorer: uint64(sigreturnTrampPC)}
	}
	rtSigaction(sig, &act, nil)
}

// SetHostChildFlags gives the host's SIGCHLD action, golos's forwarding handler, the
// program's SA_NOCLDSTOP and SA_NOCLDWAIT (noCldWait also for a SIGCHLD it ignores): the
// kernel looks at the parent's own action when a child stops, continues or ends. With
// SA_NOCLDSTOP it sends no SIGCHLD for a stop or a continue (kernel/signal.c,
// do_notify_parent_cldstop); with SA_NOCLDWAIT or SIG_IGN the child is reaped as it ends
// and a wait(2) fails with ECHILD once none is left (do_notify_parent: "autoreap";
// sigaction(2), wait(2) NOTES). A SIGCHLD still comes for the end with SA_NOCLDWAIT and
// a handler (sigaction(2): "On Linux, a SIGCHLD signal is generated in this case").
func SetHostChildFlags(noCldStop, noCldWait bool) {
	act := abi.Sigaction{Handler: uint64(hostSigTrampPC), Flags: abi.SA_SIGINFO | abi.SA_ONSTACK | abi.SA_RESTORER, Restorer: uint64(sigreturnTrampPC)}
	if noCldStop {
		act.Flags |= abi.SA_NOCLDSTOP
	}
	if noCldWait {
		act.Flags |= abi.SA_NOCLDWAIT
	}
	rtSigaction(unix.SIGCHLD, &act, nil)
}

func rtSigaction(sig unix.Signal, act, old *abi.Sigaction) error {
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Enable prepares the calling OS thread (locked to its goroutine) to run ctx's
// application thread: it gives the thread a slot and its signal stack, notes golos's GS
// base, and turns Syscall User Dispatch on for it: a syscall made outside golos's own
// text (given to Install) traps while ctx's selector says BLOCK, which it does only while
// application code runs (prctl(2), PR_SET_SYSCALL_USER_DISPATCH). The thread's host
// signal mask is emptied.
func Enable(ctx *Context) error {
	// golos's GS first: once the signal stack is in place, a signal (the runtime's
	// preemption, a kick) finds ctx by its stack pointer, and with the application's GS
	// inherited (hasAppGS, set by clone before this) goSigTramp would load goGS.
	ctx.goGS = gsBase()
	slot := uintptr(ctx.slot) // a kept Context's (NewContext)
	if slot == 0 {
		var err error
		if slot, err = allocSlot(ctx); err != nil {
			return err
		}
		ctx.slot = uint64(slot)
	}
	// The Go runtime's own signal stack for this thread is kept, to be put back when the
	// thread leaves the application (Release): a signal that found no signal stack
	// there would make the runtime take the thread for a foreign one.
	if e := sigaltstack(&abi.StackT{SP: uint64(slot + slotStack), Size: slotSize - slotStack}, &ctx.goSigstack); e != 0 {
		freeSlot(slot)
		return fmt.Errorf("install signal stack: %w", e)
	}
	_, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH,
		unix.PR_SYS_DISPATCH_ON, textStart, textEnd-textStart,
		uintptr(unsafe.Pointer(&ctx.selector)), 0)
	if e != 0 {
		sigaltstack(&ctx.goSigstack, nil)
		freeSlot(slot)
		ctx.slot = 0
		return fmt.Errorf("enable syscall user dispatch: %w", e)
	}
	// The application's signal mask is virtual: on the host its threads block nothing,
	// whatever mask golos's process started with (the Go runtime keeps that mask on its
	// threads), so that signals from outside reach golos's handlers, and a new golos
	// started by the application's execve inherits no mask but the one it is given.
	unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil)
	ctx.ttyBlocked = 0
	return nil
}

// Release undoes Enable on the calling OS thread, whose application thread is gone, and
// gives up ctx: kept, with its slot, for a later NewContext while fewer than maxKept are,
// else freed. A kept one's selector must no longer be this thread's, so Syscall User
// Dispatch is turned off here first; a freed one's thread keeps it on: no application
// code runs there again, and golos's own syscalls are in the allowed region.
func Release(ctx *Context) {
	if ctx.slot == 0 {
		FreeContext(ctx)
		return
	}
	sigaltstack(&ctx.goSigstack, nil) // the runtime's own, from Enable
	kept.mu.Lock()
	keep := len(kept.ctxs) < maxKept
	kept.mu.Unlock()
	if keep {
		_, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH, unix.PR_SYS_DISPATCH_OFF, 0, 0, 0, 0)
		if e == 0 {
			kept.mu.Lock()
			kept.ctxs = append(kept.ctxs, ctx)
			kept.mu.Unlock()
			return
		}
	}
	freeSlot(uintptr(ctx.slot))
	FreeContext(ctx)
}

// SetAppGS makes base the application's GS base on ctx's thread, loaded each time its
// code runs (base must be a canonical user address: arch_prctl fails otherwise).
func (c *Context) SetAppGS(base uint64) {
	anyAppGS = 1
	c.appGS = base
	c.hasAppGS = 1
}

// AppGS is the application's GS base on ctx's thread (0 until it sets one).
func (c *Context) AppGS() uint64 { return c.appGS }

// HasAppGS reports whether the application set a GS base on ctx's thread.
func (c *Context) HasAppGS() bool { return c.hasAppGS != 0 }

// InheritGS gives a new thread the GS base of the thread that created it, as clone(2) does.
func (c *Context) InheritGS(parent *Context) {
	c.appGS, c.hasAppGS = parent.appGS, parent.hasAppGS
}

// Xsave exposes the saved extended state (for signal frames and tests).
func (c *Context) Xsave() []byte { return c.xsave[:] }

// Forwarded reports whether golos passes sig on to the application when its process gets
// it from outside, and has hostSigTramp handle it. The others are golos's own: SIGKILL and
// SIGSTOP cannot be caught, SIGSYS and KickSignal are golos's crossings, the fault signals
// are golos's or the application's own faults, SIGURG is the Go runtime's preemption, and
// SIGPIPE comes from golos's writes for the application, which raise the application's
// SIGPIPE themselves. (SIGSYS and the fault signals are forwarded too when a process sent
// them: FromProcessesForwarded.)
func Forwarded(sig unix.Signal) bool {
	switch sig {
	case unix.SIGKILL, unix.SIGSTOP, unix.SIGSYS, KickSignal, unix.SIGSEGV, unix.SIGBUS,
		unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, unix.SIGURG, unix.SIGPIPE:
		return false
	}
	return sig >= 1 && sig <= 64
}

// HostSignal is a signal sent to the process from outside.
type HostSignal struct {
	Info []byte // its siginfo (128 bytes; the last that came, for a signal sent twice)
	Tid  int    // the thread the kernel gave it to
}

// SetHostWakeFD makes hostSigTramp wake the forwarder through fd, a non-blocking eventfd
// of golos's own, which the forwarder reads through the runtime's poller: a goroutine
// blocked in a futex wait holds an OS thread of its own for the life of the process,
// which every golos started (and ended) for it. Called before the forwarder starts.
func SetHostWakeFD(fd int) { atomic.StoreInt32(&hostWakeFD, int32(fd)) }

// WaitHostSignals waits until a signal from outside has been noted (TakeHostSignals then
// has it, unless another caller took it first), in a futex wait: the forwarder's way when
// golos has no eventfd for it (SetHostWakeFD).
func WaitHostSignals() {
	for {
		atomic.StoreUint32(&hostWake, 0)
		if atomic.LoadUint64(&hostPending) != 0 {
			return
		}
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&hostWake)), 128, 0, 0, 0, 0) // FUTEX_WAIT_PRIVATE
	}
}

// HostSignalsNoted reports whether a signal from outside is noted and not yet taken.
func HostSignalsNoted() bool { return atomic.LoadUint64(&hostPending) != 0 }

// TakeHostSignals returns the signals from outside noted since they were last taken,
// without waiting: nil when there are none. Whoever takes a signal forwards it (the
// forwarder goroutine, or the thread the signal interrupted, which must take it before
// it returns to the application, as Linux delivers a signal on the way out of the
// syscall it interrupted).
func TakeHostSignals() map[unix.Signal]HostSignal {
	if atomic.LoadUint64(&hostPending) == 0 {
		return nil
	}
	set := atomic.SwapUint64(&hostPending, 0)
	if set == 0 {
		return nil
	}
	out := map[unix.Signal]HostSignal{}
	for sig := unix.Signal(1); sig <= 64; sig++ {
		if set&(1<<(sig-1)) != 0 {
			out[sig] = HostSignal{Info: append([]byte(nil), hostInfo[sig][:]...), Tid: int(atomic.LoadInt32(&hostTid[sig]))}
		}
	}
	return out
}

// ResetContext readies the Context of an OS thread whose application thread has ended for
// the next one: no signal pending, no GS of its own, the extended state of a new thread
// (the caller copies the parent's in).
func ResetContext(ctx *Context) {
	atomic.StoreUint32(&ctx.Pending, 0)
	ctx.appGS, ctx.hasAppGS = 0, 0
	InitXsave(ctx.xsave[:])
}
