package sandbox

import (
	"testing"

	"golang.org/x/sys/unix"
)

// run interprets the classic BPF program prog (the few instructions filter uses:
// linux/filter.h) on a struct seccomp_data with nr and arch, and returns its verdict.
func run(t *testing.T, prog []unix.SockFilter, nr, arch uint32) uint32 {
	t.Helper()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case 0:
				a = nr
			case 4:
				a = arch
			default:
				t.Fatalf("load of seccomp_data offset %d", in.K)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var cond bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				cond = a == in.K
			case unix.BPF_JGE:
				cond = a >= in.K
			default:
				cond = a&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("instruction %d: unexpected code %#x", pc, in.Code)
		}
	}
	t.Fatal("the program runs off its end")
	return 0
}

// TestFilter: the seccomp program allows what golos and programs need, refuses the
// calls --sandbox promises to refuse with EPERM, and unknown, x32 and i386 numbers with
// ENOSYS (seccomp(2): SECCOMP_RET_ERRNO carries the errno in its low 16 bits).
func TestFilter(t *testing.T) {
	prog := filter()
	if len(prog) > 255 {
		t.Fatalf("%d instructions: the conditional jumps' 8-bit offsets cannot reach the returns", len(prog))
	}
	const x86 = unix.AUDIT_ARCH_X86_64
	allow, eperm, enosys := uint32(unix.SECCOMP_RET_ALLOW), uint32(unix.SECCOMP_RET_ERRNO|1), uint32(unix.SECCOMP_RET_ERRNO|38)
	for _, nr := range []uint32{unix.SYS_READ, unix.SYS_OPENAT, unix.SYS_MMAP, unix.SYS_CLONE, unix.SYS_CLONE3,
		unix.SYS_EXECVE, unix.SYS_WAIT4, unix.SYS_RT_SIGRETURN, unix.SYS_PRCTL, unix.SYS_ARCH_PRCTL,
		unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PIDFD_OPEN, unix.SYS_SOCKET,
		unix.SYS_LANDLOCK_CREATE_RULESET, unix.SYS_EXIT_GROUP} {
		if got := run(t, prog, nr, x86); got != allow {
			t.Errorf("syscall %d: %#x, want allowed", nr, got)
		}
	}
	for _, nr := range []uint32{unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_FSOPEN,
		unix.SYS_MOVE_MOUNT, unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_PTRACE, unix.SYS_BPF,
		unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_KEYCTL, unix.SYS_ADD_KEY,
		unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD, unix.SYS_IO_URING_SETUP,
		unix.SYS_IO_URING_ENTER, unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_REBOOT,
		unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_IOPL, unix.SYS_KCMP} {
		if got := run(t, prog, nr, x86); got != eperm {
			t.Errorf("syscall %d: %#x, want EPERM", nr, got)
		}
	}
	for _, c := range []struct {
		nr, arch uint32
	}{{1000, x86}, {0xffffffff, x86}, {0x40000000 | unix.SYS_READ, x86}, {0x40000000 | unix.SYS_MOUNT, x86},
		{unix.SYS_READ, unix.AUDIT_ARCH_I386}, {21 /* i386 mount */, unix.AUDIT_ARCH_I386}} {
		if got := run(t, prog, c.nr, c.arch); got != enosys {
			t.Errorf("syscall %#x, arch %#x: %#x, want ENOSYS", c.nr, c.arch, got)
		}
	}
}
