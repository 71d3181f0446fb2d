package kernel

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/vfs"
)

// /proc/<pid>/… of another process of the tree is, on the host, the file of another golos:
// its maps hold golos's runtime, its status counts golos's threads and shows golos's
// signal handlers, its fd and task directories list golos's descriptors and threads. So
// each golos answers for its own program: it listens on an abstract unix socket named
// after its pid (procPeerName), and a golos that opens /proc/<pid>/maps of another asks
// it, and gets what that golos's program would read in /proc/self/maps. The answer is
// the other golos's own view (procfs.go), always current, at the cost of one connection
// per open; cmdline and exe, which ps reads for every process, need no connection
// (tree_unsafe.go).
//
// Either side checks the other: the listener answers only a peer of its own user (or
// root), as Linux lets only such a one read another's maps or environ (proc(5),
// PTRACE_MODE_READ); the asker takes an answer only from the process it asked about
// (SO_PEERCRED), so that another process that took the name cannot answer for it. A
// process that is not golos's, a golos that does not answer within procPeerWait (one
// that is stopped, SIGSTOP or ^Z, does not run its listener) or one without a listener
// yet (a child still being made) shows what the host shows.

// procPeerWait is how long an asker waits for the other golos's answer.
const procPeerWait = 300 * time.Millisecond

// procPeerName is the abstract socket name (unix(7)) of golos process pid's listener.
func procPeerName(pid int) string { return "@golos-proc/" + strconv.Itoa(pid) }

// served is the process this golos answers for: the one running now (an execve in place
// keeps the golos, with a new program).
var (
	served     atomic.Pointer[Process]
	serveOnce  sync.Once
	procPeerFD = -1
)

// serveProc makes p the process this golos answers for, and starts the listener the first
// time. A golos that cannot listen (no name free, no descriptor) answers nothing: the
// others show the host's view of it.
func (p *Process) serveProc() {
	served.Store(p)
	serveOnce.Do(func() {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return
		}
		if fd, err = vfs.MoveHigh(fd); err != nil {
			return
		}
		if unix.Bind(fd, &unix.SockaddrUnix{Name: procPeerName(selfPid)}) != nil || unix.Listen(fd, 16) != nil {
			unix.Close(fd)
			return
		}
		procPeerFD = fd
		p.files.ownFDs = append(p.files.ownFDs, fd)
		entry.GoFDs[fd&0xffff] = 1
		go procServe(fd)
	})
}

// procConn is the connection being answered, one of golos's own descriptors (ownFD)
// while it is open; -1 when none is.
var procConn atomic.Int64

func init() { procConn.Store(-1) }

// procServe answers the askers, one at a time. A connection is accepted at the lowest
// free number, which is the program's to take next: it moves to golos's (vfs.MoveHigh).
func procServe(lfd int) {
	for {
		c, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return
		}
		if c, err = vfs.MoveHigh(c); err != nil {
			continue
		}
		procConn.Store(int64(c))
		procAnswer(c)
		procConn.Store(-1)
		unix.Close(c)
	}
}

// procAnswer answers one asker: a request is a cleaned /proc path of this process
// ("/proc/<pid>/maps", "/proc/<pid>/task/<tid>/status"), or "fds" for the descriptors of
// golos's own to leave out of its fd directory, or "tids" for the program's threads.
func procAnswer(c int) {
	tv := unix.NsecToTimeval(int64(procPeerWait))
	unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	cred, err := unix.GetsockoptUcred(c, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || (cred.Uid != 0 && cred.Uid != uint32(os.Getuid())) {
		return
	}
	req, err := readMsg(c)
	p := served.Load()
	if err != nil || p == nil {
		return
	}
	var w wireWriter
	switch string(req) {
	case "fds":
		w.ints(append(slices.Clone(p.files.ownFDs), c)) // and this connection, golos's too
	case "tids":
		w.ints(p.programTids())
	default:
		t := p.procThread(string(req))
		content, ok := []byte(nil), false
		if t != nil {
			content, ok = t.selfProcFile(string(req))
		}
		w.bool(ok)
		w.bytes(content)
	}
	writeMsg(c, w.b)
}

func (w *wireWriter) ints(v []int) {
	w.int(len(v))
	for _, x := range v {
		w.int(x)
	}
}

func (r *wireReader) ints() []int {
	n := r.int()
	if n > len(r.b)/8 {
		r.err = errWire
		return nil
	}
	v := make([]int, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		v = append(v, r.int())
	}
	return v
}

// programTids are the tids of the program's live threads.
func (p *Process) programTids() []int {
	p.threads.mu.Lock()
	defer p.threads.mu.Unlock()
	tids := make([]int, 0, len(p.threads.byTid))
	for tid := range p.threads.byTid {
		tids = append(tids, tid)
	}
	slices.Sort(tids)
	return tids
}

// procThread is the thread whose view of cleaned path p golos gives: the one p names in
// the task directory, else the main thread (Linux shows /proc/<pid>/status of the thread
// group leader), else any, once the main one has ended.
func (p *Process) procThread(path string) *Thread {
	p.threads.mu.Lock()
	defer p.threads.mu.Unlock()
	if tid, ok := procTask(path); ok {
		return p.threads.byTid[tid]
	}
	if m := p.threads.main; m != nil && p.threads.byTid[m.tid] == m {
		return m
	}
	for _, t := range p.threads.byTid {
		return t
	}
	return nil
}

// askProcPeer asks the golos of process pid the request, and returns its answer.
func askProcPeer(pid int, req string) (*wireReader, bool) {
	if !sameGolos(pid) {
		return nil, false
	}
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(c)
	tv := unix.NsecToTimeval(int64(procPeerWait))
	unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if unix.Connect(c, &unix.SockaddrUnix{Name: procPeerName(pid)}) != nil {
		return nil, false
	}
	// The peer's credentials are those of the process that listens, taken at listen(2)
	// (unix(7), SO_PEERCRED).
	if cred, err := unix.GetsockoptUcred(c, unix.SOL_SOCKET, unix.SO_PEERCRED); err != nil || int(cred.Pid) != pid {
		return nil, false
	}
	if writeMsg(c, []byte(req)) != nil {
		return nil, false
	}
	b, err := readMsg(c)
	if err != nil {
		return nil, false
	}
	return &wireReader{b: b}, true
}

// peerProcFile is the program's view of cleaned path p, a file of another process of the
// tree: /proc/<pid>/<file> or /proc/<pid>/task/<tid>/<file>, answered by its golos.
func peerProcFile(p string) ([]byte, bool) {
	pid, file, ok := otherProcPath(p)
	if !ok {
		return nil, false
	}
	switch file {
	case "maps", "smaps", "smaps_rollup", "environ", "auxv", "status", "stat", "limits":
	default:
		return nil, false
	}
	r, ok := askProcPeer(pid, p)
	if !ok {
		return nil, false
	}
	found, content := r.bool(), r.bytes()
	return content, found && r.err == nil
}

// otherProcPath splits cleaned path p, when it names something in the directory of a
// process other than this one (/proc/<pid>/<rest>, /proc/<pid>/task/<tid>/<rest>), into
// its pid and rest.
func otherProcPath(p string) (pid int, rest string, ok bool) {
	s, ok := strings.CutPrefix(strings.TrimSuffix(p, "/"), "/proc/")
	if !ok {
		return 0, "", false
	}
	n, rest, _ := strings.Cut(s, "/")
	pid, err := strconv.Atoi(n)
	if err != nil || pid <= 0 || pid == selfPid {
		return 0, "", false
	}
	if r, ok := strings.CutPrefix(rest, "task/"); ok {
		tid, after, _ := strings.Cut(r, "/")
		if _, err := strconv.Atoi(tid); err == nil {
			rest = after
		}
	}
	return pid, rest, true
}

// otherProcDir is how a descriptor opened on cleaned path p is watched when p is the fd,
// fdinfo or task directory of another process: its listing leaves out what its golos
// says is golos's own (sysGetdents64).
func otherProcDir(p string) *procDir {
	pid, rest, ok := otherProcPath(p)
	if !ok {
		return nil
	}
	clean := strings.TrimSuffix(p, "/")
	switch {
	case rest == "fd" || rest == "fdinfo":
		return &procDir{guest: clean, hide: hideOwnFDs, pid: pid}
	case rest == "task" && !strings.Contains(strings.TrimPrefix(clean, "/proc/"+strconv.Itoa(pid)+"/"), "/"):
		return &procDir{guest: clean, hide: hideThreads, pid: pid}
	}
	return nil
}

// peerHide is what a listing of d, a directory of another process, leaves out: golos's
// own descriptors or threads, as its golos says; nil when it says nothing (not golos's).
func peerHide(d *procDir) func(int) bool {
	req := "fds"
	if d.hide == hideThreads {
		req = "tids"
	}
	r, ok := askProcPeer(d.pid, req)
	if !ok {
		return nil
	}
	list := r.ints()
	if r.err != nil {
		return nil
	}
	if d.hide == hideThreads {
		return func(tid int) bool { return !slices.Contains(list, tid) }
	}
	return func(fd int) bool { return slices.Contains(list, fd) }
}

// peerHidden reports whether cleaned path p goes through one of golos's own descriptors
// in another process's fd or fdinfo directory, or through one of golos's threads in its
// task directory (procHidden, for another process).
func peerHidden(p string) bool {
	pid, _, ok := otherProcPath(p)
	if !ok {
		return false
	}
	s := strings.TrimPrefix(p, "/proc/"+strconv.Itoa(pid)+"/")
	for _, dir := range []string{"fd/", "fdinfo/", "task/"} {
		r, ok := strings.CutPrefix(s, dir)
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(r, "/")
		v, err := strconv.Atoi(n)
		if err != nil {
			return false
		}
		d := &procDir{hide: hideOwnFDs, pid: pid}
		if dir == "task/" {
			d.hide = hideThreads
		}
		hide := peerHide(d)
		return hide != nil && hide(v)
	}
	return false
}
