// This file is built only by internal/build (./golos, cmd/golos-build), which sets the
// golosbuild tag and links with -checklinkname=0; a plain go build gets plainbuild.go.

//go:build golosbuild

package main

import (
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// golos's own descriptors must stay out of the application's way: its numbers are the
// ones it would get natively, and it must not be able to close or dup over golos's. The
// Go runtime opens two for its poller (an epoll and an eventfd) the first time a timer is
// set, which its background scavenger does at some point of any long run; they would land
// on the application's lowest free numbers. So golos starts the poller itself, before the
// application runs, with every free number below the top of the descriptor table taken,
// so that both land there, where golos also keeps the root's and volumes' (vfs.HighFD).
// The application sees RLIMIT_NOFILE with the soft limit it started with (the Go runtime
// raises its own).
//
// These are the runtime's own variables (runtime/netpoll_epoll.go) and package syscall's
// record of the original limit (syscall/rlimit.go), reached by go:linkname; the build links
// golos with -checklinkname=0 for them, and the TLS move pins the Go release.

//go:linkname runtimeEpfd runtime.epfd
var runtimeEpfd int32

//go:linkname runtimeNetpollEventFd runtime.netpollEventFd
var runtimeNetpollEventFd uintptr

//go:linkname origRlimitNofile syscall.origRlimitNofile
var origRlimitNofile atomic.Pointer[syscall.Rlimit]

// pollServerInit starts the runtime's poller (runtime/netpoll.go, as package
// internal/poll does before its first pollable file).
//
//go:linkname pollServerInit internal/poll.runtime_pollServerInit
func pollServerInit()

// placeRuntimeFDs starts the runtime's poller with its descriptors high. It runs before
// anything else of golos's that could use them. (It lives in package main, which alone is
// linked with -checklinkname=0: a test binary of another package would not link.)
//
// The descriptors are not moved once open: the runtime reads epfd afresh for each
// epoll_wait, and its sysmon thread polls without a timer or a file registered (every
// 10 ms, netpoll(0)), as does every start of the world after a GC phase. A thread that
// read the old number just before a move closed it failed with EBADF and took golos down
// ("runtime: epollwait on fd 248 failed with 9", the new number printed). Instead every
// free number below vfs.HighFD is taken for the moment the runtime opens them.
func placeRuntimeFDs() ([]int, error) {
	if runtimeEpfd >= 0 {
		// Nothing in golos starts the poller before this, and its descriptors could not
		// be moved without the race above.
		return nil, fmt.Errorf("the Go runtime's poller started before golos could place its descriptors")
	}
	fillers, err := takeLowFDs(vfs.HighFD())
	if err == nil {
		pollServerInit()
	}
	closeFDs(fillers)
	if err != nil {
		return nil, err
	}
	if runtimeEpfd < 0 || runtimeNetpollEventFd == 0 {
		return nil, fmt.Errorf("the Go runtime's poller did not start")
	}
	return []int{int(runtimeEpfd), int(runtimeNetpollEventFd)}, nil
}

// takeLowFDs fills every free descriptor number below high with a copy of one eventfd
// (and a socket pair, fillByRights), and returns them, in increasing order, for closeFDs.
func takeLowFDs(high int) ([]int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("place the runtime's poller: %w", err)
	}
	if fd >= high {
		unix.Close(fd)
		return nil, nil
	}
	fds := []int{fd}
	// Most numbers are taken a message at a time (fillByRights), counted so that none
	// lands at high or above, where the kernel might have to grow the table; the rest,
	// if any, and the check that every number below high is taken, a number at a time.
	if free := freeBelow(high); free > 8 {
		fds = append(fds, fillByRights(fd, free)...)
		slices.Sort(fds)
	}
	for {
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) // the lowest free number
		if err != nil {
			closeFDs(fds)
			return nil, fmt.Errorf("place the runtime's poller: %w", err)
		}
		if d >= high {
			unix.Close(d)
			return fds, nil
		}
		fds = append(fds, d)
	}
}

// closeFDs closes the descriptors of fds (sorted), a run of consecutive numbers at a time.
func closeFDs(fds []int) {
	for i := 0; i < len(fds); {
		j := i + 1
		for j < len(fds) && fds[j] == fds[j-1]+1 {
			j++
		}
		if unix.CloseRange(uint(fds[i]), uint(fds[j-1]), 0) != nil {
			for _, fd := range fds[i:j] {
				unix.Close(fd)
			}
		}
		i = j
	}
}

// appNofile is the RLIMIT_NOFILE the application started with: the soft limit golos was
// given, before the Go runtime raised its own.
func appNofile() unix.Rlimit {
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	if o := origRlimitNofile.Load(); o != nil {
		rl.Cur = o.Cur
	}
	return rl
}

// The Go runtime's pointers into the vDSO (runtime/vdso_linux_amd64.go, vdso_linux.go).
// A forked child's golos moves its vDSO to where the parent's program has it
// (kernel.RunForked); the runtime calls through these, so they are cleared for the move
// (the runtime then makes those calls as syscalls) and set again after it.

//go:linkname vdsoClockgettimeSym runtime.vdsoClockgettimeSym
var vdsoClockgettimeSym uintptr

//go:linkname vdsoGettimeofdaySym runtime.vdsoGettimeofdaySym
var vdsoGettimeofdaySym uintptr

//go:linkname vdsoGetrandomSym runtime.vdsoGetrandomSym
var vdsoGetrandomSym uintptr

//go:linkname vdsoLoadStart runtime.vdsoLoadStart
var vdsoLoadStart uintptr

//go:linkname vdsoLoadEnd runtime.vdsoLoadEnd
var vdsoLoadEnd uintptr

// pauseVDSO clears the runtime's vDSO pointers; the function it returns sets them again,
// moved by delta.
func pauseVDSO() func(delta int64) {
	syms := []*uintptr{&vdsoClockgettimeSym, &vdsoGettimeofdaySym, &vdsoGetrandomSym}
	saved := make([]uintptr, len(syms))
	for i, s := range syms {
		saved[i] = atomic.SwapUintptr(s, 0)
	}
	return func(delta int64) {
		for i, s := range syms {
			if saved[i] != 0 {
				atomic.StoreUintptr(s, uintptr(int64(saved[i])+delta))
			}
		}
		vdsoLoadStart = uintptr(int64(vdsoLoadStart) + delta)
		vdsoLoadEnd = uintptr(int64(vdsoLoadEnd) + delta)
	}
}
