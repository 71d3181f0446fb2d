// This file is built only by internal/build (./golos, cmd/golos-build), which sets the
// golosbuild tag and links with -checklinkname=0; a plain go build gets plainbuild.go.

//go:build golosbuild

package main

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/kernel"
	"golos/internal/vfs"
)

// golos's own descriptors must stay out of the application's way: its numbers are the
// ones it would get natively, and it must not be able to close or dup over golos's. The
// Go runtime opens two for its poller (an epoll and an eventfd) the first time a timer is
// set, which its background scavenger does at some point of any long run; they would land
// on the application's lowest free numbers. So golos starts the poller itself, before the
// application runs, with both at the top of the descriptor table, where golos also keeps
// the root's and volumes' (vfs.HighFD). The application sees RLIMIT_NOFILE with the soft
// limit it started with (the Go runtime raises its own).
//
// These are the runtime's own variables (runtime/netpoll.go, runtime/netpoll_epoll.go)
// and package syscall's record of the original limit (syscall/rlimit.go), reached
// through go:linkname; the build links golos with -checklinkname=0 for them, and the TLS
// move pins the Go release.

//go:linkname runtimeEpfd runtime.epfd
var runtimeEpfd int32

//go:linkname runtimeNetpollEventFd runtime.netpollEventFd
var runtimeNetpollEventFd uintptr

// runtimeNetpollInited is the runtime's atomic.Uint32 (a uint32 in memory) that says
// the poller is set up: nothing of the runtime's reads epfd or netpollEventFd before it
// is 1 (netpollinited, netpollGenericInit).
//
//go:linkname runtimeNetpollInited runtime.netpollInited
var runtimeNetpollInited uint32

//go:linkname origRlimitNofile syscall.origRlimitNofile
var origRlimitNofile atomic.Pointer[syscall.Rlimit]

// placeRuntimeFDs sets up the runtime's poller as its netpollinit does
// (runtime/netpoll_epoll.go: an epoll, a non-blocking eventfd registered in it for
// EPOLLIN with the address of netpollEventFd as its data, which netpoll looks for to
// tell the poller's own wake-ups), but with both descriptors moved to vfs.HighFD before
// the runtime knows them, and then marks the poller set up. It runs before anything else
// of golos's that could start the poller. (It lives in package main, which alone is
// linked with -checklinkname=0: a test binary of another package would not link.)
//
// The descriptors are never moved once the runtime has them: it reads epfd afresh for
// each epoll_wait, and its sysmon thread polls without a timer or a file registered
// (every 10 ms, netpoll(0)), as does every start of the world after a GC phase; a thread
// that read the old number just before a move closed it would fail with EBADF and take
// golos down ("runtime: epollwait on fd 248 failed with 9"). golos used to take every
// free number below vfs.HighFD for the moment the runtime's own netpollinit opened them,
// which cost a listing of /proc/self/fd, a socket pair, an SCM_RIGHTS message of up to
// 253 descriptors and their close at every start (docs/performance-analysis.md).
func placeRuntimeFDs() ([]int, error) {
	if atomic.LoadUint32(&runtimeNetpollInited) != 0 || runtimeEpfd >= 0 {
		// Nothing in golos starts the poller before this, and its descriptors could not
		// be moved without the race above.
		return nil, fmt.Errorf("the Go runtime's poller started before golos could place its descriptors")
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("start the runtime's poller: epoll_create1: %w", err)
	}
	if ep, err = vfs.MoveHigh(ep); err != nil {
		return nil, fmt.Errorf("start the runtime's poller: move its epoll: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("start the runtime's poller: eventfd: %w", err)
	}
	if efd, err = vfs.MoveHigh(efd); err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("start the runtime's poller: move its eventfd: %w", err)
	}
	// struct epoll_event is packed on x86-64: the data's 8 bytes follow the events'
	// 4, which unix.EpollEvent names Fd and Pad.
	data := uint64(uintptr(unsafe.Pointer(&runtimeNetpollEventFd)))
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(uint32(data)), Pad: int32(uint32(data >> 32))}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(ep)
		unix.Close(efd)
		return nil, fmt.Errorf("start the runtime's poller: epoll_ctl: %w", err)
	}
	runtimeEpfd = int32(ep)
	runtimeNetpollEventFd = uintptr(efd)
	atomic.StoreUint32(&runtimeNetpollInited, 1) // after the descriptors: see runtimeNetpollInited
	return []int{ep, efd}, nil
}

// preStart is the entry point's second step (prestart_amd64.s; forkEntry jumps to it): it
// grows the descriptor table before the runtime starts. Nothing in Go calls it.
//
//lint:ignore U1000 the entry point jumps to it, not Go code
func preStart()

// tableTop is how many entries preStart grew the descriptor table to, 0 if it did not
// grow it (vfs.GrownTable).
var tableTop uint64

// stdClosed has bit n set when golos was started without descriptor n (0, 1 or 2): the
// runtime has opened /dev/null there since (preStart).
var stdClosed uint64

// syncCoreResult is what preStart's membarrier registration returned: 0, or a negative
// errno (a kernel without membarrier or without its SYNC_CORE command).
var syncCoreResult int64

// stackRaised is 1 when preStart raised the soft RLIMIT_STACK from the program's,
// stackSoft, to grow the main thread's stack for the runtime.
var stackRaised, stackSoft uint64

// stackLimits is preStart's room for the limits it reads and sets (old soft and hard,
// new soft and hard), out of the stack that it has yet to grow.
//
//lint:ignore U1000 preStart (prestart_amd64.s) uses it, not Go code
var stackLimits [4]uint64

func init() {
	if stackRaised != 0 {
		// The program's limit again, before any of its code runs: its main stack grows
		// (or not) as natively, and getrlimit(2) shows it.
		var rl unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_STACK, &rl) == nil {
			rl.Cur = stackSoft
			unix.Setrlimit(unix.RLIMIT_STACK, &rl)
		}
	}
	vfs.GrownTable(int(tableTop))
	kernel.StdClosedAtStart(uint8(stdClosed))
	kernel.SyncCoreAtStart(syncCoreResult == 0)
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
