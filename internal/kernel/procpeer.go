package kernel

import (
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/loader"
	"golos/internal/vfs"
)

// /proc/<pid>/… of another process of the tree is, on the host, the file of another golos:
// its maps hold golos's runtime, its status counts golos's threads and shows golos's
// signal handlers, its fd and task directories list golos's descriptors and threads. So
// each golos answers for its own program: it listens on an abstract unix datagram socket
// named after its pid (procPeerName), and a golos that opens /proc/<pid>/maps of another
// asks it, and gets what that golos's program would read in /proc/self/maps. The answer
// is the other golos's own view (procfs.go), always current, at the cost of one question
// per open; cmdline and exe, which ps reads for every process, need none
// (tree_unsafe.go).
//
// Either side checks the other: the listener answers only a peer of its own user (or
// root), as Linux lets only such a one read another's maps or environ (proc(5),
// PTRACE_MODE_READ); the asker takes an answer only from the process it asked about
// (SCM_CREDENTIALS), so that another process that took the name cannot answer for it. A
// golos that is stopped (SIGSTOP or ^Z) does not run its listener and is not asked: its
// status, stat, task and fd listings come from what it published in its memory
// (stoppedPeer), its other files from the host. A process that is not golos's, a golos
// that does not answer within procPeerWait or one without a listener yet (a child
// still being made) shows what the host shows.

// procPeerWait is how long an asker waits for the other golos's answer.
const procPeerWait = 300 * time.Millisecond

// procPeerName is the abstract socket name (unix(7)) of golos process pid's listener.
func procPeerName(pid int) string { return "@golos-proc/" + strconv.Itoa(pid) }

// served is the process this golos answers for: the one running now (an execve in place
// keeps the golos, with a new program).
var (
	served    atomic.Pointer[Process]
	serveOnce sync.Once
)

// The questions and answers are datagrams, so that the listener never takes a descriptor
// of the program's numbers: a stream's accept(2) reserves the lowest free number while it
// waits (get_unused_fd_flags comes first in __sys_accept4), and the program's dup2 to
// it fails with EBUSY meanwhile. An answer comes in parts of procChunk bytes, each after
// a header of the whole's length and the part's offset; a unix datagram socket neither
// loses nor reorders them (unix(7)). Each side learns the other's credentials from the
// kernel (SO_PASSCRED: SCM_CREDENTIALS on every datagram received).
const procChunk = 32 << 10

// serveProc makes p the process this golos answers for, and starts the listener the first
// time. A golos that cannot listen (no name free, no descriptor) answers nothing: the
// others show the host's view of it.
func (p *Process) serveProc() {
	served.Store(p)
	serveOnce.Do(func() {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			return
		}
		if fd, err = vfs.MoveHigh(fd); err != nil {
			return
		}
		if unix.Bind(fd, &unix.SockaddrUnix{Name: procPeerName(selfPid)}) != nil ||
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1) != nil {
			unix.Close(fd)
			return
		}
		// The listener waits in the runtime's poller, not in a recvmsg(2) of its own: a
		// goroutine blocked in a syscall holds an OS thread, which every golos would start
		// (and end) for it, and the runtime another to run the rest meanwhile.
		peer = os.NewFile(uintptr(fd), "golos-proc-listener") // non-blocking: pollable
		conn, err := peer.SyscallConn()
		if err != nil {
			peer = nil
			unix.Close(fd)
			return
		}
		p.files.own(fd)
		go procServe(peer, conn)
	})
}

// peer is the listener's socket, kept from the garbage collector (whose finalizer would
// close it).
var peer *os.File

// procServe answers the askers, one question at a time.
func procServe(f *os.File, conn syscall.RawConn) {
	buf := make([]byte, unix.PathMax+64)
	// Room for the credentials alone: descriptors a peer sends along are not installed
	// (they would take the program's numbers) but closed (MSG_CTRUNC).
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		var n, oobn int
		var from unix.Sockaddr
		var err error
		rerr := conn.Read(func(fd uintptr) bool {
			n, oobn, _, from, err = unix.Recvmsg(int(fd), buf, oob, 0)
			return err != unix.EAGAIN
		})
		if err == unix.EINTR {
			continue
		}
		if rerr != nil || err != nil {
			return
		}
		cred, ok := msgCred(oob[:oobn])
		if !ok || (cred.Uid != 0 && cred.Uid != uint32(os.Getuid())) || from == nil {
			continue
		}
		var answer []byte
		if req := string(buf[:n]); strings.HasPrefix(req, setpgidRequest) {
			answer = setpgidAnswer(req, cred.Pid) // setpgid.go
		} else {
			answer = procAnswer(req)
		}
		for off := 0; ; off += procChunk {
			part := answer[min(off, len(answer)):min(off+procChunk, len(answer))]
			var h [8]byte
			binary.LittleEndian.PutUint32(h[:], uint32(len(answer)))
			binary.LittleEndian.PutUint32(h[4:], uint32(off))
			if sendPart(f, conn, append(h[:], part...), from) != nil || off+procChunk >= len(answer) {
				break
			}
		}
	}
}

// sendPart sends one part of an answer to from, waiting at most procPeerWait while the
// asker's queue is full (an asker that does not read gives up the answer).
func sendPart(f *os.File, conn syscall.RawConn, b []byte, from unix.Sockaddr) error {
	var err error
	f.SetWriteDeadline(time.Now().Add(procPeerWait))
	if werr := conn.Write(func(fd uintptr) bool {
		err = unix.Sendto(int(fd), b, 0, from)
		return err != unix.EAGAIN
	}); werr != nil {
		return werr
	}
	return err
}

// msgCred is the sender's credentials in control messages oob.
func msgCred(oob []byte) (*unix.Ucred, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, false
	}
	for _, m := range msgs {
		if c, err := unix.ParseUnixCredentials(&m); err == nil {
			return c, true
		}
	}
	return nil, false
}

// procAnswer is the answer to a question: a cleaned /proc path of this process
// ("/proc/<pid>/maps", "/proc/<pid>/task/<tid>/status"), or "fds" for the descriptors of
// golos's own to leave out of its fd directory, or "tids" for the program's threads, or
// "owned" for the program's memory (to leave golos's mappings out of map_files), or
// "cwd" for the target of its cwd link.
func procAnswer(req string) []byte {
	p := served.Load()
	if p == nil {
		return nil
	}
	var w wireWriter
	switch req {
	case "fds":
		w.ints(p.ownFDsNow())
	case "tids":
		w.ints(p.programTids())
	case "owned":
		// The program's memory, for a listing of its map_files (foreignMapping).
		p.mm.mu.Lock()
		p.mm.syncStack()
		w.int(len(p.mm.owned.r))
		for _, r := range p.mm.owned.r {
			w.u64(r[0])
			w.u64(r[1])
		}
		p.mm.mu.Unlock()
	case "cwd":
		// With a root, the working directory as the program sees it (readlink.go).
		w.bool(p.fsctx.root != nil)
		w.bytes([]byte(p.cwdLink()))
	default:
		t := p.procThread(req)
		content, ok := []byte(nil), false
		if t != nil {
			content, ok = t.selfProcFile(req)
		}
		w.bool(ok)
		w.bytes(content)
	}
	return w.b
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
	if !sameGolos(pid) || hostStopped(pid) {
		return nil, false
	}
	c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(c)
	tv := unix.NsecToTimeval(int64(procPeerWait))
	// An address of its own (autobind) for the answer, which only the asked golos may
	// send once connected (unix(7)).
	if unix.SetsockoptInt(c, unix.SOL_SOCKET, unix.SO_PASSCRED, 1) != nil ||
		unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv) != nil ||
		unix.Bind(c, &unix.SockaddrUnix{}) != nil ||
		unix.Connect(c, &unix.SockaddrUnix{Name: procPeerName(pid)}) != nil {
		return nil, false
	}
	if _, err := unix.Write(c, []byte(req)); err != nil {
		return nil, false
	}
	var answer []byte
	buf := make([]byte, 8+procChunk)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		n, oobn, _, _, err := unix.Recvmsg(c, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		// The answer is the asked process's only: its pid as the kernel gives it.
		if cred, ok := msgCred(oob[:oobn]); err != nil || n < 8 || !ok || int(cred.Pid) != pid {
			return nil, false
		}
		total, off := int(binary.LittleEndian.Uint32(buf)), int(binary.LittleEndian.Uint32(buf[4:]))
		if off != len(answer) || total > 64<<20 || off+n-8 > total {
			return nil, false
		}
		answer = append(answer, buf[8:n]...)
		if len(answer) == total {
			return &wireReader{b: answer}, true
		}
	}
}

// hostStopped reports whether process pid is stopped (job control, or a tracer's stop:
// state T or t in its stat, proc_pid_stat(5)): its golos's listener does not run, and
// an asker would wait procPeerWait for nothing.
func hostStopped(pid int) bool {
	raw, err := readHostFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, f, ok := statFields(raw)
	return ok && (f[0] == "T" || f[0] == "t")
}

// peerProcFile is the program's view of cleaned path p, a file of another process of the
// tree: /proc/<pid>/<file> or /proc/<pid>/task/<tid>/<file>, answered by its golos. name
// is the asking process's name for a host's file in its maps (guestMapName), for one
// that is stopped: the process is of the same tree, whose root is the same.
func peerProcFile(p string, name func(string) string) ([]byte, bool) {
	pid, file, ok := otherProcPath(p)
	if !ok {
		return nil, false
	}
	switch file {
	case "maps", "smaps", "smaps_rollup", "environ", "auxv", "status", "stat", "statm", "limits", "mountinfo", "mounts":
	default:
		return nil, false
	}
	if !sameGolos(pid) {
		// No golos: the host's file is the process's (most of the processes ps reads
		// of), without a look at its state first.
		return nil, false
	}
	if hostStopped(pid) {
		return stoppedProcFile(pid, p, file, name)
	}
	r, ok := askProcPeer(pid, p)
	if !ok {
		return nil, false
	}
	found, content := r.bool(), r.bytes()
	return content, found && r.err == nil
}

// stoppedProcFile is file p of process pid, which is stopped: its status, stat, statm,
// maps or smaps, from the host's with what its golos published of its program
// (stoppedPeerMaps), as its golos would answer but for the other threads' signals, which
// its main thread's stand for, and a stack grown since its golos last looked, which the
// maps leave out. Its limits and smaps_rollup are made the same way; the other files
// (environ, auxv…) are the host's.
func stoppedProcFile(pid int, p, file string, name func(string) string) ([]byte, bool) {
	switch file {
	case "status", "stat", "statm", "maps", "smaps", "limits", "smaps_rollup":
	default:
		return nil, false
	}
	s, _, _, view, ok := stoppedPeerMaps(pid)
	if !ok {
		return nil, false
	}
	raw, err := readHostFile(p)
	if err != nil {
		return nil, false
	}
	if file == "stat" || file == "status" || file == "statm" {
		// The program's memory, counted over its mappings in the host's smaps
		// (procvm.go), with the status the host has now for its peak resident size.
		smaps, err := readHostFile(strings.TrimSuffix(p, file) + "smaps")
		if err != nil {
			return nil, false
		}
		hostStatus, _ := readHostFile(strings.TrimSuffix(p, file) + "status")
		code := loader.Layout{StartCode: s.layout.startCode, EndCode: s.layout.endCode}
		vm := view.vmCounts(smaps, hostStatus, s.vmData, s.peak, code)
		s.vm = &vm
	}
	switch file {
	case "statm":
		return s.vm.statm(loader.Layout{StartCode: s.layout.startCode, EndCode: s.layout.endCode}), true
	case "stat":
		return s.stat(raw), true
	case "status":
		return s.status(raw), true
	case "limits":
		return limitsWith(raw, s.limits), true
	case "smaps_rollup":
		smaps, err := readHostFile(strings.TrimSuffix(p, "_rollup"))
		if err != nil {
			return nil, false
		}
		view.name = name
		return view.smapsRollup(smaps, raw), true
	}
	// maps and smaps: the program's mappings (programMappings).
	view.name = name
	return view.programMappings(linuxSharedAnon(raw), nil), true
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
	case rest == "map_files":
		return &procDir{guest: clean, hide: hideMaps, pid: pid}
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
	var list []int
	if r, ok := askProcPeer(d.pid, req); ok {
		if list = r.ints(); r.err != nil {
			return nil
		}
	} else {
		// A stopped golos does not answer: what it published (stoppedPeer).
		_, tids, ownFDs, ok := stoppedPeer(d.pid)
		if !ok || !hostStopped(d.pid) {
			return nil
		}
		list = ownFDs
		if req == "tids" {
			list = tids
		}
	}
	if d.hide == hideThreads {
		return func(tid int) bool { return !slices.Contains(list, tid) }
	}
	return func(fd int) bool { return slices.Contains(list, fd) }
}

// peerHidden reports whether cleaned path p goes through one of golos's own descriptors
// in another process's fd or fdinfo directory (or a thread's there), or through one of
// golos's threads in its task directory (procHidden, for another process); or through a
// fork's holder's directory.
func peerHidden(p string) bool {
	pid, _, ok := otherProcPath(p)
	if !ok {
		return false
	}
	if holderPid(pid) {
		return true // a fork's holder, no process of the program's (procholders.go)
	}
	s := strings.TrimPrefix(p, "/proc/"+strconv.Itoa(pid)+"/")
	if r, ok := strings.CutPrefix(s, "task/"); ok {
		// A thread's directory: none for one of golos's threads, and the process's
		// descriptors and mappings in one of the program's (proc(5): /proc/PID/task/TID
		// has the fd, fdinfo and map_files directories of /proc/PID).
		n, after, _ := strings.Cut(r, "/")
		tid, err := strconv.Atoi(n)
		if err != nil {
			return false
		}
		if hide := peerHide(&procDir{hide: hideThreads, pid: pid}); hide != nil && hide(tid) {
			return true
		}
		s = after
	}
	if r, ok := strings.CutPrefix(s, "map_files/"); ok {
		n, _, _ := strings.Cut(r, "/")
		hide := peerMapHide(pid)
		return hide != nil && hide(n)
	}
	for _, dir := range []string{"fd/", "fdinfo/"} {
		r, ok := strings.CutPrefix(s, dir)
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(r, "/")
		v, err := strconv.Atoi(n)
		if err != nil {
			return false
		}
		hide := peerHide(&procDir{hide: hideOwnFDs, pid: pid})
		return hide != nil && hide(v)
	}
	return false
}

// peerMapHide is what a listing of another process's map_files leaves out: the mappings
// none of whose memory is its program's, as its golos says (foreignMapping); nil when it
// says nothing (not golos's).
func peerMapHide(pid int) func(string) bool {
	r, ok := askProcPeer(pid, "owned")
	if !ok {
		return nil
	}
	n := r.int()
	if n > len(r.b)/16 {
		return nil
	}
	var owned ranges
	for i := 0; i < n && r.err == nil; i++ {
		owned.r = append(owned.r, [2]uint64{r.u64(), r.u64()})
	}
	if r.err != nil {
		return nil
	}
	return func(name string) bool {
		lo, hi, ok := parseRange(name)
		return ok && len(owned.intersect(lo, hi)) == 0
	}
}

// peerCwd sets *target to the target of /proc/<pid>/cwd (cleaned path p) of another
// golos process of the tree that has a root: the working directory inside it, as its
// golos keeps it, not the host's path the host's link shows.
func peerCwd(p string, target *string) bool {
	pid, rest, ok := otherProcPath(p)
	if !ok || rest != "cwd" {
		return false
	}
	r, ok := askProcPeer(pid, "cwd")
	if !ok {
		return false
	}
	rooted, cwd := r.bool(), r.bytes()
	if r.err != nil || !rooted {
		return false
	}
	*target = string(cwd)
	return true
}
