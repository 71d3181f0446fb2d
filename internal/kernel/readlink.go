package kernel

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// readlink(2) and readlinkat(2): the links golos shows otherwise than the host.

// readlinkat(2) and readlink(2): /proc/self/exe names the program, not golos.
func sysReadlink(t *Thread) int64 {
	return t.readlinkAt(-1, 0, t.arg(1), t.arg(2))
}

func sysReadlinkat(t *Thread) int64 {
	return t.readlinkAt(0, 1, t.arg(2), t.arg(3))
}

func (t *Thread) readlinkAt(dirArg, pathArg int, buf, size uint64) int64 {
	p, raw, e := t.procPathArgRaw(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	bufsiz := int(int32(size)) // readlink(2) takes an int
	if bufsiz <= 0 {
		return -int64(unix.EINVAL)
	}
	if p != "" && t.p.procHidden(p) {
		return -int64(unix.ENOENT) // golos's own descriptor or thread: not there
	}
	target, virtual := "", false
	rest, self := procRest(p)
	switch {
	case p == "":
	case isProcSelf(p, "exe"):
		target, virtual = t.p.mm.exeGuestPath, true
	case t.p.fsctx.root != nil && !t.p.procMounted():
		// no /proc inside the root: as in a chroot, nothing there
	case t.p.procSnapshotFD(p) != nil:
		// A /proc file of golos's making: its memfd's name would show ("/memfd:…").
		target, virtual = t.p.procSnapshotFD(p).link, true
	case self && signalfdLink(t.p, rest):
		// A signalfd is an eventfd on the host (signalfd.go); Linux names its anon inode
		// "[signalfd]" (fs/signalfd.c, anon_inode_getfile).
		target, virtual = "anon_inode:[signalfd]", true
	case treeExeOK(p, &target):
		virtual = true // another process of the tree (tree_unsafe.go)
	case t.p.fsctx.root != nil && isProcSelf(p, "cwd"):
		target, virtual = t.p.cwdLink(), true
	case t.p.fsctx.root != nil && peerCwd(p, &target):
		virtual = true // another process of the tree (procpeer.go)
	case t.p.fsctx.root != nil && peerFileLink(t.p, p, &target):
		virtual = true
	case t.p.fsctx.root != nil && self && strings.HasPrefix(rest, "fd/") && !strings.HasSuffix(p, "/"):
		// /proc/self/fd/N names files as the application sees them, inside the root.
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, "fd/")); err == nil {
			if host, err := vfs.HostFDPath(n); err == nil {
				if g, ok := t.p.fsctx.root.Virtual(n); ok {
					target, virtual = g, true
				} else if g, ok := t.p.fsctx.root.Guest(host); ok {
					target, virtual = g, true
				} else if g, ok := t.p.outerGuest(host); ok {
					// Outside the program's chroot but in --root: named from --root,
					// the namespace's root (fs/d_path.c: d_path, as for cwdLink).
					target, virtual = g, true
				} else if !strings.HasPrefix(host, "/") {
					target, virtual = host, true // pipe:[…], socket:[…], anon_inode:…
				}
			}
		}
	case t.p.fsctx.root != nil && self && strings.HasPrefix(rest, "map_files/") && !strings.HasSuffix(p, "/"):
		// A mapped file, by its path inside the root (proc(5): map_files), as maps
		// names it (guestMapName).
		buf := make([]byte, unix.PathMax)
		if n, err := unix.Readlink("/proc/self/"+rest, buf); err == nil {
			target, virtual = t.p.guestMapName(string(buf[:n])), true
		}
	}
	if virtual {
		name := []byte(target)
		n := min(len(name), bufsiz) // readlink(2) truncates silently
		if e := copyOut(buf, name[:n]); e != 0 {
			return -int64(e)
		}
		return int64(n)
	}
	if t.p.fsctx.root == nil {
		return t.passthroughPath(pathArg, raw) // the path looked at (passthroughPath)
	}
	return t.pathCall(dirArg, pathArg, entryLast, false)
}

// signalfdLink reports whether rest (the part of a /proc/self path after "self/") is
// fd/N for a signalfd's descriptor N.
func signalfdLink(p *Process, rest string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(rest, "fd/"))
	if err != nil || !strings.HasPrefix(rest, "fd/") {
		return false
	}
	w, _ := p.files.fdDirs.Load(n)
	_, ok := w.(*signalfd)
	return ok
}

// peerFileLink sets *target to the target of /proc/<pid>/fd/N or /proc/<pid>/map_files/…
// (cleaned path p) of another process of the tree, whose files are in the same root and
// volumes as this one's: a file's path inside them (guestMapName), as for this process's
// own links, not the host's path of the root. A link to anything else (a pipe, a file
// outside the root) is left to the host.
func peerFileLink(p *Process, path string, target *string) bool {
	_, rest, ok := otherProcPath(path)
	if !ok || !(strings.HasPrefix(rest, "fd/") || strings.HasPrefix(rest, "map_files/")) || strings.HasSuffix(path, "/") {
		return false
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink(path, buf)
	if err != nil || n == 0 || buf[0] != '/' {
		return false
	}
	host := string(buf[:n])
	if g := p.guestMapName(host); g != host {
		*target = g
		return true
	}
	return false
}
