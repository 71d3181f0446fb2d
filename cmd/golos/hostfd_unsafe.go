// This file is built only by internal/build (./golos, cmd/golos-build), which sets the
// golosbuild tag and links with -checklinkname=0; a plain go build gets plainbuild.go.

//go:build golosbuild

package main

import (
	"fmt"
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
// application runs, and moves both to the top of the descriptor table, where it also keeps
// the root's and volumes' (vfs.HighFD). The application sees RLIMIT_NOFILE with the soft
// limit it started with (the Go runtime raises its own).
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

// moveRuntimeFDs starts the runtime's poller and moves its descriptors high. It runs
// before anything else of golos's that could use them. (It lives in package main, which
// alone is linked with -checklinkname=0: a test binary of another package would not link.)
//
// No thread of the runtime may be about to wait on the poller's old descriptor when it is
// closed: one that read it just before the move would fail with EBADF and take golos
// down ("netpoll failed"). A thread waits on the poller only when there is a timer or a
// file registered with it, and the poller is started without either: a timer
// (time.AfterFunc, say) would also wake a thread to wait for it, just as the move happens.
func moveRuntimeFDs() ([]int, error) {
	pollServerInit()
	if runtimeEpfd < 0 || runtimeNetpollEventFd == 0 {
		return nil, fmt.Errorf("the Go runtime's poller did not start")
	}
	ep, err := unix.FcntlInt(uintptr(runtimeEpfd), unix.F_DUPFD_CLOEXEC, vfs.HighFD())
	if err != nil {
		return nil, fmt.Errorf("move the runtime's epoll descriptor: %w", err)
	}
	ev, err := unix.FcntlInt(runtimeNetpollEventFd, unix.F_DUPFD_CLOEXEC, vfs.HighFD())
	if err != nil {
		return nil, fmt.Errorf("move the runtime's eventfd: %w", err)
	}
	oldEp, oldEv := int(runtimeEpfd), int(runtimeNetpollEventFd)
	runtimeEpfd, runtimeNetpollEventFd = int32(ep), uintptr(ev)
	unix.Close(oldEp)
	unix.Close(oldEv)
	return []int{ep, ev}, nil
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
