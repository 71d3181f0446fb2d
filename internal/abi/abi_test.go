package abi

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Each struct's size and field offsets, and each constant, against the C headers: a C
// program prints the C side (sizeof, offsetof, the macros) and the Go side comes from
// unsafe.Sizeof and unsafe.Offsetof of the structs golos copies in and out. The kernel's
// own layouts (its struct sigaction, struct clone_args) come from its uapi headers, which
// glibc's <signal.h> cannot be included with; the rest from the C library's headers.
func TestLayoutMatchesCHeaders(t *testing.T) {
	var (
		sa Sigaction
		ss StackT
		ca CloneArgs
		si Siginfo
		rl Rlimit
		ts Timespec
		uc Ucontext
		fr RtSigframe
		st Stat
		sx Statx
		mh Msghdr
		cm Cmsghdr
		mm Mmsghdr
		rh RobustListHead
		oh OpenHow
		fp SockFprog
		sf SockFilter
	)
	var mc Sigcontext // uc.Mcontext
	mcAt := int64(unsafe.Offsetof(uc.Mcontext))
	greg := func(i int64) int64 { return mcAt + int64(unsafe.Offsetof(mc.Gregs)) + 8*i }
	type check struct {
		c   string // a C expression
		got int64
	}
	kernel := []check{
		{"sizeof(struct sigaction)", int64(unsafe.Sizeof(sa))},
		{"offsetof(struct sigaction, sa_handler)", int64(unsafe.Offsetof(sa.Handler))},
		{"offsetof(struct sigaction, sa_flags)", int64(unsafe.Offsetof(sa.Flags))},
		{"offsetof(struct sigaction, sa_restorer)", int64(unsafe.Offsetof(sa.Restorer))},
		{"offsetof(struct sigaction, sa_mask)", int64(unsafe.Offsetof(sa.Mask))},
		{"sizeof(((struct sigaction *)0)->sa_mask)", int64(unsafe.Sizeof(sa.Mask))},
		{"sizeof(struct clone_args)", int64(unsafe.Sizeof(ca))},
		{"offsetof(struct clone_args, flags)", int64(unsafe.Offsetof(ca.Flags))},
		{"offsetof(struct clone_args, pidfd)", int64(unsafe.Offsetof(ca.Pidfd))},
		{"offsetof(struct clone_args, child_tid)", int64(unsafe.Offsetof(ca.ChildTid))},
		{"offsetof(struct clone_args, parent_tid)", int64(unsafe.Offsetof(ca.ParentTid))},
		{"offsetof(struct clone_args, exit_signal)", int64(unsafe.Offsetof(ca.ExitSignal))},
		{"offsetof(struct clone_args, stack)", int64(unsafe.Offsetof(ca.Stack))},
		{"offsetof(struct clone_args, stack_size)", int64(unsafe.Offsetof(ca.StackSize))},
		{"offsetof(struct clone_args, tls)", int64(unsafe.Offsetof(ca.TLS))},
		{"offsetof(struct clone_args, set_tid)", int64(unsafe.Offsetof(ca.SetTid))},
		{"offsetof(struct clone_args, set_tid_size)", int64(unsafe.Offsetof(ca.SetTidSize))},
		{"offsetof(struct clone_args, cgroup)", int64(unsafe.Offsetof(ca.Cgroup))},
		{"sizeof(struct ucontext)", int64(unsafe.Sizeof(uc))},
		{"offsetof(struct ucontext, uc_flags)", int64(unsafe.Offsetof(uc.Flags))},
		{"offsetof(struct ucontext, uc_link)", int64(unsafe.Offsetof(uc.Link))},
		{"offsetof(struct ucontext, uc_stack)", int64(unsafe.Offsetof(uc.Stack))},
		{"offsetof(struct ucontext, uc_mcontext)", mcAt},
		{"offsetof(struct ucontext, uc_sigmask)", int64(unsafe.Offsetof(uc.Sigmask))},
		{"sizeof(((struct ucontext *)0)->uc_sigmask)", int64(unsafe.Sizeof(uc.Sigmask))},
		{"sizeof(struct sigcontext)", int64(unsafe.Sizeof(mc))},
		{"offsetof(struct sigcontext, r8)", int64(unsafe.Offsetof(mc.Gregs))},
		{"offsetof(struct sigcontext, rsp)", int64(unsafe.Offsetof(mc.Gregs)) + 15*8},
		{"offsetof(struct sigcontext, rip)", int64(unsafe.Offsetof(mc.Gregs)) + 16*8},
		{"offsetof(struct sigcontext, eflags)", int64(unsafe.Offsetof(mc.Gregs)) + 17*8},
		{"offsetof(struct sigcontext, cs)", int64(unsafe.Offsetof(mc.CSGSFS))},
		{"offsetof(struct sigcontext, err)", int64(unsafe.Offsetof(mc.Err))},
		{"offsetof(struct sigcontext, trapno)", int64(unsafe.Offsetof(mc.Trapno))},
		{"offsetof(struct sigcontext, oldmask)", int64(unsafe.Offsetof(mc.Oldmask))},
		{"offsetof(struct sigcontext, cr2)", int64(unsafe.Offsetof(mc.CR2))},
		{"offsetof(struct sigcontext, fpstate)", int64(unsafe.Offsetof(mc.Fpstate))},
		// struct rt_sigframe is the kernel's own (arch/x86/include/asm/sigframe.h): a
		// pointer, then struct ucontext, then siginfo.
		{"sizeof(char *)", int64(unsafe.Offsetof(fr.Uc))},
		{"sizeof(char *) + sizeof(struct ucontext)", int64(unsafe.Offsetof(fr.Info))},
		{"sizeof(char *) + sizeof(struct ucontext) + 128", int64(unsafe.Sizeof(fr))},
		{"sizeof(char *) + sizeof(struct ucontext) + 128", RtSigframeSize},
		{"UC_FP_XSTATE", UC_FP_XSTATE},
		{"UC_SIGCONTEXT_SS", UC_SIGCONTEXT_SS},
		{"UC_STRICT_RESTORE_SS", UC_STRICT_RESTORE_SS},
		{"sizeof(struct robust_list_head)", int64(unsafe.Sizeof(rh))},
		{"offsetof(struct robust_list_head, list.next)", int64(unsafe.Offsetof(rh.Next))},
		{"offsetof(struct robust_list_head, futex_offset)", int64(unsafe.Offsetof(rh.FutexOffset))},
		{"offsetof(struct robust_list_head, list_op_pending)", int64(unsafe.Offsetof(rh.ListOpPending))},
		{"sizeof(struct open_how)", int64(unsafe.Sizeof(oh))},
		{"offsetof(struct open_how, flags)", int64(unsafe.Offsetof(oh.Flags))},
		{"offsetof(struct open_how, mode)", int64(unsafe.Offsetof(oh.Mode))},
		{"offsetof(struct open_how, resolve)", int64(unsafe.Offsetof(oh.Resolve))},
		{"sizeof(struct open_how)", OpenHowSizeVer0}, // OPEN_HOW_SIZE_VER0 is not in the uapi headers
		{"sizeof(struct sock_fprog)", int64(unsafe.Sizeof(fp))},
		{"offsetof(struct sock_fprog, len)", int64(unsafe.Offsetof(fp.Len))},
		{"offsetof(struct sock_fprog, filter)", int64(unsafe.Offsetof(fp.Filter))},
		{"sizeof(struct sock_filter)", int64(unsafe.Sizeof(sf))},
		{"offsetof(struct sock_filter, code)", int64(unsafe.Offsetof(sf.Code))},
		{"offsetof(struct sock_filter, jt)", int64(unsafe.Offsetof(sf.Jt))},
		{"offsetof(struct sock_filter, jf)", int64(unsafe.Offsetof(sf.Jf))},
		{"offsetof(struct sock_filter, k)", int64(unsafe.Offsetof(sf.K))},
		{"CLONE_ARGS_SIZE_VER0", CloneArgsSizeVer0},
		{"CLONE_ARGS_SIZE_VER1", CloneArgsSizeVer1},
		{"CLONE_ARGS_SIZE_VER2", CloneArgsSizeVer2},
		{"SA_RESTORER", SA_RESTORER},
		{"MINSIGSTKSZ", MINSIGSTKSZ},
		{"(int)SS_AUTODISARM", SS_AUTODISARM},
	}
	libc := []check{
		{"sizeof(stack_t)", int64(unsafe.Sizeof(ss))},
		{"offsetof(stack_t, ss_sp)", int64(unsafe.Offsetof(ss.SP))},
		{"offsetof(stack_t, ss_flags)", int64(unsafe.Offsetof(ss.Flags))},
		{"offsetof(stack_t, ss_size)", int64(unsafe.Offsetof(ss.Size))},
		{"sizeof(siginfo_t)", int64(unsafe.Sizeof(si))},
		{"offsetof(siginfo_t, si_signo)", int64(unsafe.Offsetof(si.Signo))},
		{"offsetof(siginfo_t, si_errno)", int64(unsafe.Offsetof(si.Errno))},
		{"offsetof(siginfo_t, si_code)", int64(unsafe.Offsetof(si.Code))},
		{"offsetof(siginfo_t, si_pid)", int64(unsafe.Offsetof(si.Pid))},
		{"offsetof(siginfo_t, si_uid)", int64(unsafe.Offsetof(si.Uid))},
		{"offsetof(siginfo_t, si_value)", int64(unsafe.Offsetof(si.Value))},
		{"offsetof(siginfo_t, si_addr)", int64(unsafe.Offsetof(si.Pid))}, // Addr overlays Pid, Uid
		// glibc's ucontext_t, which the application's handlers read, up to uc_sigmask.
		{"offsetof(ucontext_t, uc_flags)", int64(unsafe.Offsetof(uc.Flags))},
		{"offsetof(ucontext_t, uc_stack)", int64(unsafe.Offsetof(uc.Stack))},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_R8])", greg(0)},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_RDI])", greg(8)},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_RAX])", greg(13)},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_RSP])", greg(15)},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP])", greg(16)},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_EFL])", greg(17)},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_CSGSFS])", mcAt + int64(unsafe.Offsetof(mc.CSGSFS))},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_ERR])", mcAt + int64(unsafe.Offsetof(mc.Err))},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_TRAPNO])", mcAt + int64(unsafe.Offsetof(mc.Trapno))},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_OLDMASK])", mcAt + int64(unsafe.Offsetof(mc.Oldmask))},
		{"offsetof(ucontext_t, uc_mcontext.gregs[REG_CR2])", mcAt + int64(unsafe.Offsetof(mc.CR2))},
		{"offsetof(ucontext_t, uc_mcontext.fpregs)", mcAt + int64(unsafe.Offsetof(mc.Fpstate))},
		{"offsetof(ucontext_t, uc_sigmask)", int64(unsafe.Offsetof(uc.Sigmask))},
		{"sizeof(struct stat)", int64(unsafe.Sizeof(st))},
		{"offsetof(struct stat, st_nlink)", int64(unsafe.Offsetof(st.Nlink))},
		{"offsetof(struct stat, st_mode)", int64(unsafe.Offsetof(st.Mode))},
		{"sizeof(struct statx)", int64(unsafe.Sizeof(sx))},
		{"offsetof(struct statx, stx_mask)", int64(unsafe.Offsetof(sx.Mask))},
		{"offsetof(struct statx, stx_nlink)", int64(unsafe.Offsetof(sx.Nlink))},
		{"offsetof(struct statx, stx_mode)", int64(unsafe.Offsetof(sx.Mode))},
		{"sizeof(struct msghdr)", int64(unsafe.Sizeof(mh))},
		{"offsetof(struct msghdr, msg_name)", int64(unsafe.Offsetof(mh.Name))},
		{"offsetof(struct msghdr, msg_namelen)", int64(unsafe.Offsetof(mh.Namelen))},
		{"offsetof(struct msghdr, msg_control)", int64(unsafe.Offsetof(mh.Control))},
		{"offsetof(struct msghdr, msg_controllen)", int64(unsafe.Offsetof(mh.Controllen))},
		{"offsetof(struct msghdr, msg_namelen)", MsghdrNamelenOffset},
		{"sizeof(struct mmsghdr)", int64(unsafe.Sizeof(mm))},
		{"offsetof(struct mmsghdr, msg_hdr)", int64(unsafe.Offsetof(mm.Hdr))},
		{"offsetof(struct mmsghdr, msg_len)", int64(unsafe.Offsetof(mm.Len))},
		{"offsetof(struct mmsghdr, msg_len)", MmsghdrLenOffset},
		{"sizeof(struct cmsghdr)", int64(unsafe.Sizeof(cm))},
		{"sizeof(struct cmsghdr)", SizeofCmsghdr},
		{"CMSG_DATA((struct cmsghdr *)0) - (unsigned char *)0", SizeofCmsghdr},
		{"offsetof(struct cmsghdr, cmsg_len)", int64(unsafe.Offsetof(cm.Len))},
		{"offsetof(struct cmsghdr, cmsg_level)", int64(unsafe.Offsetof(cm.Level))},
		{"offsetof(struct cmsghdr, cmsg_type)", int64(unsafe.Offsetof(cm.Type))},
		{"sizeof(struct rlimit)", int64(unsafe.Sizeof(rl))},
		{"offsetof(struct rlimit, rlim_cur)", int64(unsafe.Offsetof(rl.Cur))},
		{"offsetof(struct rlimit, rlim_max)", int64(unsafe.Offsetof(rl.Max))},
		{"sizeof(struct timespec)", int64(unsafe.Sizeof(ts))},
		{"offsetof(struct timespec, tv_sec)", int64(unsafe.Offsetof(ts.Sec))},
		{"offsetof(struct timespec, tv_nsec)", int64(unsafe.Offsetof(ts.Nsec))},
		{"SIG_DFL", SIG_DFL},
		{"SIG_IGN", SIG_IGN},
		{"SA_NOCLDSTOP", SA_NOCLDSTOP},
		{"SA_NOCLDWAIT", SA_NOCLDWAIT},
		{"SA_SIGINFO", SA_SIGINFO},
		{"SA_ONSTACK", SA_ONSTACK},
		{"SA_RESTART", SA_RESTART},
		{"SA_NODEFER", SA_NODEFER},
		{"(unsigned)SA_RESETHAND", SA_RESETHAND},
		{"SS_ONSTACK", SS_ONSTACK},
		{"SS_DISABLE", SS_DISABLE},
		{"SI_USER", SI_USER},
		{"SI_QUEUE", SI_QUEUE},
		{"SI_TIMER", SI_TIMER},
		{"SI_TKILL", SI_TKILL},
	}
	dir := t.TempDir()
	for _, p := range []struct {
		name, headers string
		checks        []check
	}{
		{"kernel", "#include <stddef.h>\n#include <asm/signal.h>\n#include <linux/signal.h>\n#include <linux/sched.h>\n#include <asm/sigcontext.h>\n#include <asm/ucontext.h>\n#include <linux/futex.h>\n#include <linux/openat2.h>\n#include <linux/filter.h>\n", kernel},
		{"libc", "#define _GNU_SOURCE\n#include <stddef.h>\n#include <signal.h>\n#include <sys/resource.h>\n#include <sys/ucontext.h>\n#include <sys/stat.h>\n#include <sys/socket.h>\n#include <time.h>\n", libc},
	} {
		var src strings.Builder
		src.WriteString(p.headers + "#include <stdio.h>\nint main(void) {\n")
		for _, k := range p.checks {
			fmt.Fprintf(&src, "\tprintf(\"%%lld\\n\", (long long)(%s));\n", k.c)
		}
		src.WriteString("\treturn 0;\n}\n")
		c := filepath.Join(dir, p.name+".c")
		if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, p.name)
		if out, err := exec.Command("gcc", "-o", bin, c).CombinedOutput(); err != nil {
			t.Fatalf("gcc (the README's test command installs it): %v\n%s", err, out)
		}
		out, err := exec.Command(bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Fields(string(out))
		if len(lines) != len(p.checks) {
			t.Fatalf("%s: %d values printed for %d checks", p.name, len(lines), len(p.checks))
		}
		for i, k := range p.checks {
			want, err := strconv.ParseInt(lines[i], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if k.got != want {
				t.Errorf("%s: Go has %d, the C headers %d", k.c, k.got, want)
			}
		}
	}
}

// CopyStructIn against include/linux/uaccess.h's copy_struct_from_user, over a memory of
// 4096 readable bytes at 0x10000: the user's size decides what is read, zeros fill a
// short struct, a long one needs zeros past what golos knows (E2BIG otherwise), and any
// byte it must read that is not readable is EFAULT.
func TestCopyStructIn(t *testing.T) {
	const base, size = 0x10000, 4096
	mem := make([]byte, size)
	read := func(buf []byte, addr uint64) bool {
		if addr < base || addr+uint64(len(buf)) > base+size || addr+uint64(len(buf)) < addr {
			return false
		}
		copy(buf, mem[addr-base:])
		return true
	}
	for i := range mem {
		mem[i] = 0xaa
	}
	clear(mem[2048:]) // zeros from 2048 on
	for _, tc := range []struct {
		name        string
		addr, usize uint64
		want        unix.Errno
		filled      int // bytes of the 88 read from memory (0xaa); the rest must be zero
	}{
		{"shorter: the rest is zero", base, 64, 0, 64},
		{"the same size", base, 88, 0, 88},
		{"longer, zeros past 88", base + 2048 - 88, 88 + 2048, 0, 88},
		{"longer, a byte past 88 not zero", base, 96, unix.E2BIG, -1},
		{"longer, the last byte not zero", base + 2048 - 88 - 1, 88 + 1, unix.E2BIG, -1},
		{"ends at the memory's end", base + size - 64, 64, 0, 0},
		{"a byte past the memory's end", base + size - 64, 65, unix.EFAULT, -1},
		{"a tail past the memory's end", base + size - 88, 88 + 200, unix.EFAULT, -1},
		{"no memory", 8, 64, unix.EFAULT, -1},
		{"wraps around", ^uint64(0) - 10, 64, unix.EFAULT, -1},
	} {
		var ca CloneArgs
		for i := range Bytes(&ca) {
			Bytes(&ca)[i] = 0x55 // what was there before must not survive
		}
		got := CopyStructIn(read, Bytes(&ca), tc.addr, tc.usize)
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		if tc.filled < 0 {
			continue
		}
		b := Bytes(&ca)
		for i, x := range b {
			want := byte(0)
			if i < tc.filled && tc.addr-base+uint64(i) < 2048 {
				want = 0xaa
			}
			if x != want {
				t.Errorf("%s: byte %d is %#x, want %#x", tc.name, i, x, want)
				break
			}
		}
	}
}
