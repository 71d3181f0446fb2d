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

// holderPid reports whether pid is a holder.
func holderPid(pid int) bool {
	b, ok := readProc("/proc/" + strconv.Itoa(pid) + "/comm")
	return ok && string(b) == holderComm
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
