package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// A golos that is the first process of a pid namespace (golos run --sandbox: the
// program's getpid is 1) cannot die of a signal it sends itself, nor stop by one: the
// kernel drops a signal whose action is the default when it is sent to a namespace's
// init from inside the namespace, itself included, SIGKILL and SIGSTOP too
// (pid_namespaces(7); kernel/signal.c, sig_task_ignored with SIGNAL_UNKILLABLE). Only a
// process of an ancestor namespace can force SIGKILL or SIGSTOP on it. So dieOf and stopBy
// ask the golos outside the namespace (sandbox.Spawn), over Options.NSInit, a seqpacket
// socket: "die of N" before golos exits, and the golos outside dies of N in its place;
// "stop by N", on which the golos outside stops golos with SIGSTOP and itself by N. Each
// message waits for the golos outside's answer (one byte), so that the golos outside
// knows what the exit or the stop is before it sees it, and a stop has been sent before
// stopBy returns (the calling thread stops on its way out of the read).

// The messages of Options.NSInit: the kind, then the signal's number.
const (
	NSInitDie  = 'd'
	NSInitStop = 's'
)

var (
	nsInitMu sync.Mutex
	nsInitFD = -1 // Options.NSInit, or -1
)

// nsInitAsk sends the golos outside the pid namespace a message and waits for its
// answer; it reports false when golos is no namespace's init or the golos outside is
// gone, and the caller then goes on as without it.
func nsInitAsk(kind byte, sig unix.Signal) bool {
	nsInitMu.Lock()
	defer nsInitMu.Unlock()
	if nsInitFD < 0 {
		return false
	}
	for {
		_, err := unix.Write(nsInitFD, []byte{kind, byte(sig)})
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		break
	}
	var ack [1]byte
	for {
		n, err := unix.Read(nsInitFD, ack[:])
		if err == unix.EINTR {
			continue
		}
		return err == nil && n == 1
	}
}

// nsInitExec lets Options.NSInit through the host's execve of golos (the new golos gets
// it by its hidden flag), or, with keep false after a failed execve, closes it on exec
// again.
func nsInitExec(keep bool) {
	if nsInitFD < 0 {
		return
	}
	flags := 0
	if !keep {
		flags = unix.FD_CLOEXEC
	}
	unix.FcntlInt(uintptr(nsInitFD), unix.F_SETFD, flags)
}
