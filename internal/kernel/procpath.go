package kernel

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Every spelling of a path under /proc that names this process's files reaches the same
// view: "/proc//self/maps", "/proc/./self/maps", "/proc/self/./maps", "/proc/thread-self/…",
// "/proc/PID/…", "/proc/self/task/TID/…", and a relative path from a descriptor of a
// directory there (openat(fd of /proc, "self/maps")). The path is cleaned lexically
// first (cleanProcPath), then matched (procRest).

// procDir is a watched descriptor of a directory under /proc: a path relative to it is
// one under /proc too (procPathArgRaw), and its listing may leave entries out (hide).
type procDir struct {
	guest string // its path, cleaned
	hide  int    // hideNone, hideOwnFDs (a fd or fdinfo listing), hideThreads (a task listing), hideMaps (map_files), hideHolders (/proc)
	pid   int    // another process's directory, whose golos says what to hide (procpeer.go); 0 for this one's
}

const (
	hideNone = iota
	hideOwnFDs
	hideThreads
	hideMaps
	hideHolders
)

// procPathArgRaw is the path a syscall names (its directory descriptor at argument dirArg,
// or AT_FDCWD when dirArg < 0, and its path at pathArg) when it lies under /proc,
// cleaned (cleanProcPath); "" for any other path. A relative path is under /proc when
// its directory descriptor is a watched one there (procDir), or when the working
// directory and the path lead there (with a root, golos's own idea of the working
// directory; without, the host's: hostCwdFor).
//
// It also returns the path as the program gave it (raw), which golos then hands on to the
// host or resolves itself rather than read it again (passthroughPath).
func (t *Thread) procPathArgRaw(dirArg, pathArg int) (proc, raw string, e unix.Errno) {
	p, e := readString(t.arg(pathArg), unix.PathMax)
	if e != 0 {
		return "", "", e
	}
	raw = p
	if p == "" {
		return "", raw, 0
	}
	if p[0] != '/' {
		dirfd := int32(unix.AT_FDCWD)
		if dirArg >= 0 {
			dirfd = int32(t.arg(dirArg))
		}
		dir := ""
		if dirfd == unix.AT_FDCWD {
			if t.p.fsctx.root != nil {
				dir = t.p.cwd()
			} else {
				dir = hostCwdFor(p)
			}
		} else if w, ok := t.p.files.fdDirs.Load(int(dirfd)); ok {
			if d, ok := w.(*procDir); ok {
				dir = d.guest
			}
		}
		if dir == "" {
			return "", raw, 0
		}
		p = dir + "/" + p
	}
	abs := p[0] == '/'
	p = cleanProcPath(p)
	if rest, ok := strings.CutPrefix(p, "/dev/fd"); ok && abs && (rest == "" || rest[0] == '/') && t.devFDIsProcFD() {
		// /dev/fd is a symlink to /proc/self/fd (udev's and runc's /dev, oci/host.go):
		// a path through it is one under /proc, where golos's own descriptors are not.
		p = cleanProcPath("/proc/self/fd" + rest)
	}
	if p != "/proc" && p != "/proc/" && !strings.HasPrefix(p, "/proc/") {
		return "", raw, 0
	}
	return t.p.procByTid(p), raw, 0
}

// procByTid spells cleaned path p, when it names a thread that leads no thread group by
// its tid at the top of /proc (/proc/TID/…), as that thread's entry in its process's task
// directory (/proc/PID/task/TID/…), the spelling golos matches. Linux finds any thread
// there, though /proc lists only the thread group leaders (fs/proc/base.c:
// proc_pid_lookup looks a task up by any id, proc_pid_readdir lists tgids), and
// /proc/TID shows its process's descriptors, memory, working directory and threads as
// /proc/PID does. So /proc/TID of a thread of golos's own process is this process's
// directory (and of one of golos's threads, none: procHidden), and /proc/TID of another
// process's thread is that process's (another golos's, which hides its own: peerHidden).
// Any other path is returned as it is.
func (p *Process) procByTid(path string) string {
	s, ok := strings.CutPrefix(path, "/proc/")
	if !ok {
		return path
	}
	head, rest, sub := strings.Cut(s, "/")
	tid, err := strconv.Atoi(head)
	if err != nil || tid <= 0 || tid == selfPid {
		return path
	}
	tgid := 0
	switch {
	case p.thread(tid) != nil, unix.Tgkill(selfPid, tid, 0) == nil:
		tgid = selfPid // the program's thread, or golos's
	default:
		tgid = threadGroup(tid)
	}
	if tgid <= 0 || tgid == tid {
		return path
	}
	out := "/proc/" + strconv.Itoa(tgid) + "/task/" + head
	if sub {
		out += "/" + rest
	}
	return out
}

// threadGroup is the thread group (the process) of thread tid, as the Tgid line of its
// status file names it (proc_pid_status(5)), or 0 when there is no such thread.
func threadGroup(tid int) int {
	b, ok := readProc("/proc/" + strconv.Itoa(tid) + "/status")
	if !ok {
		return 0
	}
	return int(statusField(b, "Tgid:"))
}

// devFDIsProcFD reports whether /dev/fd (the root's, with one) is the usual symlink to
// /proc/self/fd (proc(5): /dev/fd is "a symbolic link to /proc/self/fd" on most systems).
func (t *Thread) devFDIsProcFD() bool {
	link := "/dev/fd"
	if root := t.p.fsctx.root; root != nil {
		r, err := root.Entry(link)
		if err != nil {
			return false
		}
		defer r.Close()
		link = r.Path
	}
	var buf [32]byte
	n, err := unix.Readlink(link, buf[:])
	if err != nil {
		return false
	}
	target := strings.TrimSuffix(string(buf[:n]), "/")
	return target == "/proc/self/fd"
}

// cleanProcPath leaves out the empty and "." components of absolute path p, and takes
// ".." lexically where that is what Linux does: after /proc's own directories (a process's,
// its task directory and a thread's, fd, fdinfo), and after thread-self, a symlink to
// PID/task/TID. After any other component (which may be a
// symlink: cwd, root, fd/N…) the rest is kept as it is, ".." included. A trailing slash
// stays.
func cleanProcPath(p string) string {
	var out []string
	raw := false
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "" || c == ".":
		case raw:
			out = append(out, c)
		case c == "..":
			if len(out) == 0 {
				continue // the root's parent is the root
			}
			last, n := out[len(out)-1], len(out)
			_, numErr := strconv.Atoi(last)
			switch {
			case n == 1, // /proc (or anything at the top)
				n == 2 && out[0] == "proc" && (last == "self" || numErr == nil),
				n >= 3 && out[0] == "proc" && (last == "task" || last == "fd" || last == "fdinfo"),
				n >= 4 && out[0] == "proc" && numErr == nil && out[n-2] == "task":
				out = out[:n-1]
			case n == 2 && out[0] == "proc" && last == "thread-self":
				out = append(out[:1], strconv.Itoa(selfPid), "task")
			default:
				raw = true
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	s := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && s != "/" {
		s += "/"
	}
	return s
}

// procRest is what a cleaned path names inside this process's directory in /proc, when
// it is in one: "maps" for /proc/self/maps, /proc/thread-self/maps, /proc/PID/maps,
// /proc/self/task/TID/maps and /proc/PID/task/TID/maps, "" for the directory itself. A
// trailing slash is left out.
func procRest(p string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(p, "/"), "/proc/")
	if !ok {
		return "", false
	}
	head, rest, _ := strings.Cut(rest, "/")
	switch head {
	case "thread-self":
		return rest, true
	case "self", strconv.Itoa(selfPid):
	default:
		return "", false
	}
	if r, ok := strings.CutPrefix(rest, "task/"); ok {
		tid, after, _ := strings.Cut(r, "/")
		if _, err := strconv.Atoi(tid); err == nil {
			return after, true
		}
	}
	return rest, true
}

// isProcSelf reports whether cleaned path p names file of this process in /proc:
// /proc/self/file, /proc/thread-self/file, /proc/PID/file, /proc/PID/task/TID/file.
func isProcSelf(p, file string) bool {
	rest, ok := procRest(p)
	return ok && rest == file && !strings.HasSuffix(p, "/")
}

// procHidden reports whether cleaned path p goes through one of golos's own descriptors
// in this process's fd or fdinfo directory, through a mapping of golos's in its map_files
// directory (foreignMapping), or through the task directory of a thread
// that is golos's own, not the program's (its task listing leaves them out too,
// sysGetdents64): such a path fails with ENOENT, as when the descriptor is not open or
// there is no such thread.
func (p *Process) procHidden(path string) bool {
	if tid, ok := procTask(path); ok && p.thread(tid) == nil {
		return true
	}
	rest, ok := procRest(path)
	if !ok {
		// Another process's directory: its golos says what is its own.
		return (p.fsctx.root == nil || p.procMounted()) && peerHidden(path)
	}
	if r, ok := strings.CutPrefix(rest, "map_files/"); ok {
		n, _, _ := strings.Cut(r, "/")
		if p.foreignMapping(n) {
			return true
		}
	}
	for _, dir := range []string{"fd/", "fdinfo/"} {
		if r, ok := strings.CutPrefix(rest, dir); ok {
			n, _, _ := strings.Cut(r, "/")
			if fd, err := strconv.Atoi(n); err == nil && p.ownFD(fd) {
				return true
			}
		}
	}
	return false
}

// procTask returns the thread a cleaned path names in this process's task directory
// (/proc/self/task/TID…, /proc/PID/task/TID…), if it names one.
func procTask(p string) (int, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return 0, false
	}
	head, rest, _ := strings.Cut(rest, "/")
	if head != "self" && head != strconv.Itoa(selfPid) {
		return 0, false
	}
	r, ok := strings.CutPrefix(rest, "task/")
	if !ok {
		return 0, false
	}
	n, _, _ := strings.Cut(r, "/")
	tid, err := strconv.Atoi(n)
	return tid, err == nil
}

// procDirOf is how a descriptor opened on cleaned path p is watched when p is a directory
// golos looks into under /proc: /proc itself, this process's or one of its threads'
// directory, its fd, fdinfo, task and net directories (and /proc/net). nil for any other
// path.
func procDirOf(p string) *procDir {
	clean := strings.TrimSuffix(p, "/")
	if clean == "/proc" {
		return &procDir{guest: clean, hide: hideHolders} // procholders.go
	}
	if clean == "/proc/net" {
		// Watched for the paths relative to it: its unix file names sockets inside the
		// root by their guest paths (netUnix), where the host's names them by the root's
		// place on the host.
		return &procDir{guest: clean}
	}
	rest, ok := procRest(p)
	if !ok {
		return otherProcDir(p)
	}
	switch rest {
	case "", "net":
		return &procDir{guest: clean}
	case "fd", "fdinfo":
		return &procDir{guest: clean, hide: hideOwnFDs}
	case "task":
		return &procDir{guest: clean, hide: hideThreads}
	case "map_files":
		return &procDir{guest: clean, hide: hideMaps}
	}
	return nil
}

// foreignMapping reports whether name, an entry of /proc/self/map_files ("LO-HI" in hex,
// proc(5)), is a mapping of golos's own, none of whose memory is the program's: its
// listing leaves it out and its link is not there (ENOENT), as maps leaves it out
// (programMappings). A name that is no range is not one.
func (p *Process) foreignMapping(name string) bool {
	lo, hi, ok := parseRange(name)
	if !ok {
		return false
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mm.syncStack()
	return len(p.mm.owned.intersect(lo, hi)) == 0
}
