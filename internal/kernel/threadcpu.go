package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// A new thread has its creator's CPU affinity mask: clone copies the task (kernel/fork.c,
// dup_task_struct), cpus_mask with it, and sched_setaffinity(2) says so of fork.
// golos's spares are its own OS threads, with the mask golos started with, so clone
// hands the creator's mask to the spare (cpuPlan), which takes it on as it starts
// (takeCPUs), before the thread's code runs.
//
// Until then the spare may run only on the CPU its creator runs on. Linux starts a new
// task where select_task_rq(…, WF_FORK) puts it, which on this 2-CPU machine was the
// parent's CPU for 273 of 300 pthread_create (perf sched, sched_wakeup_new's
// target_cpu); the child then runs there as soon as the parent waits for it, exits, and
// wakes it there. A spare woken by a plain futex wake went instead to whichever CPU the
// scheduler found idle, so both wake-ups of a thread's life (the spare's start, and its
// creator's pthread_join) crossed CPUs: an inter-processor interrupt each, which on a
// virtual machine is an exit to the hypervisor on the sending side and a halted
// virtual CPU to schedule on the other (try_to_wake_up's _raw_spin_unlock_irqrestore
// held 42% of golos's samples in the threads benchmark). Pinned to the creator's CPU,
// the spare is woken on the run queue of the CPU that wakes it.
type cpuPlan struct {
	mask   unix.CPUSet // the creator's affinity mask, for the new thread
	pinned bool        // the spare was pinned to its creator's CPU until it starts
	ok     bool        // mask was read: the spare takes it on
}

// planCPUs reads the calling thread's affinity mask for the new thread of spare s and
// pins s to the CPU the caller runs on (sched_setaffinity(2) on a sleeping thread
// moves nothing). A failure leaves s as it was: with golos's mask, anywhere.
func planCPUs(s *spare) cpuPlan {
	var plan cpuPlan
	if unix.SchedGetaffinity(0, &plan.mask) != nil {
		return plan
	}
	plan.ok = true
	var cpu uint32
	var one unix.CPUSet
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); e != 0 || int(cpu) >= 8*int(unsafe.Sizeof(one)) {
		return plan
	}
	one.Set(int(cpu))
	plan.pinned = unix.SchedSetaffinity(s.tid, &one) == nil
	return plan
}

// takeCPUs gives the calling spare, on its way into its thread, the creator's mask. A
// mask the host refuses now (a CPU taken from the process's cpuset meanwhile: EINVAL)
// would leave a pinned spare on one CPU for good: golos's own mask is set instead.
func (plan *cpuPlan) takeCPUs() {
	if !plan.ok {
		return
	}
	if unix.SchedSetaffinity(0, &plan.mask) != nil && plan.pinned {
		unix.SchedSetaffinity(0, &golosCPUs)
	}
}

// golosCPUs is the affinity mask golos started with, read as the package is initialised,
// on the main thread before the program runs.
var golosCPUs = func() (set unix.CPUSet) {
	unix.SchedGetaffinity(0, &set)
	return set
}()
