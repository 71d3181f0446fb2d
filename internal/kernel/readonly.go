package kernel

import (
	"encoding/binary"

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

func sysFchmod(t *Thread) int64 {
	if ps, _ := t.procSnapshotArg(); ps != nil {
		// A /proc file of golos's making: procfs refuses a new mode to a process's
		// files (fs/proc/base.c, proc_setattr: ATTR_MODE is EPERM), where the memfd
		// would take it.
		return -int64(unix.EPERM)
	}
	return t.fdWriteCall()
}

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

// The requests that freeze and thaw a filesystem (FIFREEZE, FITHAW: fs/ioctl.c,
// ioctl_fsfreeze, ioctl_fsthaw) and those that share a file's extents with another file
// (FICLONE, FICLONERANGE, FIDEDUPERANGE: ioctl_file_clone, ioctl_file_clone_range,
// ioctl_file_dedupe_range), whose other descriptor is an argument or in a struct. The
// uapi numbers, from linux/fs.h. fastEntry sends them to Go by their low 16 bits
// (entry.PlainIoctl); keep the two lists alike.
const (
	fiFreeze      = 0xc0045877 // _IOWR('X', 119, int)
	fiThaw        = 0xc0045878 // _IOWR('X', 120, int)
	fiClone       = 0x40049409 // _IOW(0x94, 9, int)
	fiCloneRange  = 0x4020940d // _IOW(0x94, 13, struct file_clone_range)
	fiDedupeRange = 0xc0189436 // _IOWR(0x94, 54, struct file_dedupe_range)
)

// ioctl(2): the requests above on a file in a read-only part of the root fail with EROFS,
// as on a read-only mount; without this a program could make a file of a ":ro" volume
// immutable or append-only (chattr +i, +a), or seal it with fs-verity, on the host.
// FIFREEZE and FITHAW fail with EPERM in a root, as in a container without CAP_SYS_ADMIN
// in the filesystem's user namespace: frozen, the host's filesystem would stop every
// writer on the machine. The clone and dedupe requests never take one of golos's own
// descriptors for their other one (cloneCall, dedupeCall). Any other request goes through
// as it is.
func sysIoctl(t *Thread) int64 {
	switch uint32(t.arg(1)) {
	case fsIocSetflags, fsIocFssetxattr, fsIocSetversion, fsIocEnableVerity, fsIocSetEncryptPolicy, fsIocSetfslabel:
		return t.fdWriteCall()
	case fiFreeze, fiThaw:
		if t.p.fsctx.root == nil {
			break
		}
		// A descriptor that is not open is EBADF first (fs/ioctl.c, sys_ioctl's fdget).
		if _, err := unix.FcntlInt(uintptr(int32(t.arg(0))), unix.F_GETFD, 0); err != nil {
			return -int64(errnoOf(err))
		}
		return -int64(unix.EPERM)
	case fiClone, fiCloneRange:
		return t.cloneCall()
	case fiDedupeRange:
		return t.dedupeCall()
	}
	return passthrough(t)
}

// cloneCall is FICLONE (the source descriptor the third argument) and FICLONERANGE (the
// source descriptor in a struct file_clone_range: src_fd, src_offset, src_length,
// dest_offset). A source that is one of golos's own descriptors is not open for the
// program: EBADF, as ioctl_file_clone answers for one that is not. The destination, the
// first argument, takes writes: on a read-only mount it cannot be open for writing, and
// Linux answers EBADF for one that is not (vfs_clone_file_range,
// generic_file_rw_checks), as the host does here; one open for writing in a read-only
// part of the root (inherited, say) is refused with EROFS, as golos refuses the writes of
// the other descriptor calls there. golos reads the struct once and gives the host its
// copy, so that another thread cannot put one of golos's descriptors there after the
// check.
func (t *Thread) cloneCall() int64 {
	// The kernel takes the descriptor as an unsigned int (fdget), whatever the bits
	// above.
	src := int(uint32(t.arg(2)))
	var rng []byte
	if uint32(t.arg(1)) == fiCloneRange {
		rng = heapBytes(32)
		if e := copyIn(t.arg(2), rng); e != 0 {
			return -int64(e)
		}
		src = int(uint32(binary.LittleEndian.Uint64(rng)))
	}
	if t.p.ownFD(src) {
		return -int64(unix.EBADF)
	}
	if dst := int(int32(t.arg(0))); t.fdWrite(dst) {
		if fl, err := unix.FcntlInt(uintptr(dst), unix.F_GETFL, 0); err == nil && fl&unix.O_ACCMODE != unix.O_RDONLY {
			return -int64(unix.EROFS)
		}
	}
	if rng == nil {
		return passthrough(t)
	}
	r := &t.ctx.Regs
	return callWithBytes(t, [6]uint64{r.RDI, r.RSI, 0, r.R10, r.R8, r.R9}, 2, rng, true)
}

// dedupeCall is FIDEDUPERANGE: the first argument is the source, and a struct
// file_dedupe_range names the destinations (src_offset, src_length, dest_count,
// reserved1, reserved2, then dest_count struct file_dedupe_range_info: dest_fd,
// dest_offset, bytes_deduped, status, reserved). Linux gives each destination a status of
// its own (fs/remap_range.c, vfs_dedupe_file_range): -EBADF for a descriptor that is not
// open, which golos's own are not for the program, and -EROFS for one on a read-only
// mount (mnt_want_write_file in vfs_dedupe_file_range_one), which a read-only part of
// the root is, when its reserved field is 0 (else -EINVAL first). golos reads the struct
// once (ioctl_file_dedupe_range: dest_count first, then the whole, at most a page:
// ENOMEM beyond), gives the host its copy with -1 for those destinations, sets their
// status, and writes the struct back as Linux does.
func (t *Thread) dedupeCall() int64 {
	const head, info = 24, 32 // sizeof struct file_dedupe_range, file_dedupe_range_info
	addr := t.arg(2)
	var cnt [2]byte
	if e := copyIn(addr+16, cnt[:]); e != 0 {
		return -int64(e)
	}
	n := int(binary.LittleEndian.Uint16(cnt[:]))
	size := head + n*info
	if size > 4096 {
		return -int64(unix.ENOMEM)
	}
	b := heapBytes(size)
	if e := copyIn(addr, b); e != 0 {
		return -int64(e)
	}
	binary.LittleEndian.PutUint16(b[16:], uint16(n)) // as counted: the program may have changed it since
	type refusal struct {
		fd    uint64 // dest_fd as the program gave it
		errno unix.Errno
	}
	refused := map[int]refusal{}
	for i := range n {
		d := b[head+i*info:]
		given := binary.LittleEndian.Uint64(d)
		fd := int(uint32(given)) // an unsigned int to the kernel (fdget)
		switch {
		case t.p.ownFD(fd):
			refused[i] = refusal{given, unix.EBADF}
		case t.fdWrite(fd):
			refused[i] = refusal{given, unix.EROFS}
			if binary.LittleEndian.Uint32(d[28:]) != 0 {
				refused[i] = refusal{given, unix.EINVAL}
			}
		default:
			continue
		}
		binary.LittleEndian.PutUint64(d, ^uint64(0))
	}
	r := &t.ctx.Regs
	ret := callWithBytes(t, [6]uint64{r.RDI, r.RSI, 0, r.R10, r.R8, r.R9}, 2, b, true)
	if ret < 0 {
		return ret
	}
	for i, r := range refused {
		d := b[head+i*info:]
		binary.LittleEndian.PutUint64(d, r.fd)
		binary.LittleEndian.PutUint64(d[16:], 0)                       // bytes_deduped
		binary.LittleEndian.PutUint32(d[24:], uint32(-int32(r.errno))) // status
	}
	if e := copyOut(addr, b); e != 0 {
		return -int64(e)
	}
	return ret
}
