package loader

import (
	"errors"

	"golang.org/x/sys/unix"
)

// checkNoWriters fails with ETXTBSY when the file open at fd (read-only) is open for
// writing anywhere on the host, as execve(2) does: Linux's do_open_execat takes
// deny_write_access(), which fails when the inode's i_writecount is positive
// (fs/exec.c, include/linux/fs.h).
//
// golos maps the file instead of executing it, so it asks the same question another way:
// a read lease (fcntl(2) F_SETLEASE, F_RDLCK) is refused with EAGAIN exactly when
// inode_is_open_for_write() (fs/locks.c, check_conflicting_open), which is
// i_writecount > 0. The lease is dropped at once. Where leases are not allowed (the file
// is not the caller's and it lacks CAP_LEASE: EACCES; fs.leases-enable is 0 or the file
// system has no leases: EINVAL, ENOLCK) the question cannot be asked and the file is
// loaded as it is.
//
// Unlike Linux, nothing keeps a writer from opening the file afterwards while the
// program runs (the mapping holds no deny-write); a file cut short under golos then
// faults in the loader's bss zeroing (a format error) or in the program (SIGBUS).
func checkNoWriters(fd int) error {
	// A writer that opens the file while the lease is held breaks it, and the kernel
	// signals the lease holder (SIGIO by default, to the process: fs/locks.c,
	// lease_break_callback), which golos would pass on to the program as a signal from
	// outside. SIGURG instead is the Go runtime's own, which it takes as a harmless
	// preemption request (F_SETSIG, fcntl(2)).
	unix.FcntlInt(uintptr(fd), unix.F_SETSIG, int(unix.SIGURG))
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_RDLCK)
	if err == nil {
		unix.FcntlInt(uintptr(fd), unix.F_SETLEASE, unix.F_UNLCK)
		return nil
	}
	if errors.Is(err, unix.EAGAIN) {
		return unix.ETXTBSY
	}
	return nil
}

// CheckNoWriters is checkNoWriters for the kernel's execve, which checks the program (or
// script) before its point of no return, as Linux's execve does.
func CheckNoWriters(fd int) error { return checkNoWriters(fd) }
