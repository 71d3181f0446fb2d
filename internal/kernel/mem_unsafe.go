package kernel

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/loader"
)

// The application's pointers are never dereferenced by golos's Go code directly: a wild
// one would fault inside golos. Reads and writes go through package entry's copies, in
// which a fault makes the copy fail, so that golos answers EFAULT as the host kernel's
// own copy_from_user would.

var selfPid = unix.Getpid()

// copyIn reads len(buf) bytes of application memory at addr.
func copyIn(addr uint64, buf []byte) unix.Errno {
	if !entry.CopyIn(buf, addr) {
		return unix.EFAULT
	}
	return 0
}

// copyOut writes buf to application memory at addr.
func copyOut(addr uint64, buf []byte) unix.Errno {
	if !entry.CopyOut(addr, buf) {
		return unix.EFAULT
	}
	return 0
}

// readString reads a NUL-terminated string of at most max bytes (PATH_MAX for paths)
// from application memory. No byte after the NUL is read, so a string that ends just
// before an unmapped page is read whole.
func readString(addr uint64, max int) (string, unix.Errno) {
	var small [256]byte
	buf := small[:min(max, len(small))]
	for {
		n := entry.CopyString(buf, addr)
		if n < 0 {
			return "", unix.EFAULT
		}
		if n < len(buf) {
			return string(buf[:n]), 0
		}
		if len(buf) >= max {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, max) // a long one: read it again, whole
	}
}

// selfText returns the range of golos's own executable code, read from its program
// headers in memory (AT_PHDR): Syscall User Dispatch lets syscalls from there through.
func selfText() (start, end uintptr, err error) {
	aux, err := unix.Auxv()
	if err != nil {
		return 0, 0, fmt.Errorf("read golos's auxiliary vector: %w", err)
	}
	var phdr, phnum uintptr
	for _, kv := range aux {
		switch kv[0] {
		case loader.AT_PHDR:
			phdr = kv[1]
		case loader.AT_PHNUM:
			phnum = kv[1]
		}
	}
	if phdr == 0 {
		return 0, 0, fmt.Errorf("golos's auxiliary vector has no AT_PHDR")
	}
	headers := unsafe.Slice((*loader.Prog64)(unsafe.Add(unsafe.Pointer(nil), phdr)), phnum)
	for _, h := range headers {
		if loader.ProgType(h.Type) == loader.PT_LOAD && loader.ProgFlag(h.Flags)&loader.PF_X != 0 {
			return uintptr(h.Vaddr), uintptr(h.Vaddr + h.Memsz), nil
		}
	}
	return 0, 0, fmt.Errorf("golos has no executable segment")
}

// setProcessName sets the calling thread's comm, which /proc/self/comm and status show
// (prctl(2), PR_SET_NAME): the program's name, as execve(2) would set it.
func setProcessName(name string) {
	b := append([]byte(name), 0)
	unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0, 0)
}

// futexWait sleeps while *w == val, at most d (forever if d < 0) (futex(2) FUTEX_WAIT).
func futexWait(w *atomic.Uint32, val uint32, d time.Duration) {
	var ts *unix.Timespec
	if d >= 0 {
		t := unix.NsecToTimespec(int64(d))
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), 0|128, uintptr(val), // FUTEX_WAIT_PRIVATE
		uintptr(unsafe.Pointer(ts)), 0, 0)
}

// futexWake wakes the waiters on w (FUTEX_WAKE_PRIVATE). A wake never blocks, so it is
// made without the runtime's syscall bookkeeping (entersyscall, exitsyscall).
func futexWake(w *atomic.Uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), 1|128, 1<<30, 0, 0, 0)
}

// entersyscallblock is the runtime's entersyscall for a syscall known to block: it hands
// the goroutine's P to another M at once, where entersyscall leaves it until sysmon takes
// it back (20 µs to 10 ms later). (Kept reachable by the runtime for linkname.)
//
//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

// futexSleep is futexWait without a timeout for a wait known to be long (a spare OS thread
// waiting for its application thread): the P goes to other goroutines at once, so that the
// threads that wake meanwhile find one free rather than wait for sysmon to free it.
//
//go:nosplit
func futexSleep(w *atomic.Uint32, val uint32) {
	entersyscallblock()
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), 0|128, uintptr(val), 0, 0, 0) // FUTEX_WAIT_PRIVATE
	exitsyscall()
}

// pageMapped reports whether the page at addr is mapped: mincore(2) fails with ENOMEM for
// a range with unmapped pages, and touches none of them.
func pageMapped(addr uint64) bool {
	var vec byte
	_, _, e := unix.RawSyscall(unix.SYS_MINCORE, uintptr(addr), pageSize, uintptr(unsafe.Pointer(&vec)))
	return e == 0
}
