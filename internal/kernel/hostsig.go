package kernel

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/vfs"
)

// The application's signals are virtual (signal.go), but two default actions are carried
// out on golos's own host process, because the program's parent sees them there: a death
// by a signal and a stop. golos's parent (a shell, a supervisor, the program's own parent
// golos) then finds in waitpid(2) what it would find for the program run natively:
// WIFSIGNALED with WTERMSIG N, WIFSTOPPED with WSTOPSIG N (with WUNTRACED), WIFCONTINUED
// (with WCONTINUED).

// dying is set once the process is about to die of a signal: the other threads stop
// before they run more application code (parkIfDying).
var dying atomic.Bool

// dieOf ends golos's process by sig, as a death of the application by sig does on Linux:
// the parent's waitpid(2) sees WIFSIGNALED and WTERMSIG sig, and a shell reports 128+N.
//
// The signal's disposition on the host goes back to SIG_DFL first (golos has its own
// handler for most signals), the signal is unblocked on the calling thread, and the thread
// sends it to itself with tgkill(2): sent to the process, it could land on a thread that
// blocks it. For a signal whose default action is to dump core (SIGSEGV, SIGABRT,
// SIGQUIT…; signal(7)), golos writes no core file: golos's own address space (its Go heap
// and runtime, the program's reserved ranges) is not the program's, would be huge, and is
// of no use to the program's developer. RLIMIT_CORE goes to 0 (getrlimit(2), core(5): no
// core file is written), and the process is made undumpable (prctl(2) PR_SET_DUMPABLE),
// which also keeps the kernel from running a core_pattern pipe (systemd-coredump, apport),
// to which it does not apply RLIMIT_CORE (fs/coredump.c). The parent therefore sees signal
// N without WCOREDUMP, as for a native program whose core limit is 0.
//
// Other threads are not stopped first: the kernel ends them all when the signal is taken
// (for a core-dumping signal, after the dump that is not made), within the same window as
// on Linux. If the process somehow survives, golos exits with 128+N, the status a shell
// shows.
func dieOf(sig unix.Signal) {
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	if sig != unix.SIGKILL {
		entry.SetHostDefault(sig)
		entry.UnblockHost(sig)
	}
	// A pid namespace's init ignores the signal: the golos outside dies of it instead.
	nsInitAsk(NSInitDie, sig)
	unix.Tgkill(selfPid, unix.Gettid(), sig)
	// A fatal signal sent to oneself is taken on the way out of tgkill: only a signal the
	// host does not treat as fatal gets here.
	os.Exit(128 + int(sig))
}

// parkIfDying keeps a thread from running application code once the process is dying of
// a signal: it waits for the end in golos (a futex wait, never woken).
func (t *Thread) parkIfDying() {
	if !dying.Load() {
		return
	}
	var never atomic.Uint32
	for {
		futexWait(&never, 0, -1)
	}
}

// stopMu serialises the stops of the process (stopBy).
var stopMu mutex[stopLock]

// stopBy stops the whole program as the default action of a stop signal does (signal(7):
// "Stop the process"): golos's host process stops by the same signal, every thread with
// it, so that the parent's waitpid(WUNTRACED) sees WIFSTOPPED with WSTOPSIG sig and a
// shell's job control works (^Z, then fg or bg, kill -CONT). stopBy returns once the
// process is continued (SIGCONT, which golos then forwards to the program as Linux delivers
// it). As for the program natively, SIGTSTP, SIGTTIN and SIGTTOU stop nothing in an
// orphaned process group: the host discards them (kernel/signal.c, get_signal).
//
// golos's handler of sig (it forwards SIGTSTP, SIGTTIN and SIGTTOU from outside) is put
// aside for the stop and back after it; SIGSTOP, which no one can catch, needs neither.
func stopBy(sig unix.Signal) {
	stopMu.Lock()
	defer stopMu.Unlock()
	if nsInitAsk(NSInitStop, sig) {
		return // stopped by the golos outside the pid namespace, and continued (nsinit.go)
	}
	if sig != unix.SIGSTOP {
		old, err := entry.SetHostDefault(sig)
		if err != nil {
			return
		}
		defer entry.RestoreHost(sig, old)
		entry.UnblockHost(sig)
	}
	// Sent to this thread, which does not block it, the signal is taken on the way out
	// of tgkill: the thread stops there, the others with it (a group stop), until SIGCONT.
	unix.Tgkill(selfPid, unix.Gettid(), sig)
}

// hostWake makes the eventfd through which hostSigTramp wakes the forwarder
// (forwardHostSignals): non-blocking, so that the forwarder waits in the runtime's poller
// and no OS thread of golos's waits for signals from outside, among golos's own
// descriptors at the top of the table. Without one (no descriptor free), nil: the
// forwarder waits in a futex as before.
func (p *Process) hostWake() *os.File {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil
	}
	if fd, err = vfs.MoveHigh(fd); err != nil {
		return nil
	}
	p.files.own(fd)
	entry.SetHostWakeFD(fd)
	return os.NewFile(uintptr(fd), "golos-host-signals")
}
