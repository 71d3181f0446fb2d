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

// ioctl(2) requests that change a file's attributes take write access to its mount
// (mnt_want_write_file) before anything else of theirs but reading their argument: the
// inode flags chattr(1) sets (FS_IOC_SETFLAGS: fs/file_attr.c, ioctl_setflags) and their
// extended form (FS_IOC_FSSETXATTR, ioctl_fssetxattr), the inode generation
// (FS_IOC_SETVERSION: fs/ext4/ioctl.c), fs-verity (FS_IOC_ENABLE_VERITY:
// fs/verity/enable.c), an encryption policy (FS_IOC_SET_ENCRYPTION_POLICY:
// fs/crypto/policy.c) and the filesystem's label (FS_IOC_SETFSLABEL). The uapi numbers,
// from linux/fs.h, linux/fsverity.h and linux/fscrypt.h.
const (
	fsIocSetflags         = 0x40086602
	fsIocFssetxattr       = 0x401c5820
	fsIocSetversion       = 0x40087602
	fsIocEnableVerity     = 0x40806685
	fsIocSetEncryptPolicy = 0x800c6613
	fsIocSetfslabel       = 0x41009432
)

// ioctl(2): the requests above on a file in a read-only part of the root fail with EROFS,
// as on a read-only mount; without this a program could make a file of a ":ro" volume
// immutable or append-only (chattr +i, +a), or seal it with fs-verity, on the host. Any
// other request goes through as it is.
func sysIoctl(t *Thread) int64 {
	switch uint32(t.arg(1)) {
	case fsIocSetflags, fsIocFssetxattr, fsIocSetversion, fsIocEnableVerity, fsIocSetEncryptPolicy, fsIocSetfslabel:
		return t.fdWriteCall()
	}
	return passthrough(t)
}
