package kernel

import "golang.org/x/sys/unix"

// The syscalls that name a file by its path, other than open, stat and readlink.

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
	if t.p.fsctx.root == nil {
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
	defer t.lockPaths()()
	return t.pathCall(-1, 0, entryLast, true)
}
func sysUnlink(t *Thread) int64 {
	if e := t.fileMountArg(-1, 0); e != 0 {
		return -int64(e)
	}
	return t.pathCall(-1, 0, entryLast, true)
}
func sysUnlinkat(t *Thread) int64 {
	if t.arg(2)&unix.AT_REMOVEDIR != 0 {
		if e := t.mountPointArg(0, 1); e != 0 {
			return -int64(e)
		}
		defer t.lockPaths()()
	} else if e := t.fileMountArg(0, 1); e != 0 {
		return -int64(e)
	}
	return t.pathCall(0, 1, entryLast, true)
}

// fileMountArg is mountPointArg for unlink(2) of a file volume's mount point, which
// fails as Linux fails it for a file bind-mounted there (vfs_unlink: EBUSY for
// is_local_mountpoint), instead of removing the host's file.
func (t *Thread) fileMountArg(dirArg, pathArg int) unix.Errno {
	if t.p.fsctx.root == nil {
		return 0
	}
	if guest, e := t.pathArgs(dirArg, pathArg); e != 0 || !t.p.fsctx.root.FileMount(guest) {
		return 0
	}
	return t.mountPointArg(dirArg, pathArg)
}

// mountPointArg is the error of rmdir(2) or rename(2) on the path argument when it names
// the root or a volume's mount point: EBUSY ("pathname is currently used as a mount point
// or is the root directory of the calling process"), or EROFS first when the directory
// holding the mount point is read-only, as Linux checks the parent's mount first. It is 0
// for any other path, and without a root: the host answers.
func (t *Thread) mountPointArg(dirArg, pathArg int) unix.Errno {
	if t.p.fsctx.root == nil {
		return 0
	}
	guest, e := t.pathArgs(dirArg, pathArg)
	if e != 0 {
		return 0
	}
	switch is, parentRO := t.p.fsctx.root.MountPoint(guest); {
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
	if t.p.fsctx.root == nil {
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

// futimesat(2): utimes(2) relative to a directory descriptor; a NULL path means the
// descriptor itself, as utimensat(2)'s (fs/utimes.c, do_futimesat and do_utimes).
func sysFutimesat(t *Thread) int64 {
	if t.arg(1) == 0 {
		return t.fdWriteCall()
	}
	return t.pathCall(0, 1, followLast, true)
}

// The *xattrat calls (Linux 6.13) and file_getattr(2), file_setattr(2) (Linux 6.17): the
// xattr calls and FS_IOC_FSGETXATTR's attributes relative to a directory descriptor, with
// AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH in their flags (fs/xattr.c, fs/file_attr.c).
func sysSetxattrat(t *Thread) int64    { return t.atCall(0, 1, 2, true) }
func sysGetxattrat(t *Thread) int64    { return t.atCall(0, 1, 2, false) }
func sysListxattrat(t *Thread) int64   { return t.atCall(0, 1, 2, false) }
func sysRemovexattrat(t *Thread) int64 { return t.atCall(0, 1, 2, true) }
func sysFileGetattr(t *Thread) int64   { return t.atCall(0, 1, 4, false) }
func sysFileSetattr(t *Thread) int64   { return t.atCall(0, 1, 4, true) }

// utime(2) and utimes(2): utimensat(2) on a path, with older time structures.
func sysUtime(t *Thread) int64  { return t.pathCall(-1, 0, followLast, true) }
func sysUtimes(t *Thread) int64 { return t.pathCall(-1, 0, followLast, true) }

// access(2) and faccessat(2): W_OK in a read-only part is EROFS, as on a read-only mount.
func (t *Thread) accessCall(dirArg, pathArg, modeArg int, flags uint64) int64 {
	// A /proc/self/… path answers for the program: its exe is the program's file, and
	// golos's own descriptors and threads are not there (procExeCall).
	if r, ok := t.procExeCall(dirArg, pathArg, flags&unix.AT_SYMLINK_NOFOLLOW == 0); ok {
		return r
	}
	if t.p.fsctx.root != nil && t.arg(modeArg)&unix.W_OK != 0 {
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
		return t.onDescriptor(pathArg)
	}
	return t.pathCall(dirArg, pathArg, how, false)
}

// rename(2), renameat(2), renameat2(2), link(2), linkat(2): two paths.
func sysRename(t *Thread) int64    { return t.renameCall(-1, 0, -1, 1) }
func sysRenameat(t *Thread) int64  { return t.renameCall(0, 1, 2, 3) }
func sysRenameat2(t *Thread) int64 { return t.renameCall(0, 1, 2, 3) }

func (t *Thread) renameCall(dir1, path1, dir2, path2 int) int64 {
	defer t.lockPaths()()
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
	if t.arg(4)&unix.AT_EMPTY_PATH != 0 && t.p.fsctx.root != nil {
		return -int64(unix.ENOENT) // linking an open file by descriptor: not inside a root
	}
	return t.twoPathCall(0, 1, 2, 3, how)
}

func (t *Thread) twoPathCall(dir1, path1, dir2, path2 int, how1 follow) int64 {
	if t.p.fsctx.root == nil {
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
	if !t.p.fsctx.root.SameMount(g1, g2) {
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
