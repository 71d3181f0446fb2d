package kernel

import (
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From the host, a golos process is golos: ps, pgrep, podman top, start-stop-daemon and
// systemd read the host's /proc/PID/cmdline and environ, which showed "golos run …" or
// "golos fork-child 4040 7f…" where a native run shows the program, renamed by
// setproctitle or not. The host kernel reads those files from the memory between the
// process's mm->arg_start…arg_end and env_start…env_end (fs/proc/base.c), which
// prctl(PR_SET_MM, PR_SET_MM_MAP) sets, without privilege when the executable is left as
// it is (kernel/sys.c, prctl_set_mm_map: only a new exe_fd needs
// CAP_CHECKPOINT_RESTORE). golos points them at the program's strings, so the host shows
// what the program's own /proc shows (cmdline.go). A kernel without
// CONFIG_CHECKPOINT_RESTORE, or a seccomp filter that refuses the call, leaves golos's.

// prctlMMMap is struct prctl_mm_map (include/uapi/linux/prctl.h).
type prctlMMMap struct {
	startCode, endCode, startData, endData uint64
	startBrk, brk, startStack              uint64
	argStart, argEnd, envStart, envEnd     uint64
	auxv                                   uint64
	auxvSize, exeFD                        uint32
}

const (
	prSetMM    = 35 // PR_SET_MM
	prSetMMMap = 14 // PR_SET_MM_MAP
)

// setHostCmdline makes the host's /proc/<this process>/cmdline and environ read the
// program's strings at args and env. Every other field of the map must be given too,
// and is given as it is: brk(0), and the fields of golos's own image, which no exec in
// place changes, read once (hostImage).
func setHostCmdline(args, env [2]uint64) {
	if args[1] < args[0] || env[1] < env[0] {
		return
	}
	img, ok := hostImage()
	if !ok {
		return // not readable as expected: leave the host's view alone
	}
	brk, _, _ := unix.RawSyscall(unix.SYS_BRK, 0, 0, 0)
	m := img
	m.brk = uint64(brk)
	m.argStart, m.argEnd, m.envStart, m.envEnd = args[0], args[1], env[0], env[1]
	unix.RawSyscall6(unix.SYS_PRCTL, prSetMM, prSetMMMap, uintptr(unsafe.Pointer(&m)), unsafe.Sizeof(m), 0, 0)
}

// hostImage is the map's fields of golos's process image, from /proc/self/stat
// (proc(5): startcode, endcode, startstack, start_data, end_data, start_brk), read at the
// first call: golos's image is the host's exec's, which the program's execs in place
// leave as it is.
var hostImage = sync.OnceValues(func() (prctlMMMap, bool) {
	raw, err := readHostFile("/proc/self/stat")
	if err != nil {
		return prctlMMMap{}, false
	}
	_, f, ok := statFields(raw)
	if !ok {
		return prctlMMMap{}, false
	}
	field := func(n int) uint64 { // n as proc(5) numbers them: f[0] is field 3
		if n-3 >= len(f) {
			return 0
		}
		v, _ := strconv.ParseUint(f[n-3], 10, 64)
		return v
	}
	m := prctlMMMap{
		startCode: field(26), endCode: field(27), startStack: field(28),
		startData: field(45), endData: field(46), startBrk: field(47),
		exeFD: ^uint32(0), // the executable stays golos's
	}
	return m, m.startCode != 0 && m.endCode > m.startCode
})
