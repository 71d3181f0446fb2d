package kernel

import (
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// uprobe(2) and uretprobe(2), x86-64's calls for the kernel's own uprobe trampolines
// (arch/x86/kernel/uprobes.c). The program has no trampolines (golos's process has none
// either: no uprobes are set on it), so each answers as Linux does for a call from
// anywhere else.

// uprobe(2): ENXIO outside a trampoline (Linux 6.16: in_uprobe_trampoline), and the
// host's check gives that, or ENOSYS on a kernel without it, without acting.
func sysUprobe(t *Thread) int64 { return passthroughFast(t) }

// uretprobe(2): outside the trampoline, Linux 6.11 and later force SIGILL on the caller
// (force_sig: a blocked or ignored SIGILL is unblocked and set back to its default, as
// force_sig_info_to_task does) and return -1. The host's would be raised in golos's own
// thread, so golos raises it in the program's; on an older host, ENOSYS, as there.
func sysUretprobe(t *Thread) int64 {
	if !hostKernelAtLeast(6, 11) {
		return -int64(unix.ENOSYS)
	}
	const siKernel = 0x80
	sig := int(unix.SIGILL)
	hand := t.p.sighand
	hand.mu.Lock()
	if t.sigmask&sigBit(sig) != 0 || hand.actions[sig].Handler == abi.SIG_IGN {
		hand.actions[sig].Handler = abi.SIG_DFL
		t.sigmask &^= sigBit(sig)
	}
	hand.mu.Unlock()
	t.p.sendThread(t, siginfo{signo: int32(sig), code: siKernel})
	return -1
}

var hostRelease = sync.OnceValue(func() [2]int {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return [2]int{}
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	var v [2]int
	for i := 0; i < 2 && i < len(parts); i++ {
		n := strings.IndexFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' })
		if n < 0 {
			n = len(parts[i])
		}
		v[i], _ = strconv.Atoi(parts[i][:n])
	}
	return v
})

// hostKernelAtLeast reports whether the host's kernel is version major.minor or later.
func hostKernelAtLeast(major, minor int) bool {
	v := hostRelease()
	return v[0] > major || v[0] == major && v[1] >= minor
}
