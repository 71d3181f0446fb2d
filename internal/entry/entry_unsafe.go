package entry

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
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

//lint:ignore U1000 installed by address (sigreturnTrampPC)
func sigreturnTramp()

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv0() uint64

var sigsysTrampPC, faultTrampPC, kickTrampPC, sigreturnTrampPC uintptr

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

// goHandlers holds the Go runtime's handler for each signal whose handler golos replaced,
// so that faults in golos's own code still reach the runtime (read by faultTramp).
var goHandlers [64]uintptr

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

// NewContext maps memory for one application thread's Context (page-aligned, outside
// the Go heap) with the extended state in its initial configuration.
func NewContext() (*Context, error) {
	size := (int(unsafe.Sizeof(Context{})) + 4095) &^ 4095
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("map thread context: %w", err)
	}
	ctx := (*Context)(unsafe.Pointer(&mem[0]))
	InitXsave(ctx.xsave[:])
	return ctx, nil
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
func Kick(ctx *Context, tid int) {
	atomic.StoreUint32(&ctx.Pending, 1)
	unix.Tgkill(selfPid, tid, KickSignal)
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

// Linux's struct sigaction for rt_sigaction(2) (kernel layout, not glibc's).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	saSiginfo  = 0x4
	saOnstack  = 0x08000000
	saRestorer = 0x04000000
	saNodefer  = 0x40000000
)

// FaultSignals are the synchronous signals a fault in application code raises.
var FaultSignals = []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP}

var installOnce sync.Once
var installErr error

// Install puts golos's raw handlers in place (once per process): SIGSYS for trapped
// syscalls and the fault signals, whose Go runtime handlers are kept for faults in
// golos's own code. The handlers never return through their frame, so they run with
// SA_NODEFER and an empty mask: the thread's mask is the same after them as before.
func Install(text0, text1 uintptr) error {
	installOnce.Do(func() {
		textStart, textEnd = text0, text1
		mem, err := unix.Mmap(-1, 0, xsaveMax, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			installErr = fmt.Errorf("map init XSAVE area: %w", err)
			return
		}
		InitXsave(mem)
		initXsave = uintptr(unsafe.Pointer(&mem[0]))

		act := sigaction{
			handler:  sigsysTrampPC,
			flags:    saSiginfo | saOnstack | saRestorer | saNodefer,
			restorer: sigreturnTrampPC,
		}
		if err := rtSigaction(unix.SIGSYS, &act, nil); err != nil {
			installErr = fmt.Errorf("install SIGSYS handler: %w", err)
			return
		}
		act.handler = kickTrampPC
		if err := rtSigaction(KickSignal, &act, nil); err != nil {
			installErr = fmt.Errorf("install kick handler: %w", err)
			return
		}
		for _, sig := range FaultSignals {
			var old sigaction
			act.handler = faultTrampPC
			if err := rtSigaction(sig, &act, &old); err != nil {
				installErr = fmt.Errorf("install %v handler: %w", sig, err)
				return
			}
			goHandlers[sig] = old.handler
		}
	})
	return installErr
}

// RestoreDefault sets sig's disposition back to SIG_DFL (to die of it as the application
// would have).
func RestoreDefault(sig unix.Signal) error {
	return rtSigaction(sig, &sigaction{}, nil)
}

func rtSigaction(sig unix.Signal, act, old *sigaction) error {
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Enable turns Syscall User Dispatch on for the calling OS thread: a syscall made
// outside golos's own text (given to Install) traps while ctx's selector says BLOCK,
// which it does only while application code runs (prctl(2), PR_SET_SYSCALL_USER_DISPATCH).
func Enable(ctx *Context) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SYSCALL_USER_DISPATCH,
		unix.PR_SYS_DISPATCH_ON, textStart, textEnd-textStart,
		uintptr(unsafe.Pointer(&ctx.selector)), 0)
	if e != 0 {
		return fmt.Errorf("enable syscall user dispatch: %w", e)
	}
	return nil
}

// Xsave exposes the saved extended state (for signal frames and tests).
func (c *Context) Xsave() []byte { return c.xsave[:] }
