package kernel

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// setpgid(2) of a child by its parent. Linux lets a parent move its child into a process
// group until the child has called execve (EACCES after: kernel/sys.c, setpgid, the
// child's PF_FORKNOEXEC). A child's golos has made the host's execve of golos itself
// (fork.go, startChild), so the host refuses the parent's call from the start, where the
// program's child has made none: a shell's setpgid of the job it just forked (bash's job
// control) failed, and a kill of the job's group right after found no such group. So
// golos asks the child's golos to make the call itself, over the listener every golos
// has for its /proc (procpeer.go), and answers what that call answered. The child's golos
// does it only for its parent, and only while its program has made no execve since the
// fork (forkedNoExec), as Linux would.

// forkedNoExec says this golos runs a forked child whose program has not called execve.
var forkedNoExec atomic.Bool

// setpgidRequest is a parent's request to its child's golos: the group to join.
const setpgidRequest = "setpgid "

func sysSetpgid(t *Thread) int64 {
	r := passthroughFast(t)
	pid, pgid := int(int32(t.arg(0))), int(int32(t.arg(1)))
	if r != -int64(unix.EACCES) || pid <= 0 || pid == selfPid || pgid < 0 {
		return r
	}
	if pgid == 0 {
		pgid = pid // setpgid(2): "If pgid is zero, then the PGID of the process specified by pid is made the same as its process ID."
	}
	a, ok := askProcPeer(pid, setpgidRequest+strconv.Itoa(pgid))
	if !ok {
		return r // not a golos of the tree's, or one that does not answer: the host's answer
	}
	e := a.int()
	if a.err != nil {
		return r
	}
	return -int64(e)
}

// setpgidAnswer is the child's side: the errno of its setpgid(0, pgid) made for the
// asker, which must be its parent (else ESRCH, as for a process that is not the caller's
// child), while its program has made no execve (else EACCES).
func setpgidAnswer(req string, asker int32) []byte {
	var w wireWriter
	pgid, err := strconv.Atoi(strings.TrimPrefix(req, setpgidRequest))
	switch {
	case err != nil || pgid <= 0:
		w.int(int(unix.EINVAL))
	case int(asker) != os.Getppid():
		w.int(int(unix.ESRCH))
	case !forkedNoExec.Load():
		w.int(int(unix.EACCES))
	default:
		e := 0
		if err := unix.Setpgid(0, pgid); err != nil {
			e = int(errnoOf(err))
		}
		w.int(e)
	}
	return w.b
}
