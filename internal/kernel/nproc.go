package kernel

import (
	"bytes"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// The host's RLIMIT_NPROC counts every task (thread) whose real user is the caller's, and
// clone(2) fails with EAGAIN past it (kernel/fork.c, copy_process: is_rlimit_overlimit on
// UCOUNT_RLIMIT_NPROC). A golos process is a Go program with OS threads of its own
// besides the application's, and the Go runtime ends the process ("fatal error:
// newosproc", with a goroutine dump) when it needs one more and clone fails: there is no
// failing gracefully once the runtime has asked. So while the limit binds (nprocLimit),
// golos refuses a fork or a thread of the program's with EAGAIN, as Linux does at the
// limit, while the user's tasks are still short of it by what the new task costs in OS
// threads plus a reserve. The runtimes already running may start an OS thread at any
// time (a goroutine blocked in a syscall hands its P to another thread, which may be
// new): so each golos process of the user's is counted for as many threads as a golos
// grows to, not for those it has now. The count and the clone that follows are made
// under a lock of the user's (nproclock.go), so that golos processes forking at once do
// not all see the same room. The program so gets EAGAIN earlier than natively: the
// user's golos threads count too.
const (
	// golosThreads is what a golos process counts for, its program's threads apart: more
	// than the most OS threads a golos's runtime was seen to grow to. Measured first
	// (sampling /proc/PID/status's Threads of every golos over 30 runs of
	// TestProcNprocTree's program at limit 400) when golos's runtime started with
	// golosProcs Ps (8 here): 6 to 8 at rest, up to 12 while it forks. Since golos starts
	// with the CPUs' Ps and raises them only at the program's second thread (procs.go),
	// a golos whose program has one thread grows less: every thread each golos of a
	// tree of 4 workers forking 8 children each ever started, counted with strace -f
	// (clone with CLONE_THREAD), was at most 8 with the main one, 9 with GOMAXPROCS=16
	// in the environment (2 CPUs, 2026-12-07); sampled, 6 to 7. A fork's child costs
	// this much, and each golos of the user's is counted for at least this much, so
	// that the runtimes already running may grow to it. (A golos whose program has
	// threads of its own has more, its spares among them: 16 to 30 with 2 to 17
	// program threads; it is counted for its tasks, its runtime's growth then left to
	// nprocReserve, and its spares start only with room, thread.go.)
	golosThreads = 12
	// nprocReserve is left over besides, for what the count misses: a golos's
	// runtime that grows past golosThreads, or one that has just started and not yet
	// been seen.
	nprocReserve = 8
)

// GolosThreads is golosThreads, for the test that counts the threads golos's runtime
// starts (tests, TestProcGolosThreads).
const GolosThreads = golosThreads

// MinTaskLimit is the least Options.TaskLimit (--pids-limit) golos can run under: one
// golos process, counted for golosThreads, and the reserve. Below it the golos inside
// the sandbox could be refused a thread of its runtime's, which would end it.
const MinTaskLimit = golosThreads + nprocReserve

// TaskLimitFlag is golos run's hidden flag that gives Options.TaskLimit to the golos
// processes inside a sandbox (Flags).
const TaskLimitFlag = "--sandbox-task-limit"

// taskRoom reports whether need more tasks fit under the task limits that bind golos's
// process, each short by nprocReserve: RLIMIT_NPROC over the user's tasks (nprocLimit),
// and --sandbox's --pids-limit (Options.TaskLimit) over the tasks of the sandbox's pid
// namespace, which are those of its pids cgroup (internal/sandbox, pids.go), all of
// them in this golos's /proc; and the pids.max of golos's own pids cgroups, a container
// engine's (pidscgroup.go), over their pids.current. Each count takes each golos process
// for at least golosThreads tasks (countTasks), but for pids.current, the kernel's
// count. Callers hold the lock (lockNproc) from the count until the new task runs.
func (p *Process) taskRoom(need int) bool {
	if limit, binds := p.nprocLimit(); binds && !tasksFit(limit, need, unix.Getuid()) {
		return false
	}
	if l := p.opts.TaskLimit; l > 0 && !tasksFit(uint64(l), need, anyUser) {
		return false
	}
	return pidsRoom(need)
}

// taskLimitBinds reports whether a task limit binds golos's process (see taskRoom).
func (p *Process) taskLimitBinds() bool {
	_, binds := p.nprocLimit()
	return binds || p.opts.TaskLimit > 0 || len(pidsLimits()) > 0
}

// tasksFit reports whether need more tasks leave the count of uid's tasks (anyUser: of
// every user) below limit by nprocReserve.
func tasksFit(limit uint64, need, uid int) bool {
	want := uint64(need + nprocReserve)
	if want > limit {
		return false
	}
	// The host's tasks of every user, from /proc/loadavg (its fourth field, running/total:
	// nr_threads, fs/proc/loadavg.c, the host's whatever the pid namespace), a bound read
	// at once: the exact count is needed only near the limit. Each task could be a golos
	// process of its own, of golosThreads at most (its program's threads apart, which
	// are tasks too).
	if total, ok := hostTasks(); ok && total*golosThreads+want <= limit {
		return true
	}
	return countTasks(uid)+want <= limit
}

// hostTasks returns the number of tasks on the host.
func hostTasks() (uint64, bool) {
	b, ok := readProc("/proc/loadavg")
	if !ok {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 4 {
		return 0, false
	}
	_, total, ok := bytes.Cut(f[3], []byte("/"))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(string(total), 10, 64)
	return n, err == nil
}

// anyUser is countTasks's uid for the tasks of every user.
const anyUser = -1

// countTasks counts the tasks in /proc whose real user is uid (all of them for anyUser):
// the Threads of every process whose status says so, and at least golosThreads for one
// that runs golos's executable (its runtime may start threads later, at any time, and
// cannot fail when the host refuses one). Only the processes whose /proc directory is
// uid's are read (the directory belongs to the effective user of a dumpable process,
// proc(5)): a process of uid's that changed its effective user, or made itself not
// dumpable, is missed. It uses plain system calls, no os.File: a file's finalizer
// would start the runtime's finalizer goroutine, and a goroutine may need an OS thread,
// the very thing that is short here.
func countTasks(uid int) uint64 {
	dir, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(dir)
	var n uint64
	buf := make([]byte, 32<<10)
	var names []string
	for {
		m, err := unix.Getdents(dir, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || m <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:m], -1, names[:0])
		for _, name := range names {
			if name[0] < '0' || name[0] > '9' {
				continue
			}
			var st unix.Stat_t
			if unix.Stat("/proc/"+name, &st) != nil || uid != anyUser && int(st.Uid) != uid {
				continue
			}
			b, ok := readProc("/proc/" + name + "/status")
			if !ok || uid != anyUser && statusField(b, "Uid:") != uint64(uid) {
				continue // ended meanwhile, or another real user's
			}
			threads := statusField(b, "Threads:")
			if threads < golosThreads && isGolos(name) {
				threads = golosThreads
			}
			n += threads
		}
	}
	return n
}

// readProc reads a small file of /proc (one read, up to 4 KiB, enough for a status).
func readProc(path string) ([]byte, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	b := make([]byte, 4096)
	m, err := unix.Read(fd, b)
	if err != nil {
		return nil, false
	}
	return b[:m], true
}

// statusField returns the first number after name at the start of a line of a
// /proc/<pid>/status, or 0.
func statusField(b []byte, name string) uint64 {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name)); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				return 0
			}
			n, _ := strconv.ParseUint(string(f[0]), 10, 64)
			return n
		}
	}
	return 0
}

// self is golos's executable file (its device and inode), which a process runs if it is
// a golos; ok false when it cannot be known.
var self = sync.OnceValues(func() (unix.Stat_t, bool) {
	var st unix.Stat_t
	return st, unix.Stat(selfExe, &st) == nil
})

// isGolos reports whether the process of /proc/<pid> runs golos's executable: the file
// its /proc/PID/exe leads to (proc(5); readable for a process of the same user that is
// dumpable) is golos's own. A process whose exe cannot be read is not taken for one.
func isGolos(pid string) bool {
	own, ok := self()
	if !ok {
		return false
	}
	var st unix.Stat_t
	return unix.Stat("/proc/"+pid+"/exe", &st) == nil && st.Dev == own.Dev && st.Ino == own.Ino
}
