package kernel

import (
	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// EROFS for the descriptor calls that change a file in a read-only part of the root.

// Writes through a descriptor to a file in a read-only part (--root DIR:ro, a :ro volume)
// fail with EROFS, as on a read-only mount: fchmod(2), fchown(2), fsetxattr(2),
// fremovexattr(2), futimens(3).
func (t *Thread) fdWrite(fd int) bool {
	if t.p.fsctx.root == nil {
		return false
	}
	if _, ok := t.p.fsctx.root.Virtual(fd); ok {
		return true // a virtual directory is read-only (package vfs)
	}
	host, err := vfs.HostFDPath(fd)
	return err == nil && t.p.fsctx.root.ReadOnlyHost(host)
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
