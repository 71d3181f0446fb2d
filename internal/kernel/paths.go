package kernel

import (
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// Path resolution inside the root, and the *at syscalls' directory descriptors.

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
	return t.pathOfString(dirfd, p)
}

// pathOfString is pathOf for a path golos has read already.
func (t *Thread) pathOfString(dirfd int32, p string) (string, unix.Errno) {
	if p == "" {
		return "", unix.ENOENT
	}
	if path.IsAbs(p) {
		return p, 0
	}
	if dirfd == unix.AT_FDCWD {
		cwd := t.p.cwd()
		if strings.HasPrefix(cwd, unreachable) {
			return t.p.unreachableRel(cwd, p)
		}
		return vfs.Abs(cwd, p), 0
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(dirfd), &st); err != nil {
		return "", unix.EBADF
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", unix.ENOTDIR
	}
	dir, err := t.p.fsctx.root.FDPath(int(dirfd))
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

// passthroughPath makes the thread's syscall on the host with golos's copy of its path
// (raw, read from the argument at pathArg) in place of the program's, which another of
// its threads may have changed since golos looked at it: to /proc/self/fd/N of one of
// golos's own descriptors, say, which the host would then reach. Blocking as passthrough.
func (t *Thread) passthroughPath(pathArg int, raw string) int64 {
	b := heapBytes(len(raw) + 1)
	copy(b, raw)
	return callWithBytes(t, t.args(), pathArg, b, true)
}

// ref resolves a guest path for one syscall; write says the syscall changes the file or
// its directory (EROFS in a read-only part).
func (t *Thread) ref(guest string, how follow, write bool) (*vfs.Ref, unix.Errno) {
	var r *vfs.Ref
	var err error
	if how == followLast {
		r, err = t.p.fsctx.root.Follow(guest)
	} else {
		r, err = t.p.fsctx.root.Entry(guest)
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

// pathCall makes syscall nr with its path argument at index pathArg (and the directory
// descriptor at dirArg, or -1) replaced by a reference to the confined file. Without a
// root it passes the call through.
func (t *Thread) pathCall(dirArg, pathArg int, how follow, write bool) int64 {
	return t.pathCallThen(dirArg, pathArg, how, write, nil)
}

// pathCallThen is pathCall with a step after a call that succeeded, while the reference
// is still held.
func (t *Thread) pathCallThen(dirArg, pathArg int, how follow, write bool, then func(r *vfs.Ref)) int64 {
	if t.p.fsctx.root == nil {
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

// onDescriptor makes the call whose path (at pathArg) emptyPath found empty, with
// AT_EMPTY_PATH, on its descriptor: with golos's own empty path in place of the
// program's, which another of the program's threads may change once golos has looked (to
// an absolute host path, which the host would take as it is, outside the root).
func (t *Thread) onDescriptor(pathArg int) int64 {
	return hostCall(t.ctx.Regs.RAX, t.args(), map[int]string{pathArg: ""})
}

// atCall is pathCall for the *at syscalls whose flags (at flagArg) may hold
// AT_SYMLINK_NOFOLLOW or AT_EMPTY_PATH.
func (t *Thread) atCall(dirArg, pathArg, flagArg int, write bool) int64 {
	flags := t.arg(flagArg)
	if t.p.fsctx.root == nil {
		return passthrough(t)
	}
	if flags&unix.AT_EMPTY_PATH != 0 && t.emptyPath(pathArg) {
		// On the descriptor itself: a write to a file in a read-only part is EROFS, as
		// fchown(2) and futimens(3) on it are (fdWrite).
		if write && t.fdWrite(int(int32(t.arg(dirArg)))) {
			return -int64(unix.EROFS)
		}
		return t.onDescriptor(pathArg)
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
	if nr >= uint64(len(atSyscalls)) || atSyscalls[nr] == nil || len(t.p.files.ownFDs) == 0 {
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
