package kernel

import (
	"bytes"
	"math/bits"
	"strconv"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// pidfd_send_signal(2). A pidfd of another process, or of another process's thread,
// passes through: the host's processes are the program's. One of golos's own process
// (the program's) sends the program a virtual signal, as kill(2), tgkill(2) and
// rt_sigqueueinfo(2) do: sent on the host, it would reach golos, and come back to the
// program late or not at all. The checks are Linux's (kernel/signal.c,
// pidfd_send_signal).
func sysPidfdSendSignal(t *Thread) int64 {
	pidfd, sig, infoAddr, flags := int(int32(t.arg(0))), int(int32(t.arg(1))), t.arg(2), uint32(t.arg(3))
	var pid int
	var thread bool // the pidfd refers to a thread (PIDFD_THREAD)
	switch pidfd {
	case unix.PIDFD_SELF_THREAD, unix.PIDFD_SELF_THREAD_GROUP:
		// Linux 6.15's names for the caller's own thread and process: a kernel without
		// them says EBADF, which signal 0 shows.
		if r := passthroughRaw(unix.SYS_PIDFD_SEND_SIGNAL, t.arg(0), 0, 0, 0, 0, 0); r == -int64(unix.EBADF) {
			return r
		}
		pid, thread = selfPid, false
		if pidfd == unix.PIDFD_SELF_THREAD {
			pid, thread = t.tid, true
		}
	default:
		var ok bool
		if pid, thread, ok = pidfdTarget(pidfd); !ok {
			return passthroughFast(t) // not a pidfd the host can tell golos about: its answer
		}
	}
	if pid != selfPid && t.p.thread(pid) == nil && (pid <= 0 || unix.Tgkill(selfPid, pid, 0) != nil) {
		return passthroughFast(t) // another process, or one that has ended (ESRCH)
	}
	const known = unix.PIDFD_SIGNAL_THREAD | unix.PIDFD_SIGNAL_THREAD_GROUP | unix.PIDFD_SIGNAL_PROCESS_GROUP
	if flags&^known != 0 || bits.OnesCount32(flags) > 1 || sig < 0 || sig > 64 {
		return -int64(unix.EINVAL)
	}
	// The scope: the pidfd's own (a thread's or a process's), or the one flags ask for.
	toThread := thread && flags == 0 || flags == unix.PIDFD_SIGNAL_THREAD
	if flags == unix.PIDFD_SIGNAL_PROCESS_GROUP {
		// The process group whose id is the pidfd's pid, on the host, which golos's
		// process may belong to (kill_pgrp_info).
		ret := passthroughFast(t)
		if ret != 0 || pid != unix.Getpgrp() {
			return ret
		}
		info, e := pidfdInfo(t, sig, infoAddr, false, false)
		if e != 0 {
			return -int64(e) // the host accepted it
		}
		return t.p.groupKill(info, ret)
	}
	// Sent to oneself (the calling thread's own pid, or the process's by its main thread),
	// a signal may carry any si_code.
	info, e := pidfdInfo(t, sig, infoAddr, pid == t.tid, toThread)
	if e != 0 {
		return -int64(e)
	}
	if !toThread {
		if sig != 0 && !t.p.sendProcess(info) {
			return -int64(unix.EAGAIN)
		}
		return 0
	}
	target := t.p.thread(pid)
	if target == nil {
		// The process's pidfd with PIDFD_SIGNAL_THREAD names its main thread (the pid's
		// own task), which has exited; or a thread's that has.
		return -int64(unix.ESRCH)
	}
	if sig != 0 && !t.p.sendThread(target, info) {
		return -int64(unix.EAGAIN)
	}
	return 0
}

// pidfdInfo is the siginfo pidfd_send_signal(2) sends: the caller's (read from infoAddr),
// which must name sig, and whose si_code must be a negative one other than SI_TKILL
// unless the signal is sent to oneself (self), as for rt_sigqueueinfo(2); or, with no
// infoAddr, kill(2)'s (SI_USER), or tgkill(2)'s (SI_TKILL) for a thread.
func pidfdInfo(t *Thread, sig int, infoAddr uint64, self, toThread bool) (siginfo, unix.Errno) {
	if infoAddr == 0 {
		info := userInfo(sig)
		if toThread {
			info.code = abi.SI_TKILL
		}
		return info, 0
	}
	raw := new(abi.Siginfo)
	if e := copyIn(infoAddr, abi.Bytes(raw)); e != 0 {
		return siginfo{}, e
	}
	if int(raw.Signo) != sig {
		return siginfo{}, unix.EINVAL
	}
	if !self && (raw.Code >= 0 || raw.Code == abi.SI_TKILL) {
		return siginfo{}, unix.EPERM
	}
	return siginfo{signo: int32(sig), code: raw.Code, raw: raw}, 0
}

// pidfdTarget reads what the host says of pidfd in /proc/self/fdinfo (proc_pid_fdinfo(5)):
// the pid it refers to (a tid for a thread's pidfd; -1 once the process has been reaped,
// 0 when it is in another pid namespace), and whether it was opened with PIDFD_THREAD
// (O_EXCL in its flags, pidfd_open(2)). ok is false for a descriptor that is no pidfd.
func pidfdTarget(pidfd int) (pid int, thread, ok bool) {
	if pidfd < 0 {
		return 0, false, false
	}
	fd, err := unix.Open("/proc/self/fdinfo/"+strconv.Itoa(pidfd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false, false
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil || n <= 0 {
		return 0, false, false
	}
	havePid := false
	for _, line := range bytes.Split(buf[:n], []byte("\n")) {
		key, val, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		val = bytes.TrimSpace(val)
		switch string(key) {
		case "flags":
			f, err := strconv.ParseUint(string(val), 8, 64)
			thread = err == nil && f&unix.O_EXCL != 0
		case "Pid":
			p, err := strconv.Atoi(string(val))
			pid, havePid = p, err == nil
		}
	}
	return pid, thread, havePid
}

// pidfd_getfd(2): a duplicate, close-on-exec, of a descriptor of the process a pidfd
// refers to. Of golos's own process (the program's) it is one of the program's, made here:
// golos's own descriptors are not there (EBADF, as a descriptor not open), and a watched
// one stays watched in its copy. Another process's would reach that golos's own
// descriptors (its root's, its sockets), so it is refused with EPERM: what Linux answers
// without ptrace access to the target (PTRACE_MODE_ATTACH_REALCREDS), and what Docker's
// default seccomp profile gives without CAP_SYS_PTRACE, as for ptrace(2) and
// process_vm_readv(2). The checks are in Linux's order (kernel/pid.c, pidfd_getfd).
func sysPidfdGetfd(t *Thread) int64 {
	pidfd, target, flags := int(int32(t.arg(0))), int(int32(t.arg(1))), t.arg(2)
	if flags != 0 {
		return -int64(unix.EINVAL)
	}
	var pid int
	switch pidfd {
	case unix.PIDFD_SELF_THREAD, unix.PIDFD_SELF_THREAD_GROUP:
		pid = selfPid
	default:
		var ok bool
		if pid, _, ok = pidfdTarget(pidfd); !ok {
			return -int64(unix.EBADF) // not open, or no pidfd (pidfd_pid)
		}
	}
	if pid != selfPid && t.p.thread(pid) == nil {
		if pid <= 0 || unix.Kill(pid, 0) == unix.ESRCH {
			return -int64(unix.ESRCH) // reaped, or in no namespace of ours
		}
		return -int64(unix.EPERM)
	}
	if t.p.ownFD(target) {
		return -int64(unix.EBADF)
	}
	r := passthroughRaw(unix.SYS_FCNTL, uint64(uint32(target)), unix.F_DUPFD_CLOEXEC, 0, 0, 0, 0)
	if r == -int64(unix.EINVAL) {
		r = -int64(unix.EBADF) // a negative target: no such descriptor
	}
	t.p.copyWatch(target, r)
	return r
}
