package kernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/vfs"
)

// The file syscalls. Without --root the application sees the host's files as they are
// and its path syscalls pass through unchanged. With --root every path it names is
// resolved inside the root and its volumes (package vfs) and the syscall is made on a
// reference golos holds (/proc/self/fd/N…), never on the application's own string. Either
// way, a few of golos's own files are virtual: /proc/self/exe names the program, and the
// /proc files that would show golos (maps, cmdline, environ, auxv) show the application.

// follow says how a path syscall treats a symlink in the last component.
type follow int

const (
	followLast follow = iota // the file a symlink points to (stat, open, chmod)
	entryLast                // the directory entry itself (lstat, unlink, mkdir)
)

// pathOf reads the path at addr and makes it an absolute guest path, relative to dirfd
// (AT_FDCWD: the working directory) when it is relative.
func (t *Thread) pathOf(dirfd int32, addr uint64) (string, unix.Errno) {
	p, e := readString(addr, unix.PathMax)
	if e != 0 {
		return "", e
	}
	if p == "" {
		return "", unix.ENOENT
	}
	if path.IsAbs(p) {
		return p, 0
	}
	if dirfd == unix.AT_FDCWD {
		return vfs.Abs(t.p.cwd(), p), 0
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(dirfd), &st); err != nil {
		return "", unix.EBADF
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", unix.ENOTDIR
	}
	dir, err := t.p.fs.FDPath(int(dirfd))
	if err != nil {
		return "", unix.ENOENT
	}
	return vfs.Abs(dir, p), 0
}

// pathArgs is pathOf for the syscall's arguments: the directory descriptor at dirArg (or
// AT_FDCWD when dirArg < 0) and the path at pathArg.
func (t *Thread) pathArgs(dirArg, pathArg int) (string, unix.Errno) {
	dirfd := int32(unix.AT_FDCWD)
	if dirArg >= 0 {
		dirfd = int32(t.arg(dirArg))
	}
	return t.pathOf(dirfd, t.arg(pathArg))
}

// ref resolves a guest path for one syscall; write says the syscall changes the file or
// its directory (EROFS in a read-only part).
func (t *Thread) ref(guest string, how follow, write bool) (*vfs.Ref, unix.Errno) {
	var r *vfs.Ref
	var err error
	if how == followLast {
		r, err = t.p.fs.Follow(guest)
	} else {
		r, err = t.p.fs.Entry(guest)
	}
	if err != nil {
		return nil, errnoOf(err)
	}
	if write && r.ReadOnly {
		r.Close()
		return nil, unix.EROFS
	}
	return r, 0
}

func errnoOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

// pathCall makes syscall nr with its path argument at index pathArg (and the directory
// descriptor at dirArg, or -1) replaced by a reference to the confined file. Without a
// root it passes the call through.
func (t *Thread) pathCall(dirArg, pathArg int, how follow, write bool) int64 {
	return t.pathCallThen(dirArg, pathArg, how, write, nil)
}

// pathCallThen is pathCall with a step after a call that succeeded, while the reference
// is still held.
func (t *Thread) pathCallThen(dirArg, pathArg int, how follow, write bool, then func(r *vfs.Ref)) int64 {
	if t.p.fs == nil {
		return passthrough(t)
	}
	guest, e := t.pathArgs(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	r, e := t.ref(guest, how, write)
	if e != 0 {
		return -int64(e)
	}
	defer r.Close()
	args := t.args()
	if dirArg >= 0 {
		args[dirArg] = uint64(unix.AT_FDCWD & 0xffffffff) // the reference is absolute
	}
	ret := hostCall(t.ctx.Regs.RAX, args, map[int]string{pathArg: r.Path})
	if ret >= 0 && then != nil {
		then(r)
	}
	return ret
}

// atCall is pathCall for the *at syscalls whose flags (at flagArg) may hold
// AT_SYMLINK_NOFOLLOW or AT_EMPTY_PATH.
func (t *Thread) atCall(dirArg, pathArg, flagArg int, write bool) int64 {
	flags := t.arg(flagArg)
	if t.p.fs == nil {
		return passthrough(t)
	}
	if flags&unix.AT_EMPTY_PATH != 0 && t.emptyPath(pathArg) {
		// On the descriptor itself: a write to a file in a read-only part is EROFS, as
		// fchown(2) and futimens(3) on it are (fdWrite).
		if write && t.fdWrite(int(int32(t.arg(dirArg)))) {
			return -int64(unix.EROFS)
		}
		return passthrough(t)
	}
	how := followLast
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		how = entryLast
	}
	return t.pathCall(dirArg, pathArg, how, write)
}

func (t *Thread) emptyPath(arg int) bool {
	var b [1]byte
	return copyIn(t.arg(arg), b[:]) == 0 && b[0] == 0
}

// The stat calls confine their path, and count a directory's virtual children and mount
// points among its links (statLinks).
func sysStat(t *Thread) int64 {
	if r, ok := t.procExeCall(-1, 0, true); ok {
		return r
	}
	return t.pathCallThen(-1, 0, followLast, false, t.statLinks(1, false))
}
func sysLstat(t *Thread) int64 {
	if r, ok := t.procExeCall(-1, 0, false); ok {
		return r
	}
	return t.pathCallThen(-1, 0, entryLast, false, t.statLinks(1, false))
}

// fstat(2): the host's answer, but a directory with virtual children (vfs: missing
// volume mount points) counts a link for each, as newfstatat and statx do. Only the
// descriptors golos watches reach Go from a rewritten site; such a directory's are.
func sysFstat(t *Thread) int64 {
	r := passthroughFast(t)
	if r == 0 && t.p.fs != nil && t.p.fs.HasVirtual() {
		fd := int(int32(t.arg(0)))
		t.addLinks(1, false, func() uint64 { return t.p.fs.ExtraLinksFD(fd) })
	}
	return r
}

func sysNewfstatat(t *Thread) int64 {
	if r, ok := t.procExeCall(0, 1, t.arg(3)&unix.AT_SYMLINK_NOFOLLOW == 0); ok {
		return r
	}
	return t.statAt(0, 1, 3, 2, false)
}
func sysStatx(t *Thread) int64 {
	if r, ok := t.procExeCall(0, 1, t.arg(2)&unix.AT_SYMLINK_NOFOLLOW == 0); ok {
		return r
	}
	return t.statAt(0, 1, 2, 4, true)
}

// statAt is atCall for newfstatat(2) and statx(2), whose buffer is at bufArg.
func (t *Thread) statAt(dirArg, pathArg, flagArg, bufArg int, statx bool) int64 {
	if t.p.fs == nil || !t.p.fs.HasVirtual() {
		return t.atCall(dirArg, pathArg, flagArg, false)
	}
	flags := t.arg(flagArg)
	if flags&unix.AT_EMPTY_PATH != 0 && t.emptyPath(pathArg) {
		r := passthrough(t)
		if r == 0 {
			fd := int(int32(t.arg(dirArg)))
			t.addLinks(bufArg, statx, func() uint64 { return t.p.fs.ExtraLinksFD(fd) })
		}
		return r
	}
	how := followLast
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		how = entryLast
	}
	return t.pathCallThen(dirArg, pathArg, how, false, t.statLinks(bufArg, statx))
}

// statLinks is the step after a stat call on a path (its buffer at bufArg) that adds to
// a directory's link count the virtual directories and mount points it shows and its
// host directory lacks (vfs.ExtraLinks): a directory has one link from each
// subdirectory's ".." (stat(2), inode(7): st_nlink), and docker creates them.
func (t *Thread) statLinks(bufArg int, statx bool) func(r *vfs.Ref) {
	if t.p.fs == nil || !t.p.fs.HasVirtual() {
		return nil
	}
	return func(r *vfs.Ref) {
		t.addLinks(bufArg, statx, func() uint64 { return t.p.fs.ExtraLinks(r) })
	}
}

// addLinks adds extra() to the link count in the struct stat (or struct statx, with
// STATX_NLINK and STATX_TYPE in its mask) at the address in argument bufArg, when it
// describes a directory.
func (t *Thread) addLinks(bufArg int, statx bool, extra func() uint64) {
	addr := t.arg(bufArg)
	var b [32]byte
	if copyIn(addr, b[:]) != 0 {
		return
	}
	if statx {
		// struct statx: stx_mask at 0, stx_nlink at 16 (u32), stx_mode at 28 (u16).
		mask := binary.LittleEndian.Uint32(b[0:])
		if mask&(unix.STATX_NLINK|unix.STATX_TYPE) != unix.STATX_NLINK|unix.STATX_TYPE ||
			uint32(binary.LittleEndian.Uint16(b[28:]))&unix.S_IFMT != unix.S_IFDIR {
			return
		}
		if n := extra(); n > 0 {
			binary.LittleEndian.PutUint32(b[16:], binary.LittleEndian.Uint32(b[16:])+uint32(n))
			copyOut(addr+16, b[16:20])
		}
		return
	}
	// struct stat on x86-64: st_nlink at 16 (u64), st_mode at 24 (u32).
	if binary.LittleEndian.Uint32(b[24:])&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	if n := extra(); n > 0 {
		binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])+n)
		copyOut(addr+16, b[16:24])
	}
}

// procExeCall makes a stat call that follows /proc/self/exe (follow) describe the
// program's file, which Linux's link names, not golos's: when the path at pathArg
// (relative to the directory descriptor at dirArg, or -1) is that link, the call is made
// on the program's host path instead; a path through one of golos's own descriptors in
// /proc/self/fd fails with ENOENT. It reports false for any other path.
func (t *Thread) procExeCall(dirArg, pathArg int, follow bool) (int64, bool) {
	p, e := t.procPathArg(dirArg, pathArg)
	switch {
	case e != 0 || p == "":
		return 0, false
	case t.p.procOwnFD(p):
		return -int64(unix.ENOENT), true
	case !follow || !isProcSelf(p, "exe"):
		return 0, false
	}
	return hostCall(t.ctx.Regs.RAX, t.args(), map[int]string{pathArg: t.p.exePath}), true
}
func sysAccess(t *Thread) int64     { return t.accessCall(-1, 0, 1, 0) }
func sysFaccessat(t *Thread) int64  { return t.accessCall(0, 1, 2, 0) }
func sysFaccessat2(t *Thread) int64 { return t.accessCall(0, 1, 2, t.arg(3)) }
func sysMkdir(t *Thread) int64      { return t.createCall(-1, 0) }
func sysMkdirat(t *Thread) int64    { return t.createCall(0, 1) }
func sysMknodat(t *Thread) int64 {
	if e := t.mknodDevice(2, 3); e != 0 {
		return -int64(e)
	}
	return t.createCall(0, 1)
}
func sysMknod(t *Thread) int64 {
	if e := t.mknodDevice(1, 2); e != 0 {
		return -int64(e)
	}
	return t.createCall(-1, 0)
}

// mknodDevice refuses, inside a confined root, a character or block device: a device node
// reaches the host's hardware and memory whatever directory it is in, and a container
// without CAP_MKNOD gets EPERM for it (mknod(2); fs/namei.c vfs_mknod, which still lets
// an overlay whiteout, the character device 0:0, be made).
func (t *Thread) mknodDevice(modeArg, devArg int) unix.Errno {
	if t.p.fs == nil {
		return 0
	}
	switch uint32(t.arg(modeArg)) & unix.S_IFMT {
	case unix.S_IFCHR:
		if uint32(t.arg(devArg)) == 0 { // whiteout (dev is an unsigned int)
			return 0
		}
		return unix.EPERM
	case unix.S_IFBLK:
		return unix.EPERM
	}
	return 0
}
func sysRmdir(t *Thread) int64 {
	if e := t.mountPointArg(-1, 0); e != 0 {
		return -int64(e)
	}
	return t.pathCall(-1, 0, entryLast, true)
}
func sysUnlink(t *Thread) int64 { return t.pathCall(-1, 0, entryLast, true) }
func sysUnlinkat(t *Thread) int64 {
	if t.arg(2)&unix.AT_REMOVEDIR != 0 {
		if e := t.mountPointArg(0, 1); e != 0 {
			return -int64(e)
		}
	}
	return t.pathCall(0, 1, entryLast, true)
}

// mountPointArg is the error of rmdir(2) or rename(2) on the path argument when it names
// the root or a volume's mount point: EBUSY ("pathname is currently used as a mount point
// or is the root directory of the calling process"), or EROFS first when the directory
// holding the mount point is read-only, as Linux checks the parent's mount first. It is 0
// for any other path, and without a root: the host answers.
func (t *Thread) mountPointArg(dirArg, pathArg int) unix.Errno {
	if t.p.fs == nil {
		return 0
	}
	guest, e := t.pathArgs(dirArg, pathArg)
	if e != 0 {
		return 0
	}
	switch is, parentRO := t.p.fs.MountPoint(guest); {
	case !is:
		return 0
	case parentRO:
		return unix.EROFS
	}
	return unix.EBUSY
}
func sysSymlink(t *Thread) int64   { return t.createCall(-1, 1) }
func sysSymlinkat(t *Thread) int64 { return t.createCall(1, 2) }

// createCall is pathCall for mkdir(2), mknod(2) and symlink(2), which make a new entry:
// in a read-only part (or a virtual directory) an entry that exists already fails with
// EEXIST, not EROFS, as Linux looks the name up before it answers for the read-only mount
// (mkdir(2): "EEXIST pathname already exists (not necessarily as a directory)"), which
// mkdir -p counts on.
func (t *Thread) createCall(dirArg, pathArg int) int64 {
	if t.p.fs == nil {
		return passthrough(t)
	}
	guest, e := t.pathArgs(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	r, e := t.ref(guest, entryLast, false)
	if e != 0 {
		return -int64(e)
	}
	defer r.Close()
	if r.ReadOnly {
		var st unix.Stat_t
		if unix.Lstat(r.Path, &st) == nil {
			return -int64(unix.EEXIST)
		}
		return -int64(unix.EROFS)
	}
	args := t.args()
	if dirArg >= 0 {
		args[dirArg] = uint64(unix.AT_FDCWD & 0xffffffff) // the reference is absolute
	}
	return hostCall(t.ctx.Regs.RAX, args, map[int]string{pathArg: r.Path})
}
func sysChmod(t *Thread) int64      { return t.pathCall(-1, 0, followLast, true) }
func sysFchmodat(t *Thread) int64   { return t.pathCall(0, 1, followLast, true) }
func sysChown(t *Thread) int64      { return t.pathCall(-1, 0, followLast, true) }
func sysLchown(t *Thread) int64     { return t.pathCall(-1, 0, entryLast, true) }
func sysFchownat(t *Thread) int64   { return t.atCall(0, 1, 4, true) }
func sysTruncate(t *Thread) int64   { return t.pathCall(-1, 0, followLast, true) }
func sysStatfs(t *Thread) int64     { return t.pathCall(-1, 0, followLast, false) }
func sysGetxattr(t *Thread) int64   { return t.pathCall(-1, 0, followLast, false) }
func sysLgetxattr(t *Thread) int64  { return t.pathCall(-1, 0, entryLast, false) }
func sysListxattr(t *Thread) int64  { return t.pathCall(-1, 0, followLast, false) }
func sysLlistxattr(t *Thread) int64 { return t.pathCall(-1, 0, entryLast, false) }
func sysSetxattr(t *Thread) int64   { return t.pathCall(-1, 0, followLast, true) }
func sysLsetxattr(t *Thread) int64  { return t.pathCall(-1, 0, entryLast, true) }
func sysRemovexattr(t *Thread) int64 {
	return t.pathCall(-1, 0, followLast, true)
}
func sysLremovexattr(t *Thread) int64 { return t.pathCall(-1, 0, entryLast, true) }
func sysInotifyAddWatch(t *Thread) int64 {
	return t.pathCall(-1, 1, followLast, false)
}

// utimensat(2): a NULL path means the descriptor itself.
func sysUtimensat(t *Thread) int64 {
	if t.arg(1) == 0 {
		return t.fdWriteCall()
	}
	return t.atCall(0, 1, 3, true)
}

// fchmodat2(2) is fchmodat(2) with its flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.
func sysFchmodat2(t *Thread) int64 { return t.atCall(0, 1, 3, true) }

// utime(2) and utimes(2): utimensat(2) on a path, with older time structures.
func sysUtime(t *Thread) int64  { return t.pathCall(-1, 0, followLast, true) }
func sysUtimes(t *Thread) int64 { return t.pathCall(-1, 0, followLast, true) }

// access(2) and faccessat(2): W_OK in a read-only part is EROFS, as on a read-only mount.
func (t *Thread) accessCall(dirArg, pathArg, modeArg int, flags uint64) int64 {
	if t.p.fs != nil && t.arg(modeArg)&unix.W_OK != 0 {
		guest, e := t.pathArgs(dirArg, pathArg)
		if e != 0 {
			return -int64(e)
		}
		r, e := t.ref(guest, followLast, true)
		if e != 0 {
			return -int64(e)
		}
		r.Close()
	}
	how := followLast
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		how = entryLast
	}
	if flags&unix.AT_EMPTY_PATH != 0 && t.emptyPath(pathArg) {
		return passthrough(t)
	}
	return t.pathCall(dirArg, pathArg, how, false)
}

// rename(2), renameat(2), renameat2(2), link(2), linkat(2): two paths.
func sysRename(t *Thread) int64    { return t.renameCall(-1, 0, -1, 1) }
func sysRenameat(t *Thread) int64  { return t.renameCall(0, 1, 2, 3) }
func sysRenameat2(t *Thread) int64 { return t.renameCall(0, 1, 2, 3) }

func (t *Thread) renameCall(dir1, path1, dir2, path2 int) int64 {
	for _, a := range [][2]int{{dir1, path1}, {dir2, path2}} {
		if e := t.mountPointArg(a[0], a[1]); e != 0 {
			return -int64(e)
		}
	}
	return t.twoPathCall(dir1, path1, dir2, path2, entryLast)
}
func sysLink(t *Thread) int64 { return t.twoPathCall(-1, 0, -1, 1, entryLast) }
func sysLinkat(t *Thread) int64 {
	how := entryLast
	if t.arg(4)&unix.AT_SYMLINK_FOLLOW != 0 {
		how = followLast
	}
	if t.arg(4)&unix.AT_EMPTY_PATH != 0 && t.p.fs != nil {
		return -int64(unix.ENOENT) // linking an open file by descriptor: not inside a root
	}
	return t.twoPathCall(0, 1, 2, 3, how)
}

func (t *Thread) twoPathCall(dir1, path1, dir2, path2 int, how1 follow) int64 {
	if t.p.fs == nil {
		return passthrough(t)
	}
	g1, e := t.pathArgs(dir1, path1)
	if e != 0 {
		return -int64(e)
	}
	g2, e := t.pathArgs(dir2, path2)
	if e != 0 {
		return -int64(e)
	}
	if !t.p.fs.SameMount(g1, g2) {
		return -int64(unix.EXDEV) // different mounts
	}
	r1, e := t.ref(g1, how1, true)
	if e != 0 {
		return -int64(e)
	}
	defer r1.Close()
	r2, e := t.ref(g2, entryLast, true)
	if e != 0 {
		return -int64(e)
	}
	defer r2.Close()
	args := t.args()
	for _, d := range []int{dir1, dir2} {
		if d >= 0 {
			args[d] = uint64(unix.AT_FDCWD & 0xffffffff)
		}
	}
	return hostCall(t.ctx.Regs.RAX, args, map[int]string{path1: r1.Path, path2: r2.Path})
}

// readlinkat(2) and readlink(2): /proc/self/exe names the program, not golos.
func sysReadlink(t *Thread) int64 {
	return t.readlinkAt(-1, 0, t.arg(1), t.arg(2))
}

func sysReadlinkat(t *Thread) int64 {
	return t.readlinkAt(0, 1, t.arg(2), t.arg(3))
}

func (t *Thread) readlinkAt(dirArg, pathArg int, buf, size uint64) int64 {
	p, e := t.procPathArg(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	bufsiz := int(int32(size)) // readlink(2) takes an int
	if bufsiz <= 0 {
		return -int64(unix.EINVAL)
	}
	if p != "" && t.p.procOwnFD(p) {
		return -int64(unix.ENOENT) // golos's own descriptor: not open
	}
	target, virtual := "", false
	rest, self := procRest(p)
	switch {
	case p == "":
	case isProcSelf(p, "exe"):
		target, virtual = t.p.exeGuestPath, true
	case t.p.fs != nil && !t.p.procMounted():
		// no /proc inside the root: as in a chroot, nothing there
	case treeExeOK(p, &target):
		virtual = true // another process of the tree (tree_unsafe.go)
	case t.p.fs != nil && isProcSelf(p, "cwd"):
		target, virtual = t.p.cwd(), true
	case t.p.fs != nil && self && strings.HasPrefix(rest, "fd/") && !strings.HasSuffix(p, "/"):
		// /proc/self/fd/N names files as the application sees them, inside the root.
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, "fd/")); err == nil {
			if host, err := vfs.HostFDPath(n); err == nil {
				if g, ok := t.p.fs.Virtual(n); ok {
					target, virtual = g, true
				} else if g, ok := t.p.fs.Guest(host); ok {
					target, virtual = g, true
				} else if !strings.HasPrefix(host, "/") {
					target, virtual = host, true // pipe:[…], socket:[…], anon_inode:…
				}
			}
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
	return t.pathCall(dirArg, pathArg, entryLast, false)
}

// openat(2) and open(2).
func sysOpenat(t *Thread) int64 {
	return t.openAt(0, 1, t.arg(2), t.arg(3))
}

func sysOpen(t *Thread) int64 {
	return t.openAt(-1, 0, t.arg(1), t.arg(2))
}

// creat(2) is open(2) with O_CREAT|O_WRONLY|O_TRUNC (without a root the host's creat
// takes the call as it is).
func sysCreat(t *Thread) int64 {
	return t.openAt(-1, 0, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, t.arg(1))
}

func (t *Thread) openAt(dirArg, pathArg int, flags, mode uint64) int64 {
	p, e := t.procPathArg(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	if p != "" {
		if t.p.procOwnFD(p) {
			return -int64(unix.ENOENT) // golos's own descriptor: not open
		}
		if isProcSelf(p, "exe") {
			fd, err := t.p.opener(t.p.exeGuestPath)
			if err == nil && flags&unix.O_CLOEXEC == 0 {
				unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
			}
			if err != nil {
				return -int64(errnoOf(err))
			}
			return int64(fd)
		}
		if content, ok := t.procFile(p); ok {
			return t.p.virtualFile(content, int(flags))
		}
		if d := procDirOf(p); d != nil && (t.p.fs == nil || d.hide != hideNone) {
			// Watched: a path relative to it is looked at (procPathArg), its listing
			// is without golos's own descriptors or threads (sysGetdents64).
			r := passthrough(t)
			if r >= 0 {
				t.p.watchFD(int(r), d)
			}
			return r
		}
	}
	if t.p.fs == nil {
		return passthrough(t)
	}
	guest, e := t.pathArgs(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fs.Open(guest, int(flags), uint32(mode))
	if err != nil {
		return -int64(errnoOf(err))
	}
	if d := procDirOf(p); d != nil {
		t.p.watchFD(fd, d)
	} else if flags&unix.O_PATH == 0 {
		t.p.watchDir(fd)
	}
	return int64(fd)
}

// watchDir watches a descriptor just opened when it is a directory whose listing shows
// virtual directories or mount points its host directory may lack (sysGetdents64).
func (p *Process) watchDir(fd int) {
	if !p.fs.HasVirtual() {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	if g, ok := p.fs.Virtual(fd); ok {
		p.watchFD(fd, &dirWatch{guest: g, virtual: true})
		return
	}
	if g, err := p.fs.FDPath(fd); err == nil && p.fs.HasChildren(g) {
		p.watchFD(fd, &dirWatch{guest: g})
	}
}

// getcwd(2), chdir(2), fchdir(2): with a root, the working directory is a guest path.
func sysGetcwd(t *Thread) int64 {
	if t.p.fs == nil {
		return passthroughFast(t)
	}
	cwd := append([]byte(t.p.cwd()), 0)
	if uint64(len(cwd)) > t.arg(1) {
		return -int64(unix.ERANGE)
	}
	if e := copyOut(t.arg(0), cwd); e != 0 {
		return -int64(e)
	}
	return int64(len(cwd))
}

func sysChdir(t *Thread) int64 {
	if t.p.fs == nil {
		return passthrough(t)
	}
	guest, e := t.pathOf(unix.AT_FDCWD, t.arg(0))
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fs.Open(guest, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -int64(errnoOf(err))
	}
	defer unix.Close(fd)
	// The host's working directory follows, for anything that still resolves there.
	if err := unix.Fchdir(fd); err != nil {
		return -int64(errnoOf(err))
	}
	// The working directory as Linux keeps it: where the path led, symlinks resolved.
	if canon, err := t.p.fs.FDPath(fd); err == nil {
		guest = canon
	}
	t.p.setCwd(guest)
	return 0
}

func sysFchdir(t *Thread) int64 {
	if t.p.fs == nil {
		return passthroughFast(t)
	}
	guest, err := t.p.fs.FDPath(int(int32(t.arg(0))))
	if err != nil {
		return -int64(unix.EBADF)
	}
	if r := passthroughFast(t); r < 0 {
		return r
	}
	t.p.setCwd(guest)
	return 0
}

// close(2), dup2(2), dup3(2): golos's own descriptors (those of --root's mounts) are
// not there for the application.
func sysClose(t *Thread) int64 {
	fd := int(int32(t.arg(0)))
	if t.p.ownFD(fd) {
		return -int64(unix.EBADF)
	}
	t.p.unwatchFD(fd)
	return passthroughFast(t)
}

// close_range(2): the application's descriptors in [first, last] are closed (or marked
// close-on-exec with CLOSE_RANGE_CLOEXEC); golos's own in the range are skipped, as if
// they were not open. CLOSE_RANGE_UNSHARE would give the calling thread a table of its
// own, while golos's threads must share one: without it the range is closed for every
// thread of the process, which a single-threaded program cannot tell apart.
func sysCloseRange(t *Thread) int64 {
	first, last, flags := uint64(uint32(t.arg(0))), uint64(uint32(t.arg(1))), uint32(t.arg(2))
	if flags&^(unix.CLOSE_RANGE_UNSHARE|unix.CLOSE_RANGE_CLOEXEC) != 0 || first > last {
		return -int64(unix.EINVAL)
	}
	flags &^= unix.CLOSE_RANGE_UNSHARE
	own := slices.Sorted(slices.Values(t.p.ownFDs))
	lo := first
	for _, fd := range own {
		if fd := uint64(fd); fd >= lo && fd <= last {
			if fd > lo {
				if r := passthroughRaw(unix.SYS_CLOSE_RANGE, lo, fd-1, uint64(flags), 0, 0, 0); r < 0 {
					return r
				}
			}
			lo = fd + 1
		}
	}
	if lo <= last {
		if r := passthroughRaw(unix.SYS_CLOSE_RANGE, lo, last, uint64(flags), 0, 0, 0); r < 0 {
			return r
		}
	}
	if flags&unix.CLOSE_RANGE_CLOEXEC == 0 {
		var closed []int
		t.p.fdDirs.Range(func(k, _ any) bool {
			if fd := uint64(k.(int)); fd >= first && fd <= last {
				closed = append(closed, k.(int))
			}
			return true
		})
		for _, fd := range closed {
			t.p.unwatchFD(fd)
		}
	}
	return 0
}

// getdents64(2): a listing of /proc/self/fd leaves golos's own descriptors out; that of a
// directory with virtual children or mount points shows them (dirents).
func sysGetdents64(t *Thread) int64 {
	w, ok := t.p.fdDirs.Load(int(int32(t.arg(0))))
	if d, isDir := w.(*dirWatch); ok && isDir {
		return t.dirents(d)
	}
	if !ok {
		return passthrough(t)
	}
	// A numbered entry stays unless it is one of golos's descriptors (a fd listing) or
	// one of golos's own threads (a task listing).
	var hide func(int) bool
	switch d, _ := w.(*procDir); {
	case d == nil || d.hide == hideNone:
		return passthrough(t)
	case d.hide == hideThreads:
		hide = func(tid int) bool { return t.p.thread(tid) == nil }
	case len(t.p.ownFDs) == 0:
		return passthrough(t)
	default:
		hide = t.p.ownFD
	}
	for {
		n := passthrough(t)
		if n <= 0 {
			return n
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
			if v, err := strconv.Atoi(string(name)); err != nil || !hide(v) {
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

// dup(2), fcntl(2) F_DUPFD and F_DUPFD_CLOEXEC, dup2(2), dup3(2): a copy of a watched
// descriptor is watched the same way (it shares the open file, and its position).
func sysDup(t *Thread) int64 {
	old := int(int32(t.arg(0)))
	if t.p.ownFD(old) {
		return -int64(unix.EBADF)
	}
	r := passthroughFast(t)
	t.p.copyWatch(old, r)
	return r
}

func sysFcntl(t *Thread) int64 {
	old := int(int32(t.arg(0)))
	if t.p.ownFD(old) {
		return -int64(unix.EBADF)
	}
	r := passthrough(t)
	if cmd := int(int32(t.arg(1))); cmd == unix.F_DUPFD || cmd == unix.F_DUPFD_CLOEXEC {
		t.p.copyWatch(old, r)
	}
	return r
}

func sysDup2(t *Thread) int64 {
	old, nfd := int(int32(t.arg(0))), int(int32(t.arg(1)))
	if t.p.ownFD(old) || t.p.ownFD(nfd) {
		return -int64(unix.EBADF)
	}
	if old == nfd {
		return passthroughFast(t) // dup2: nothing closed; dup3: EINVAL
	}
	w, watched := t.p.fdDirs.Load(old)
	r := passthroughFast(t)
	if r >= 0 {
		t.p.unwatchFD(nfd) // closed and replaced
		if watched {
			t.p.watchFD(nfd, w)
		}
	}
	return r
}

// copyWatch watches descriptor nfd (a result: nothing if negative) as old is watched.
func (p *Process) copyWatch(old int, nfd int64) {
	if nfd < 0 {
		return
	}
	if w, ok := p.fdDirs.Load(old); ok {
		p.watchFD(int(nfd), w)
	}
}

// atArgs says where the *at syscalls take their directory descriptors: the argument of
// each descriptor and of the path relative to it, and of the flags that may hold
// AT_EMPTY_PATH (-1: none).
type atArgs struct {
	dir, path [2]int8 // a second pair of -1 when there is one only
	flags     int8
}

// ownDirFD reports whether syscall nr names a file relative to one of golos's own
// descriptors: a relative path, or an empty one with AT_EMPTY_PATH (the descriptor
// itself), or utimensat(2)'s NULL path. Such a call fails with EBADF, as with a
// descriptor that is not open (openat(2): "EBADF pathname is relative but dirfd is
// neither AT_FDCWD nor a valid file descriptor"; an absolute path ignores dirfd).
func (t *Thread) ownDirFD(nr uint64) bool {
	if nr >= uint64(len(atSyscalls)) || atSyscalls[nr] == nil || len(t.p.ownFDs) == 0 {
		return false
	}
	at := atSyscalls[nr]
	for i := range at.dir {
		if at.dir[i] < 0 || !t.p.ownFD(int(int32(t.arg(int(at.dir[i]))))) {
			continue
		}
		addr := t.arg(int(at.path[i]))
		if addr == 0 && nr == unix.SYS_UTIMENSAT {
			return true
		}
		var b [1]byte
		if copyIn(addr, b[:]) != 0 {
			return false // the host fails a bad path with EFAULT, before it looks at dirfd
		}
		switch {
		case b[0] == '/':
			continue
		case b[0] != 0:
			return true
		case at.flags >= 0 && t.arg(int(at.flags))&unix.AT_EMPTY_PATH != 0:
			return true
		}
	}
	return false
}

// args returns the six syscall arguments.
func (t *Thread) args() [6]uint64 {
	r := &t.ctx.Regs
	return [6]uint64{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
}

// setupFiles opens the root and volumes (if any) and enters the working directory.
func (p *Process) setupFiles() error {
	o := p.opts
	if o.Root == "" {
		if len(o.Volumes) > 0 {
			return fmt.Errorf("--volume needs --root")
		}
		if o.Workdir != "" {
			if err := unix.Chdir(o.Workdir); err != nil {
				return fmt.Errorf("workdir %s: %w", o.Workdir, err)
			}
		}
		return nil
	}
	fs, err := vfs.New(o.Root, o.RootReadOnly, o.Volumes)
	if err != nil {
		return fmt.Errorf("root: %w", err)
	}
	p.fs = fs
	p.ownFDs = append(p.ownFDs, fs.FDs()...)
	wd := o.Workdir
	if wd == "" {
		wd = "/"
	}
	wd = vfs.Abs("/", wd)
	fd, err := fs.Open(wd, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("workdir %s: %w", wd, err)
	}
	defer unix.Close(fd)
	if err := unix.Fchdir(fd); err != nil {
		return fmt.Errorf("workdir %s: %w", wd, err)
	}
	p.setCwd(wd)
	return nil
}

// opener opens the program and its interpreter for the loader: inside the root if there
// is one.
func (p *Process) opener(name string) (int, error) {
	if p.fs == nil {
		return loaderOpen(name)
	}
	return p.fs.Open(vfs.Abs(p.cwd(), name), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0) // as loader.HostOpener
}

func (p *Process) cwd() string {
	p.cwdMu.Lock()
	defer p.cwdMu.Unlock()
	return p.cwdPath
}

func (p *Process) setCwd(guest string) {
	p.cwdMu.Lock()
	p.cwdPath = guest
	p.cwdMu.Unlock()
}

// watchFD makes fd one of the application's descriptors whose calls golos must see: a
// rewritten site then sends them to Go too (entry.GoFDs). w says why: true for a
// /proc/self/fd listing, a *dirWatch for a directory with virtual children.
func (p *Process) watchFD(fd int, w any) {
	p.fdDirs.Store(fd, w)
	entry.GoFDs[fd&0xffff] = 1
}

// unwatchFD forgets fd, which is being closed or replaced.
func (p *Process) unwatchFD(fd int) {
	if _, ok := p.fdDirs.LoadAndDelete(fd); !ok {
		return
	}
	slot := fd & 0xffff
	still := false // another of golos's or watched descriptor with the same low 16 bits
	for _, o := range p.ownFDs {
		still = still || o&0xffff == slot
	}
	p.fdDirs.Range(func(k, _ any) bool {
		still = still || k.(int)&0xffff == slot
		return !still
	})
	if !still {
		entry.GoFDs[slot] = 0
	}
}

// ownFD reports whether fd is one of golos's own descriptors.
func (p *Process) ownFD(fd int) bool {
	for _, o := range p.ownFDs {
		if fd == o {
			return true
		}
	}
	return false
}

// Writes through a descriptor to a file in a read-only part (--root DIR:ro, a :ro volume)
// fail with EROFS, as on a read-only mount: fchmod(2), fchown(2), fsetxattr(2),
// fremovexattr(2), futimens(3).
func (t *Thread) fdWrite(fd int) bool {
	if t.p.fs == nil {
		return false
	}
	if _, ok := t.p.fs.Virtual(fd); ok {
		return true // a virtual directory is read-only (package vfs)
	}
	host, err := vfs.HostFDPath(fd)
	return err == nil && t.p.fs.ReadOnlyHost(host)
}

func (t *Thread) fdWriteCall() int64 {
	if t.fdWrite(int(int32(t.arg(0)))) {
		return -int64(unix.EROFS)
	}
	return passthrough(t)
}

func sysFchmod(t *Thread) int64       { return t.fdWriteCall() }
func sysFchown(t *Thread) int64       { return t.fdWriteCall() }
func sysFsetxattr(t *Thread) int64    { return t.fdWriteCall() }
func sysFremovexattr(t *Thread) int64 { return t.fdWriteCall() }

// procMounted reports whether the root has a /proc (a --volume of the host's).
func (p *Process) procMounted() bool {
	fd, err := p.fs.Open("/proc/self", unix.O_PATH, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// dirWatch is a watched descriptor of a directory whose listing must show virtual
// directories or mount points its host directory lacks (vfs.MissingChildren).
type dirWatch struct {
	mu      sync.Mutex
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
		ents := append([]vfs.Child{{Name: ".", Ino: st.Ino}, {Name: "..", Ino: t.p.fs.Ino(path.Dir(d.guest))}},
			t.p.fs.MissingChildren(d.guest, fd)...)
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
		d.tail, d.end, d.next, d.kids = true, end, 0, t.p.fs.MissingChildren(d.guest, fd)
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
// padded to 8 bytes), all directories; off(i) is entry i's d_off. It returns the bytes
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
		copy(rec[19:], e.Name)
		buf = append(buf, rec...)
		n++
	}
	return buf, n
}
