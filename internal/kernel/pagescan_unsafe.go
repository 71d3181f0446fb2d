package kernel

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PAGEMAP_SCAN (Linux 6.7; Documentation/admin-guide/mm/pagemap.rst) finds the pages of a
// range that are in memory or swapped out by walking its page tables, skipping at once
// what has none. Reading /proc/self/pagemap (8 bytes a page) or calling mincore(2) (a
// byte a page) costs in proportion to the range instead: AddressSanitizer's shadow is
// regions of terabytes mapped with MAP_NORESERVE, almost none of it there, over which a
// fork of an ASan program read gigabytes of pagemap for minutes. Where the ioctl is
// missing (ENOTTY, EINVAL on older kernels) the callers fall back to the per-page reads.

// pagemapScanMissing is set once the host has answered that it has no PAGEMAP_SCAN, so
// that a fork does not ask again for each region.
var pagemapScanMissing atomic.Bool

// PAGEMAP_SCAN's page categories (include/uapi/linux/fs.h).
const (
	pageIsFile    = 1 << 2
	pageIsPresent = 1 << 3
	pageIsSwapped = 1 << 4
)

// scanPages calls fn for each run of pages of [lo, hi) that are present or swapped out,
// with their categories (pageIsPresent, pageIsSwapped, pageIsFile: a page of a file or of
// shared anonymous memory, not the process's own). It returns false, having called fn for
// nothing, if PAGEMAP_SCAN cannot be used on pm.
func scanPages(pm int, lo, hi uint64, fn func(start, end, categories uint64)) bool {
	if pagemapScanMissing.Load() {
		return false
	}
	vec := make([]pageRegion, 256)
	var found []pageRegion
	for start := lo; start < hi; {
		arg := pmScanArg{size: uint64(unsafe.Sizeof(pmScanArg{})), start: start, end: hi,
			vec: uint64(uintptr(unsafe.Pointer(&vec[0]))), vecLen: uint64(len(vec)),
			categoryAnyofMask: pageIsPresent | pageIsSwapped,
			returnMask:        pageIsPresent | pageIsSwapped | pageIsFile}
		n, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(pm), pagemapScan, uintptr(unsafe.Pointer(&arg)))
		if e != 0 {
			if e == unix.ENOTTY {
				pagemapScanMissing.Store(true) // a kernel before 6.7: not asked again
			}
			return false
		}
		found = append(found, vec[:n]...)
		if arg.walkEnd <= start || arg.walkEnd >= hi {
			break
		}
		start = arg.walkEnd // the vector was full: on from where the walk stopped
	}
	for _, r := range found {
		fn(r.start, r.end, r.categories)
	}
	return true
}

// ownPages reports whether pages of categories are the process's own: swapped out, or
// present and not a file's (pagemap's pmSwapped, pmPresent without pmFileOrSh).
func ownPages(categories uint64) bool {
	return categories&pageIsSwapped != 0 || categories&pageIsPresent != 0 && categories&pageIsFile == 0
}
