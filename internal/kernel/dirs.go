package kernel

import (
	"bytes"
	"encoding/binary"
	"path"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// Directory listings: getdents64(2) and the watched directories (dirWatch).

// watchDir watches a descriptor just opened when it is a directory whose listing shows
// virtual directories or mount points its host directory may lack (sysGetdents64).
func (p *Process) watchDir(fd int) {
	if !p.fsctx.root.HasVirtual() {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	if g, ok := p.fsctx.root.Virtual(fd); ok {
		p.watchFD(fd, &dirWatch{guest: g, virtual: true})
		return
	}
	if g, err := p.fsctx.root.FDPath(fd); err == nil && p.fsctx.root.HasChildren(g) {
		p.watchFD(fd, &dirWatch{guest: g})
	}
}

// getdents64(2): a listing of /proc/self/fd leaves golos's own descriptors out; that of a
// directory with virtual children or mount points shows them (dirents).
func sysGetdents64(t *Thread) int64 {
	w, ok := t.p.files.fdDirs.Load(int(int32(t.arg(0))))
	if d, isDir := w.(*dirWatch); ok && isDir {
		return t.dirents(d)
	}
	if !ok {
		return passthrough(t)
	}
	// A numbered entry stays unless it is one of golos's descriptors (a fd listing) or
	// one of golos's own threads (a task listing).
	// A map_files listing leaves out golos's own mappings (foreignMapping).
	var hide func(int) bool
	var hideName func(string) bool
	switch d, _ := w.(*procDir); {
	case d == nil || d.hide == hideNone:
		return passthrough(t)
	case d.hide == hideMaps && d.pid != 0:
		if hideName = peerMapHide(d.pid); hideName == nil {
			return passthrough(t) // not a golos's: as the host lists it
		}
	case d.hide == hideMaps:
		hideName = t.p.foreignMapping
	case d.hide == hideHolders:
		hideName = holderName // the holders of the tree's golos processes (procholders.go)
	case d.pid != 0:
		// Asked once the host has listed (below): what the other golos says of its own
		// descriptors then covers one it opened for a moment (a fork's) that the
		// listing found.
	case d.hide == hideThreads:
		hide = func(tid int) bool { return t.p.thread(tid) == nil }
	case len(t.p.files.ownFDs) == 0:
		return passthrough(t)
	default:
		hide = t.p.ownFD
	}
	peer, _ := w.(*procDir)
	if d, _ := w.(*procDir); d != nil && d.pid == 0 && d.hide == hideOwnFDs && t.p.fsctx.root != nil {
		// Not while a path lookup holds a descriptor at the program's numbers, which
		// ownFD would not know yet (vfs.LockLow); and the lookups' descriptors held as
		// the listing starts stay hidden when they close before it is filtered (no new
		// one is made meanwhile, and their numbers are above the program's).
		defer t.p.lockLow()()
		held := vfs.TempFDs()
		own := hide
		hide = func(fd int) bool { return own(fd) || slices.Contains(held, fd) }
	}
	for {
		n := passthrough(t)
		if n <= 0 {
			return n
		}
		if hideName == nil && hide == nil {
			if hide = peerHide(peer); hide == nil {
				return n // not a golos's: as the host lists it
			}
		}
		if hideName == nil {
			hideName = func(name string) bool {
				v, err := strconv.Atoi(name)
				return err == nil && hide(v)
			}
		}
		buf := make([]byte, n)
		if e := copyIn(t.arg(1), buf); e != 0 {
			return -int64(e)
		}
		out := buf[:0]
		for off := 0; off+19 <= len(buf); {
			reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
			if reclen == 0 || off+reclen > len(buf) {
				break
			}
			rec := buf[off : off+reclen]
			// d_name ends at its first NUL: the padding after it up to d_reclen is not
			// cleared (getdents(2)), it may hold what the buffer held before.
			name := rec[19:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if !hideName(string(name)) {
				out = append(out, rec...)
			}
			off += reclen
		}
		if len(out) == 0 {
			continue // all hidden: the next entries, not an end the listing has not reached
		}
		if e := copyOut(t.arg(1), out); e != 0 {
			return -int64(e)
		}
		return int64(len(out))
	}
}

// dirWatch is a watched descriptor of a directory whose listing must show virtual
// directories or mount points its host directory lacks (vfs.MissingChildren).
type dirWatch struct {
	mu      mutex[dirWatchLock]
	guest   string // the directory's guest path
	virtual bool   // a virtual directory: its host directory, removed, lists nothing
	tail    bool   // the host listing ended at position end; next children were given
	end     int64
	next    int
	kids    []vfs.Child
}

// dirents answers getdents64(2) on a watched directory. The host's entries come first,
// as they are; when the host listing ends (getdents64 returns 0), the missing children
// follow, as directories (DT_DIR), with the inode numbers a stat of them gives. The
// host's file position says where the listing is: a position other than the one the
// host listing ended at (lseek(2) to 0, or to a d_off the host gave) starts the host
// listing again from there, and the children after it. A virtual directory, whose
// removed host directory fails getdents64 with ENOENT, lists ".", ".." and its children
// alone; there the position is the index of the next entry, and each entry's d_off the
// position after it (getdents(2): "d_off is the distance from the start of the directory
// to the start of the next linux_dirent"; lseek(2) to it goes on from there). A child of
// a host directory has the d_off where the host listing ended: lseek(2) to it gives the
// children not yet read.
func (t *Thread) dirents(d *dirWatch) int64 {
	fd := int(int32(t.arg(0)))
	count := int(uint32(t.arg(2)))
	d.mu.Lock()
	defer d.mu.Unlock()
	pos, err := unix.Seek(fd, 0, unix.SEEK_CUR)
	if err != nil {
		return passthrough(t)
	}
	if d.virtual {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return -int64(errnoOf(err))
		}
		ents := append([]vfs.Child{{Name: ".", Ino: st.Ino}, {Name: "..", Ino: t.p.fsctx.root.Ino(path.Dir(d.guest))}},
			t.p.fsctx.root.MissingChildren(d.guest, fd)...)
		if pos >= int64(len(ents)) {
			return 0
		}
		buf, n := direntRecords(ents[pos:], count, func(i int) int64 { return pos + int64(i) + 1 })
		if n == 0 {
			return -int64(unix.EINVAL) // getdents(2): "Result buffer is too small"
		}
		if e := copyOut(t.arg(1), buf); e != 0 {
			return -int64(e)
		}
		unix.Seek(fd, pos+int64(n), unix.SEEK_SET)
		return int64(len(buf))
	}
	if !d.tail || pos != d.end {
		d.tail = false
		if r := passthrough(t); r != 0 {
			return r
		}
		end, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return 0
		}
		d.tail, d.end, d.next, d.kids = true, end, 0, t.p.fsctx.root.MissingChildren(d.guest, fd)
	}
	if d.next >= len(d.kids) {
		return 0
	}
	buf, n := direntRecords(d.kids[d.next:], count, func(int) int64 { return d.end })
	if n == 0 {
		return -int64(unix.EINVAL)
	}
	if e := copyOut(t.arg(1), buf); e != 0 {
		return -int64(e)
	}
	d.next += n
	return int64(len(buf))
}

// direntRecords lays out as many of ents as fit in count bytes as struct linux_dirent64
// records (getdents(2): d_ino, d_off, d_reclen, d_type, then the name and its NUL,
// padded to 8 bytes), directories but for the mount points of files; off(i) is entry i's d_off. It returns the bytes
// and how many entries they hold.
func direntRecords(ents []vfs.Child, count int, off func(i int) int64) ([]byte, int) {
	var buf []byte
	n := 0
	for i, e := range ents {
		reclen := (19 + len(e.Name) + 1 + 7) &^ 7
		if len(buf)+reclen > count {
			break
		}
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], e.Ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(off(i)))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = unix.DT_DIR
		if e.File {
			rec[18] = unix.DT_REG // a file's mount point
		}
		copy(rec[19:], e.Name)
		buf = append(buf, rec...)
		n++
	}
	return buf, n
}

// getdents(2), the call before getdents64: the same listing (sysGetdents64, with its
// hidden and virtual entries) in struct linux_dirent records. Each takes as many bytes as
// its linux_dirent64: d_ino, d_off and d_reclen are where they were, the name moves up
// one byte to where d_type was, and d_type goes to the record's last byte (fs/readdir.c,
// filldir: reclen is ALIGN(offsetof(d_name) + namlen + 2, 8), 18 + namlen + 2, as
// filldir64's ALIGN(19 + namlen + 1, 8)). So a buffer's worth of one is a buffer's worth
// of the other, and the host's getdents64 fills it.
func sysGetdents(t *Thread) int64 {
	r := &t.ctx.Regs
	nr := r.RAX
	r.RAX = unix.SYS_GETDENTS64 // what passthrough makes
	n := sysGetdents64(t)
	r.RAX = nr
	if n <= 0 {
		return n
	}
	buf := make([]byte, n)
	if e := copyIn(t.arg(1), buf); e != 0 {
		return -int64(e)
	}
	for off := 0; off+19 <= len(buf); {
		reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
		if reclen < 20 || off+reclen > len(buf) {
			break
		}
		rec := buf[off : off+reclen]
		typ := rec[18]
		name := rec[19:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		copy(rec[18:], name)
		clear(rec[18+len(name) : reclen-1])
		rec[reclen-1] = typ
		off += reclen
	}
	if e := copyOut(t.arg(1), buf); e != 0 {
		return -int64(e)
	}
	return n
}
