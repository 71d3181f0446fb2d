package kernel

import (
	"debug/elf"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/loader"
)

// The application's pointers are never dereferenced by golos's Go code directly: a wild
// one would fault inside golos. Reads and writes go through process_vm_readv(2) and
// process_vm_writev(2) on golos's own process, which fail with EFAULT on memory that is
// not there, as the host kernel's own copy_from_user would.

var selfPid = unix.Getpid()

// copyIn reads len(buf) bytes of application memory at addr.
func copyIn(addr uint64, buf []byte) unix.Errno {
	if len(buf) == 0 {
		return 0
	}
	local := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(buf)}
	n, err := unix.ProcessVMReadv(selfPid, []unix.Iovec{local}, []unix.RemoteIovec{remote}, 0)
	if err != nil || n != len(buf) {
		return unix.EFAULT
	}
	return 0
}

// copyOut writes buf to application memory at addr.
func copyOut(addr uint64, buf []byte) unix.Errno {
	if len(buf) == 0 {
		return 0
	}
	local := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	remote := unix.RemoteIovec{Base: uintptr(addr), Len: len(buf)}
	n, err := unix.ProcessVMWritev(selfPid, []unix.Iovec{local}, []unix.RemoteIovec{remote}, 0)
	if err != nil || n != len(buf) {
		return unix.EFAULT
	}
	return 0
}

// readString reads a NUL-terminated string of at most max bytes (PATH_MAX for paths)
// from application memory, a page at a time so that a string ending just before an
// unmapped page is read whole.
func readString(addr uint64, max int) (string, unix.Errno) {
	var out []byte
	for len(out) < max {
		chunk := int(4096 - addr%4096)
		chunk = min(chunk, max-len(out))
		buf := make([]byte, chunk)
		if e := copyIn(addr, buf); e != 0 {
			return "", e
		}
		for i, b := range buf {
			if b == 0 {
				return string(append(out, buf[:i]...)), 0
			}
		}
		out = append(out, buf...)
		addr += uint64(chunk)
	}
	return "", unix.ENAMETOOLONG
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
	headers := unsafe.Slice((*elf.Prog64)(unsafe.Add(unsafe.Pointer(nil), phdr)), phnum)
	for _, h := range headers {
		if elf.ProgType(h.Type) == elf.PT_LOAD && elf.ProgFlag(h.Flags)&elf.PF_X != 0 {
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

// futexWake wakes the waiters on w (FUTEX_WAKE_PRIVATE).
func futexWake(w *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), 1|128, 1<<30, 0, 0, 0)
}
