package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// A vfork(2) child runs in its parent's memory on Linux until it execs or ends: what it
// writes there (a global the parent reads afterwards, an errno left for the parent as
// posix_spawn's children do) the parent sees. golos's child has a copy, so it tracks what
// it writes and gives it back (vforkShare): its golos registers the program's writable
// private regions with a userfaultfd(2) in asynchronous write-protect mode
// (UFFD_FEATURE_WP_ASYNC, Linux 6.7: a write only clears the page's protection, no
// fault reaches a handler, and the kernel's own writes into the page, read(2)'s, are
// counted too), write-protects them, and when the child execs or ends, asks
// PAGEMAP_SCAN (Documentation/admin-guide/mm/pagemap.rst) for the pages written since:
// the parent copies those into its own memory, as the child's stack frame before.
//
// Only for a parent with one thread: another of its threads, running meanwhile, may
// write another part of a page the child wrote, which a page's copy would undo. Without
// userfaultfd (seccomp, an older kernel) only the stack frame is given back.

// The kernel's ABI (include/uapi/linux/userfaultfd.h, include/uapi/linux/fs.h).
const (
	uffdAPI              = 0xaa
	uffdUserModeOnly     = 1       // UFFD_USER_MODE_ONLY: allowed without privilege
	uffdFeatureWPUnpop   = 1 << 13 // UFFD_FEATURE_WP_UNPOPULATED: pages not yet there are protected too
	uffdFeatureWPAsync   = 1 << 15 // UFFD_FEATURE_WP_ASYNC
	uffdioAPI            = 0xc018aa3f
	uffdioRegister       = 0xc020aa00
	uffdioWriteprotect   = 0xc018aa06
	uffdioRegisterModeWP = 1 << 1
	uffdioWPModeWP       = 1 << 0
	pagemapScan          = 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pageIsWritten        = 1 << 1
)

type uffdioAPIArg struct{ api, features, ioctls uint64 }

type uffdioRegisterArg struct{ start, len, mode, ioctls uint64 }

type uffdioWriteprotectArg struct{ start, len, mode uint64 }

type pageRegion struct{ start, end, categories uint64 }

type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages uint64
	categoryInverted, categoryMask, categoryAnyofMask       uint64
	returnMask                                              uint64
}

// vforkWrites is this golos's tracking of a vfork child's writes: the userfaultfd and
// the regions it protects (one process per golos, so one tracking).
var vforkWrites struct {
	uffd    int
	regions [][2]uint64
}

// trackWrites starts tracking the writes of the program into its writable private
// regions maps; p keeps the userfaultfd as one of golos's descriptors. Where it cannot,
// nothing is tracked.
func (p *Process) trackWrites(maps []forkMapping) {
	if vforkLazy.on {
		p.trackWritesLazy(maps) // the parent serves the anonymous memory (vforklazy_unsafe.go)
		return
	}
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK|uffdUserModeOnly, 0, 0)
	if e != 0 {
		return
	}
	uffd, err := vfs.MoveHigh(int(fd))
	if err != nil {
		return
	}
	api := uffdioAPIArg{api: uffdAPI, features: uffdFeatureWPAsync | uffdFeatureWPUnpop}
	if ioctlPtr(uffd, uffdioAPI, unsafe.Pointer(&api)) != 0 {
		unix.Close(uffd)
		return
	}
	var regions [][2]uint64
	for _, m := range maps {
		if !vforkTracked(&m) {
			// Shared memory is the parent's already; a write elsewhere faults; a
			// writable code page may hold sites the child's golos rewrote to stubs
			// the parent does not have; a region of vforkTrackMax or more would take
			// too long to protect.
			continue
		}
		reg := uffdioRegisterArg{start: m.Lo, len: m.Hi - m.Lo, mode: uffdioRegisterModeWP}
		if ioctlPtr(uffd, uffdioRegister, unsafe.Pointer(&reg)) != 0 {
			continue
		}
		wp := uffdioWriteprotectArg{start: m.Lo, len: m.Hi - m.Lo, mode: uffdioWPModeWP}
		if ioctlPtr(uffd, uffdioWriteprotect, unsafe.Pointer(&wp)) != 0 {
			continue
		}
		regions = append(regions, [2]uint64{m.Lo, m.Hi})
	}
	vforkWrites.uffd, vforkWrites.regions = uffd, regions
	p.files.own(uffd)
}

// writtenRanges are the ranges of pages the program has written in the tracked regions
// since trackWrites.
func (p *Process) writtenRanges() [][2]uint64 {
	if len(vforkWrites.regions) == 0 {
		return nil
	}
	pm := p.mm.pagemap
	if pm < 0 {
		return nil
	}
	var out [][2]uint64
	vec := make([]pageRegion, 256)
	for _, r := range vforkWrites.regions {
		for start := r[0]; start < r[1]; {
			arg := pmScanArg{size: uint64(unsafe.Sizeof(pmScanArg{})), start: start, end: r[1],
				vec: uint64(uintptr(unsafe.Pointer(&vec[0]))), vecLen: uint64(len(vec)),
				categoryMask: pageIsWritten, returnMask: pageIsWritten}
			n, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(pm), pagemapScan, uintptr(unsafe.Pointer(&arg)))
			if e != 0 {
				break // unmapped since, or no PAGEMAP_SCAN: what was found is given
			}
			for _, v := range vec[:n] {
				out = append(out, [2]uint64{v.start, v.end})
			}
			if arg.walkEnd <= start || arg.walkEnd >= r[1] {
				break
			}
			start = arg.walkEnd // the vector was full: on from where the walk stopped
		}
	}
	return out
}

// stopTrackingWrites ends the tracking (an execve in place replaces the memory).
func (p *Process) stopTrackingWrites() {
	if vforkWrites.uffd > 0 {
		unix.Close(vforkWrites.uffd)
		p.dropOwnFD(vforkWrites.uffd)
	}
	vforkWrites.uffd, vforkWrites.regions = 0, nil
	p.endVforkLazy() // the memory the parent serves is replaced too (vforklazy_unsafe.go)
}

func ioctlPtr(fd int, req uintptr, arg unsafe.Pointer) unix.Errno {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	return e
}
