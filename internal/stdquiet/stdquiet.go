// Package stdquiet keeps package os from starting the Go runtime's poller at golos's
// start when a standard descriptor is non-blocking.
//
// Package os's init wraps descriptors 0, 1 and 2 (os.NewFile), and a descriptor with
// O_NONBLOCK is made pollable there (os/file_unix.go, newFile: kindNonBlock), which
// starts the runtime's poller, its epoll and eventfd at the program's lowest free
// numbers, before golos can place them at the top of the table (cmd/golos,
// placeRuntimeFDs): golos refused to start. A program that makes its standard output
// non-blocking and forks (lighttpd's workers, a server writing to a socket) then had
// every fork fail, and `golos run` failed with a non-blocking stdin or stdout.
//
// So this package's init, which runs before os's (the Go specification, "Package
// initialization": packages are initialized in the order of their import paths, each
// once its imports are; this one imports syscall alone, and "golos/…" sorts before "os"
// and "internal/poll"), moves a non-blocking standard descriptor aside, with /dev/null in
// its place for os to wrap, and Restore, called from golos's main package's init once os
// is initialized, puts it back. O_NONBLOCK is a flag of the open file description,
// shared with every process that has it (fcntl(2)), so it is not cleared instead.
package stdquiet

import "syscall"

// fdDupfdCloexec is F_DUPFD_CLOEXEC (include/uapi/linux/fcntl.h), which package syscall
// does not name.
const fdDupfdCloexec = 1030

// aside[n] is where descriptor n was moved, with its descriptor flags; fd -1: not moved.
var aside [3]struct{ fd, flags int }

func init() {
	for n := range aside {
		aside[n].fd = -1
		fl, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(n), syscall.F_GETFL, 0)
		if e != 0 || fl&syscall.O_NONBLOCK == 0 {
			continue
		}
		fdFlags, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(n), syscall.F_GETFD, 0)
		if e != 0 {
			continue
		}
		// Above the standard descriptors: a free number, so nothing is replaced.
		saved, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(n), fdDupfdCloexec, 3)
		if e != 0 {
			continue
		}
		null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
		if err != nil {
			syscall.Close(int(saved))
			continue
		}
		err = syscall.Dup3(null, n, int(fdFlags&syscall.FD_CLOEXEC)*syscall.O_CLOEXEC)
		syscall.Close(null)
		if err != nil {
			syscall.Close(int(saved))
			continue
		}
		aside[n].fd, aside[n].flags = int(saved), int(fdFlags)
	}
}

// Restore puts back the standard descriptors init moved aside. It must run after package
// os's init, and before anything of golos's looks at them.
func Restore() {
	for n, a := range aside {
		if a.fd < 0 {
			continue
		}
		syscall.Dup3(a.fd, n, (a.flags&syscall.FD_CLOEXEC)*syscall.O_CLOEXEC)
		syscall.Close(a.fd)
		aside[n].fd = -1
	}
}
