package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// taskSizeMax is the end of the user address space that the host's kernel accepts for an
// FS or GS base (arch_prctl(2) ARCH_SET_FS and ARCH_SET_GS, clone's CLONE_SETTLS):
// TASK_SIZE_MAX, which is 1<<47 - 4096 with 4-level paging but 1<<56 - 4096 where the
// kernel runs with 5-level paging on a CPU with LA57 (task_size_max() in
// arch/x86/include/asm/page_64.h; do_arch_prctl_64 and copy_thread check against it). A
// base between the two is a canonical user address there, which Linux accepts and golos
// must too. The rest of golos keeps to userEnd, the 47-bit window that Linux gives every
// mapping that does not ask for more (Documentation/arch/x86/x86_64/5level-paging.rst).
var taskSizeMax = sync.OnceValue(func() uint64 {
	// With 5-level paging, mmap places a mapping above 47 bits when its hint is there, and
	// never without 5-level paging (the hint is then out of range and ignored).
	const hint = 1 << 52
	addr, _, e := unix.Syscall6(unix.SYS_MMAP, hint, pageSize, unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if e != 0 {
		return userEnd
	}
	_, _, _ = unix.Syscall(unix.SYS_MUNMAP, addr, pageSize, 0)
	if addr >= 1<<47 {
		return 1<<56 - pageSize
	}
	return userEnd
})

// baseBeyondUser reports whether base is past the user address space for an FS or GS
// base, as the host's kernel counts it (taskSizeMax). A base below the 47-bit window, as
// every program's is, is answered without the probe, which then costs only the programs
// that give a base above it.
func baseBeyondUser(base uint64) bool { return base >= userEnd && base >= taskSizeMax() }
