package kernel

import (
	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/vfs"
)

// The stat calls: confined paths, directories' link counts, /proc/self/exe.

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
	if r == 0 && t.p.fsctx.root != nil && t.p.fsctx.root.HasVirtual() {
		fd := int(int32(t.arg(0)))
		t.addLinks(1, false, func() uint64 { return t.p.fsctx.root.ExtraLinksFD(fd) })
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
	if t.p.fsctx.root == nil || !t.p.fsctx.root.HasVirtual() {
		return t.atCall(dirArg, pathArg, flagArg, false)
	}
	flags := t.arg(flagArg)
	if flags&unix.AT_EMPTY_PATH != 0 && t.emptyPath(pathArg) {
		r := t.onDescriptor(pathArg)
		if r == 0 {
			fd := int(int32(t.arg(dirArg)))
			t.addLinks(bufArg, statx, func() uint64 { return t.p.fsctx.root.ExtraLinksFD(fd) })
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
	if t.p.fsctx.root == nil || !t.p.fsctx.root.HasVirtual() {
		return nil
	}
	return func(r *vfs.Ref) {
		t.addLinks(bufArg, statx, func() uint64 { return t.p.fsctx.root.ExtraLinks(r) })
	}
}

// addLinks adds extra() to the link count in the struct stat (or struct statx, with
// STATX_NLINK and STATX_TYPE in its mask) at the address in argument bufArg, when it
// describes a directory.
func (t *Thread) addLinks(bufArg int, statx bool, extra func() uint64) {
	addr := t.arg(bufArg)
	if statx {
		var sx abi.Statx
		if copyIn(addr, abi.Bytes(&sx)) != 0 {
			return
		}
		if sx.Mask&(unix.STATX_NLINK|unix.STATX_TYPE) != unix.STATX_NLINK|unix.STATX_TYPE ||
			uint32(sx.Mode)&unix.S_IFMT != unix.S_IFDIR {
			return
		}
		if n := extra(); n > 0 {
			sx.Nlink += uint32(n)
			copyOut(addr, abi.Bytes(&sx))
		}
		return
	}
	var st abi.Stat
	if copyIn(addr, abi.Bytes(&st)) != 0 {
		return
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return
	}
	if n := extra(); n > 0 {
		st.Nlink += n
		copyOut(addr, abi.Bytes(&st))
	}
}

// procExeCall makes a stat call that follows /proc/self/exe (follow) describe the
// program's file, which Linux's link names, not golos's: when the path at pathArg
// (relative to the directory descriptor at dirArg, or -1) is that link, the call is made
// on the program's host path instead; a path through one of golos's own descriptors in
// /proc/self/fd, or through the task directory of one of golos's own threads, fails with
// ENOENT (procHidden). Without a root it makes any other call too, on the host with the
// path it looked at (passthroughPath); with one it reports false for any other path.
func (t *Thread) procExeCall(dirArg, pathArg int, follow bool) (int64, bool) {
	p, raw, e := t.procPathArgRaw(dirArg, pathArg)
	switch {
	case e != 0:
		return 0, false
	case p != "" && t.p.procHidden(p):
		return -int64(unix.ENOENT), true
	case p == "" || !follow || !isProcSelf(p, "exe"):
		if t.p.fsctx.root == nil {
			return t.passthroughPath(pathArg, raw), true
		}
		return 0, false
	}
	return hostCall(t.ctx.Regs.RAX, t.args(), map[int]string{pathArg: t.p.mm.exePath}), true
}
