package kernel

import (
	"bytes"
	"strconv"
	"strings"
)

// A fork's holder and a vfork's (lazyfork_unsafe.go, vforklazy_unsafe.go) are host
// children of the parent's golos that the program never made: every listing the program
// can make of processes leaves them out, so that a process of the tree sees exactly the
// children it has natively (ps --ppid, pstree, pgrep -P). A holder names itself
// holderComm (holder_amd64.s), which is how any golos of the tree knows one, its own or
// another's, and one reparented after its golos was killed.

// holderComm is a holder's comm, as /proc/PID/comm shows it.
const holderComm = "golos-holder\n"

// holderPid reports whether pid is a holder: named so, and a process of one thread
// (holder_amd64.s: its clone runs no Go). The name alone the program can give any of its
// processes (prctl(2) PR_SET_NAME, /proc/self/comm), which would then be left out of the
// tree's listings and taken for no process by its kill(2); a single thread it cannot:
// each of its processes is a golos, whose Go runtime has more than one from its start
// (sysmon's). Not the exit signal, 0 for a holder, which a holder reparented after its
// golos ended has no more (kernel/exit.c, reparent_leader: SIGCHLD). A zombie is none
// either: a program's process that ended shows one thread too, until it is reaped.
func holderPid(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	if b, ok := readProc(dir + "/comm"); !ok || string(b) != holderComm {
		return false
	}
	stat, ok := readProc(dir + "/stat")
	if !ok {
		return false
	}
	state, n, ok := statThreads(stat)
	return ok && n == 1 && state != "Z"
}

// statThreads is the state and num_threads fields of a /proc/PID/stat file
// (proc_pid_stat(5): fields 3 and 20), counted after the command's closing parenthesis,
// which may itself hold spaces and parentheses.
func statThreads(stat []byte) (state string, threads int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return "", 0, false
	}
	f := bytes.Fields(stat[i+1:]) // from field 3, the state
	const field = 20 - 3
	if len(f) <= field {
		return "", 0, false
	}
	n, err := strconv.Atoi(string(f[field]))
	return string(f[0]), n, err == nil
}

// holderName reports whether name, an entry of /proc, is a holder's directory.
func holderName(name string) bool {
	pid, err := strconv.Atoi(name)
	return err == nil && pid > 0 && holderPid(pid)
}

// procChildren is the file of cleaned path p when it names a thread's children file
// (/proc/PID/task/TID/children, proc(5)): the host's list without the holders.
func procChildren(p string) ([]byte, bool) {
	if !strings.HasPrefix(p, "/proc/") || !strings.HasSuffix(p, "/children") || !strings.Contains(p, "/task/") {
		return nil, false
	}
	raw, err := readHostFile(p)
	if err != nil {
		return nil, false
	}
	var out []byte
	for _, f := range bytes.Fields(raw) {
		if pid, err := strconv.Atoi(string(f)); err == nil && holderPid(pid) {
			continue
		}
		out = append(append(out, f...), ' ') // "PID PID " as the kernel writes it
	}
	return out, true
}
