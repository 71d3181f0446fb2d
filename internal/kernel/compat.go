package kernel

import "golang.org/x/sys/unix"

// A 64-bit program may still make a syscall of the 32-bit ABI with int $0x80: Linux runs
// it as i386's syscall (arch/x86/entry/common.c, do_int80_syscall_32: i386's numbers, its
// arguments in EBX, ECX, EDX, ESI, EDI, EBP, its structures), and Syscall User Dispatch
// traps it like any other, with the number in EAX. Taken as an x86-64 syscall it would be
// another call altogether (i386's exit, 1, is x86-64's write; its write, 4, is stat), so
// golos answers ENOSYS, as Linux does for i386 syscalls without IA32 emulation
// (ia32_emulation=0) and golos's --sandbox filter does (internal/sandbox/seccomp.go). The
// program's seccomp filters are not run: they would be shown an x86-64 call.

// int80 says whether the syscall that trapped was made with int $0x80 (CD 80), which ends
// where the trap left RIP, as a syscall instruction (0F 05) does.
func (t *Thread) int80() bool {
	var b [2]byte
	return t.ctx.Regs.RIP >= 2 && copyIn(t.ctx.Regs.RIP-2, b[:]) == 0 && b == [2]byte{0xcd, 0x80}
}

// compatSyscall answers a syscall made with int $0x80: ENOSYS in RAX, every other register
// as it was (the int $0x80 path leaves RCX and R11 alone, where sysret clobbers them).
func (t *Thread) compatSyscall() {
	t.p.unsupported("a 32-bit syscall (int $0x80)", "golos runs x86-64 programs, and i386's syscall numbers and structures are not x86-64's; the program gets ENOSYS")
	ret := -int64(unix.ENOSYS)
	t.ctx.Regs.RAX = uint64(ret)
}
