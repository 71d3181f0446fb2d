package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// A new thread has its creator's scheduling policy, priority and nice value: clone copies
// the task (kernel/fork.c, copy_process → sched_fork), which resets them only when the
// creator set SCHED_RESET_ON_FORK (sched(7)). setpriority(2) and the sched_set* calls
// change the calling thread's on Linux, and golos passes them to the host on the program
// thread's OS thread; but a new thread runs on a spare OS thread of golos's, with the
// values golos started with. So, once a thread of the process has made such a call
// (passthroughSched), clone reads its creator's (schedOf) and the spare takes them on
// before it runs the thread (takeSched). Until then every thread has golos's, as the
// spares do, and a thread start pays nothing for this.

// schedAttr is struct sched_attr (include/uapi/linux/sched/types.h) as sched_getattr(2)
// and sched_setattr(2) take it, its first version's 56 bytes.
type schedAttr struct {
	Size     uint32
	Policy   uint32
	Flags    uint64
	Nice     int32
	Priority uint32
	Runtime  uint64
	Deadline uint64
	Period   uint64
}

const (
	schedNormal        = 0   // SCHED_NORMAL (SCHED_OTHER)
	schedFlagResetFork = 0x1 // SCHED_FLAG_RESET_ON_FORK
)

// schedOf returns the calling OS thread's scheduling attributes as a thread it creates
// gets them; nil when they cannot be read.
func schedOf() *schedAttr {
	a := &schedAttr{}
	if _, _, e := unix.RawSyscall6(unix.SYS_SCHED_GETATTR, 0, uintptr(unsafe.Pointer(a)), unsafe.Sizeof(*a), 0, 0, 0); e != 0 {
		return nil
	}
	if a.Flags&schedFlagResetFork != 0 {
		// sched_fork: back to SCHED_NORMAL, and a negative nice to 0.
		a.Flags &^= schedFlagResetFork
		if a.Policy != schedNormal && a.Policy != unix.SCHED_BATCH && a.Policy != unix.SCHED_IDLE {
			a.Policy, a.Priority = schedNormal, 0
		}
		a.Nice = max(a.Nice, 0)
	}
	a.Size = uint32(unsafe.Sizeof(*a))
	return a
}

// takeSched gives the calling spare, on its way into its thread, its creator's
// attributes. One the host refuses (a real-time policy without CAP_SYS_NICE, which a
// native thread inherits all the same) leaves the spare's.
func takeSched(a *schedAttr) {
	if a == nil {
		return
	}
	unix.RawSyscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(a)), 0)
	// sched_setattr applies the nice value to SCHED_NORMAL and SCHED_BATCH only
	// (kernel/sched/syscalls.c, __setscheduler_params), where a SCHED_IDLE thread keeps
	// one too, which getpriority(2) shows and a later SCHED_NORMAL uses.
	unix.RawSyscall(unix.SYS_SETPRIORITY, unix.PRIO_PROCESS, 0, uintptr(a.Nice))
}

// passthroughSched makes a call that may change a thread's scheduling attributes
// (setpriority(2), sched_setscheduler(2), sched_setparam(2), sched_setattr(2)), after
// noting that the process's threads may differ from golos's own from now on.
func passthroughSched(t *Thread) int64 {
	t.p.schedChanged.Store(true)
	return passthroughFast(t)
}
