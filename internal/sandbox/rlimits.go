package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// limitCore sets the sandbox's resource limits: RLIMIT_CORE's soft limit goes to 0, its
// hard limit is kept, so that a program may raise it again (setrlimit(2)) as natively.
// golos writes no core file whatever the limit (kernel's dieOf: golos's address space is
// not the program's), so 0 is what the program gets; a core file written into the root
// would also be a file the program did not ask for (core(5)).
//
// Nothing else is lowered, as Docker sets no limit of its own by default (the engine's
// are inherited) and podman's for root are ones no program reaches (RLIMIT_NOFILE
// 1048576, RLIMIT_NPROC 4194304, the highest pid_max): RLIMIT_NPROC counts the user's
// processes on the whole host, whatever the pid namespace, binds no root process
// (kernel/fork.c, copy_process: INIT_USER is exempt), and for another user is already
// the user's own, which a finite one could only make fail where the program runs
// natively (golos's threads count too). The sandbox's tasks are bounded otherwise
// (pids.go), by RLIMIT_NPROC only where no pids cgroup can be made (limitNproc).
func limitCore() error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		return fmt.Errorf("RLIMIT_CORE: %w", err)
	}
	rl.Cur = 0
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		return fmt.Errorf("set RLIMIT_CORE: %w", err)
	}
	return nil
}

// limitNproc sets RLIMIT_NPROC, soft and hard, to n tasks: where Spawn could make no pids
// cgroup (pids.go), in the sandbox's user namespace, whose tasks alone it then counts.
func limitNproc(n int) error {
	if err := unix.Setrlimit(unix.RLIMIT_NPROC, &unix.Rlimit{Cur: uint64(n), Max: uint64(n)}); err != nil {
		return fmt.Errorf("set RLIMIT_NPROC to --pids-limit's %d: %w", n, err)
	}
	return nil
}
