package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// madvise(2)'s fork advice: MADV_DONTFORK leaves a region out of a fork's child, and
// MADV_WIPEONFORK gives the child a private anonymous region zero-filled (kernel/fork.c,
// dup_mmap: VM_DONTCOPY and VM_WIPEONFORK). A fork of golos's is no host fork: the child's
// golos maps the regions and copies their contents itself, so the advice, kept by the
// host on the regions, is read back from /proc/self/smaps ("dc" and "wf" among VmFlags,
// proc(5)) at a fork, and only by a process that gave it: smaps costs a walk of every
// page table, which other forks do not pay.

// vmaForkFlags is the fork advice of one region.
type vmaForkFlags struct{ dontCopy, wipe bool }

// forkAdvice says whether madvise's advice is fork advice (include/uapi/asm-generic/mman-common.h).
func forkAdvice(advice uint64) bool {
	return advice == unix.MADV_DONTFORK || advice == unix.MADV_WIPEONFORK
}

// readForkAdvice returns the regions with fork advice, by their bounds as /proc/self/maps
// gives them.
func readForkAdvice() (map[[2]uint64]vmaForkFlags, error) {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, fmt.Errorf("read the memory map's flags: %w", err)
	}
	out := map[[2]uint64]vmaForkFlags{}
	var cur [2]uint64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			var f vmaForkFlags
			for _, fl := range strings.Fields(rest) {
				f.dontCopy = f.dontCopy || fl == "dc"
				f.wipe = f.wipe || fl == "wf"
			}
			if f.dontCopy || f.wipe {
				out[cur] = f
			}
			continue
		}
		// A region's first line: "lo-hi perms offset dev inode path".
		field, _, _ := strings.Cut(line, " ")
		lo, hi, ok := strings.Cut(field, "-")
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(lo, 16, 64)
		h, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil {
			cur = [2]uint64{l, h}
		}
	}
	return out, nil
}
