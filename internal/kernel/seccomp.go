package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// seccomp(2) filters. A filter the program installs cannot be given to the host: the
// host's would bind golos's own runtime, which shares the program's process and makes
// syscalls the program's filter knows nothing of. So golos runs the program's filters
// itself, on each syscall the program makes, before it handles it: the classic BPF
// program over struct seccomp_data, and the action it returns, as Linux's
// __seccomp_filter does (kernel/seccomp.c, Documentation/userspace-api/seccomp_filter.rst).
// A process with a filter makes every syscall through golos's handler (no direct path
// from a rewritten site: setPlainSyscalls), and a filter is inherited by new threads, by
// a fork's child and across execve, as on Linux.
//
// What golos does not do: SECCOMP_RET_TRACE and SECCOMP_RET_USER_NOTIF find no tracer
// and no listener (a listener's descriptor, SECCOMP_FILTER_FLAG_NEW_LISTENER, is refused),
// so the syscall fails with ENOSYS as Linux's does then; SECCOMP_RET_LOG writes no audit
// record.

// seccompFilter is one filter of a thread's chain; prev is the one installed before it.
// A chain is never changed once made: threads share it.
type seccompFilter struct {
	prog []bpfInsn
	prev *seccompFilter
}

// bpfInsn is struct sock_filter (include/uapi/linux/filter.h).
type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// Classic BPF (include/uapi/linux/bpf_common.h, filter.h).
const (
	bpfLD, bpfLDX, bpfST, bpfSTX, bpfALU, bpfJMP, bpfRET, bpfMISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07

	bpfW                           = 0x00
	bpfIMM, bpfABS, bpfMEM, bpfLEN = 0x00, 0x20, 0x60, 0x80

	bpfADD, bpfSUB, bpfMUL, bpfDIV, bpfOR, bpfAND, bpfLSH, bpfRSH, bpfNEG, bpfXOR = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0xa0

	bpfJA, bpfJEQ, bpfJGT, bpfJGE, bpfJSET = 0x00, 0x10, 0x20, 0x30, 0x40

	bpfK, bpfX = 0x00, 0x08
	bpfA       = 0x10 // BPF_RET's source

	bpfTAX, bpfTXA = 0x00, 0x80

	bpfMaxInsns  = 4096  // BPF_MAXINSNS
	bpfMemWords  = 16    // BPF_MEMWORDS
	maxPathInsns = 32768 // MAX_INSNS_PER_PATH (kernel/seccomp.c)

	seccompDataSize = 64         // struct seccomp_data
	auditArchX8664  = 0xc000003e // AUDIT_ARCH_X86_64 (include/uapi/linux/audit.h)

	seccompModeStrict, seccompModeFilter = 1, 2 // SECCOMP_MODE_* (include/uapi/linux/seccomp.h)
)

// seccompValid checks a filter as Linux's bpf_check_classic and seccomp_check_filter do:
// the operations seccomp allows, loads of whole aligned words of seccomp_data, scratch
// memory in range, no division by a constant zero or shift past 31, jumps forward and
// inside the program, a return at the end.
func seccompValid(prog []bpfInsn) bool {
	for pc, in := range prog {
		left := uint32(len(prog) - pc - 1)
		switch in.code {
		case bpfLD | bpfW | bpfABS:
			if in.k >= seccompDataSize || in.k&3 != 0 {
				return false
			}
		case bpfLD | bpfW | bpfLEN, bpfLDX | bpfW | bpfLEN, bpfRET | bpfK, bpfRET | bpfA,
			bpfLD | bpfIMM, bpfLDX | bpfIMM, bpfMISC | bpfTAX, bpfMISC | bpfTXA,
			bpfALU | bpfNEG:
		case bpfALU | bpfADD | bpfK, bpfALU | bpfADD | bpfX, bpfALU | bpfSUB | bpfK, bpfALU | bpfSUB | bpfX,
			bpfALU | bpfMUL | bpfK, bpfALU | bpfMUL | bpfX, bpfALU | bpfDIV | bpfX,
			bpfALU | bpfAND | bpfK, bpfALU | bpfAND | bpfX, bpfALU | bpfOR | bpfK, bpfALU | bpfOR | bpfX,
			bpfALU | bpfXOR | bpfK, bpfALU | bpfXOR | bpfX, bpfALU | bpfLSH | bpfX, bpfALU | bpfRSH | bpfX:
		case bpfALU | bpfDIV | bpfK:
			if in.k == 0 {
				return false
			}
		case bpfALU | bpfLSH | bpfK, bpfALU | bpfRSH | bpfK:
			if in.k >= 32 {
				return false
			}
		case bpfLD | bpfMEM, bpfLDX | bpfMEM, bpfST, bpfSTX:
			if in.k >= bpfMemWords {
				return false
			}
		case bpfJMP | bpfJA:
			if in.k >= left {
				return false
			}
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJEQ | bpfX, bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGT | bpfX,
			bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGE | bpfX, bpfJMP | bpfJSET | bpfK, bpfJMP | bpfJSET | bpfX:
			if uint32(in.jt) >= left || uint32(in.jf) >= left {
				return false
			}
		default:
			return false
		}
	}
	last := prog[len(prog)-1].code
	return last == bpfRET|bpfK || last == bpfRET|bpfA
}

// run runs one filter on data (struct seccomp_data, little-endian) and returns its
// verdict. The program has passed seccompValid, so it ends in a return; a division by
// zero in X ends it with 0 (SECCOMP_RET_KILL_THREAD), as in Linux's interpreter.
func (f *seccompFilter) run(data *[seccompDataSize]byte) uint32 {
	var a, x uint32
	var mem [bpfMemWords]uint32
	for pc := 0; pc < len(f.prog); pc++ {
		in := f.prog[pc]
		src := in.k
		if in.code&bpfX != 0 && in.code&0x07 != bpfRET {
			src = x
		}
		switch in.code & 0x07 {
		case bpfLD:
			a = bpfLoad(in, data, &mem)
		case bpfLDX:
			x = bpfLoad(in, data, &mem)
		case bpfST:
			mem[in.k] = a
		case bpfSTX:
			mem[in.k] = x
		case bpfALU:
			switch in.code & 0xf0 {
			case bpfADD:
				a += src
			case bpfSUB:
				a -= src
			case bpfMUL:
				a *= src
			case bpfDIV:
				if src == 0 {
					return 0
				}
				a /= src
			case bpfOR:
				a |= src
			case bpfAND:
				a &= src
			case bpfXOR:
				a ^= src
			case bpfLSH:
				a <<= src & 31
			case bpfRSH:
				a >>= src & 31
			case bpfNEG:
				a = -a
			}
		case bpfJMP:
			var taken bool
			switch in.code & 0xf0 {
			case bpfJA:
				pc += int(in.k)
				continue
			case bpfJEQ:
				taken = a == src
			case bpfJGT:
				taken = a > src
			case bpfJGE:
				taken = a >= src
			case bpfJSET:
				taken = a&src != 0
			}
			if taken {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case bpfRET:
			if in.code&bpfA != 0 {
				return a
			}
			return in.k
		case bpfMISC:
			if in.code&0xf8 == bpfTAX {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0 // not reached: the last instruction returns
}

// bpfLoad is the value a load instruction (BPF_LD or BPF_LDX) takes, by its mode; only
// BPF_LD has BPF_ABS (seccompValid).
func bpfLoad(in bpfInsn, data *[seccompDataSize]byte, mem *[bpfMemWords]uint32) uint32 {
	switch in.code & 0xe0 {
	case bpfABS:
		return binary.LittleEndian.Uint32(data[in.k:])
	case bpfLEN:
		return seccompDataSize
	case bpfMEM:
		return mem[in.k]
	}
	return in.k // BPF_IMM
}

// seccompVerdict runs the calling thread's filters on its syscall and returns the
// verdict with the highest precedence: the lowest action, taken as a signed number, so
// that SECCOMP_RET_KILL_PROCESS comes first and SECCOMP_RET_ALLOW last; among equal
// actions the newest filter's (kernel/seccomp.c, seccomp_run_filters).
func (t *Thread) seccompVerdict(chain *seccompFilter) uint32 {
	r := &t.ctx.Regs
	var data [seccompDataSize]byte
	le := binary.LittleEndian
	le.PutUint32(data[0:], uint32(r.RAX))
	le.PutUint32(data[4:], auditArchX8664)
	le.PutUint64(data[8:], r.RIP) // after the syscall instruction, as the kernel's regs->ip
	for i, v := range [6]uint64{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9} {
		le.PutUint64(data[16+8*i:], v)
	}
	verdict := uint32(unix.SECCOMP_RET_ALLOW)
	for f := chain; f != nil; f = f.prev {
		if v := f.run(&data); int32(v&unix.SECCOMP_RET_ACTION_FULL) < int32(verdict&unix.SECCOMP_RET_ACTION_FULL) {
			verdict = v
		}
	}
	return verdict
}

// seccompStop applies the thread's seccomp mode to the syscall it is about to make,
// and reports whether it is stopped there (its result, a signal or the thread's end
// already decided). Strict mode allows read, write, exit and rt_sigreturn, and kills
// the process otherwise (SECCOMP_MODE_STRICT: seccomp(2)).
func (t *Thread) seccompStop(nr uint64) (int64, bool) {
	mode := t.seccompMode.Load()
	if mode == seccompModeStrict {
		switch nr {
		case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN:
			return 0, false
		}
		t.killedBy(unix.SIGKILL)
		return 0, true
	}
	chain := t.seccomp.Load()
	if chain == nil {
		return 0, false
	}
	v := t.seccompVerdict(chain)
	data := v & unix.SECCOMP_RET_DATA
	switch v & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG:
		return 0, false
	case unix.SECCOMP_RET_ERRNO:
		return -int64(min(data, 4095)), true // MAX_ERRNO
	case unix.SECCOMP_RET_TRAP:
		t.seccompTrap(nr, data)
		// The handler sees the registers the call was made with, RAX its number
		// (syscall_rollback), and the call returns what RAX holds when it returns.
		return int64(t.ctx.Regs.RAX), true
	case unix.SECCOMP_RET_TRACE, unix.SECCOMP_RET_USER_NOTIF:
		return -int64(unix.ENOSYS), true // no tracer, no listener
	case unix.SECCOMP_RET_KILL_THREAD:
		if t.p.programThreads() > 1 {
			t.exit(0) // the thread ends; the others go on (seccomp_filter, do_exit(SIGSYS))
			return 0, true
		}
	}
	// SECCOMP_RET_KILL_PROCESS, the last thread's SECCOMP_RET_KILL_THREAD, or an action
	// Linux does not know: the process dies of SIGSYS.
	t.killedBy(unix.SIGSYS)
	return 0, true
}

// seccompTrap sends the thread the SIGSYS of SECCOMP_RET_TRAP, whose siginfo names the
// call (si_code SYS_SECCOMP, si_call_addr, si_syscall, si_arch, si_errno the filter's
// data). Like Linux's force_sig_seccomp, it cannot be blocked or ignored: a blocked or
// ignored SIGSYS is unblocked and its action reset to the default, which kills.
func (t *Thread) seccompTrap(nr uint64, data uint32) {
	const sysSeccomp = 1 // SYS_SECCOMP
	hand := t.p.sighand
	hand.mu.Lock()
	if t.sigmask&sigBit(int(unix.SIGSYS)) != 0 || hand.actions[unix.SIGSYS].Handler == abi.SIG_IGN {
		hand.actions[unix.SIGSYS] = abi.Sigaction{} // SIG_DFL: force_sig_info_to_task
		t.sigmask &^= sigBit(int(unix.SIGSYS))
	}
	hand.mu.Unlock()
	// _sigsys: si_call_addr where _sigfault's si_addr is, then si_syscall and si_arch.
	raw := &abi.Siginfo{Signo: int32(unix.SIGSYS), Errno: int32(data), Code: sysSeccomp,
		Value: uint64(uint32(nr)) | uint64(auditArchX8664)<<32}
	raw.SetAddr(t.ctx.Regs.RIP) // just past the syscall instruction (KSTK_EIP)
	// Delivered on the way back to the program.
	t.p.sendThread(t, siginfo{signo: int32(unix.SIGSYS), errno: int32(data), code: sysSeccomp, raw: raw})
}

// seccomp(2).
func sysSeccomp(t *Thread) int64 {
	op, flags, args := t.arg(0), t.arg(1), t.arg(2)
	switch op {
	case unix.SECCOMP_SET_MODE_STRICT:
		if flags != 0 || args != 0 {
			return -int64(unix.EINVAL)
		}
		return t.seccompStrict()
	case unix.SECCOMP_SET_MODE_FILTER:
		return t.seccompAttach(flags, args)
	case unix.SECCOMP_GET_ACTION_AVAIL:
		var b [4]byte
		if flags != 0 {
			return -int64(unix.EINVAL)
		}
		if e := copyIn(args, b[:]); e != 0 {
			return -int64(e)
		}
		switch binary.LittleEndian.Uint32(b[:]) {
		case unix.SECCOMP_RET_KILL_PROCESS, unix.SECCOMP_RET_KILL_THREAD, unix.SECCOMP_RET_TRAP,
			unix.SECCOMP_RET_ERRNO, unix.SECCOMP_RET_USER_NOTIF, unix.SECCOMP_RET_TRACE,
			unix.SECCOMP_RET_LOG, unix.SECCOMP_RET_ALLOW:
			return 0
		}
		return -int64(unix.EOPNOTSUPP)
	case unix.SECCOMP_GET_NOTIF_SIZES:
		if flags != 0 {
			return -int64(unix.EINVAL)
		}
		// struct seccomp_notif_sizes: seccomp_notif, seccomp_notif_resp, seccomp_data.
		var b [6]byte
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], seccompDataSize)
		if e := copyOut(args, b[:]); e != 0 {
			return -int64(e)
		}
		return 0
	}
	return -int64(unix.EINVAL)
}

// seccompStrict enters strict mode; a thread with filters cannot (seccomp_may_assign_mode).
func (t *Thread) seccompStrict() int64 {
	if m := t.seccompMode.Load(); m != 0 && m != seccompModeStrict {
		return -int64(unix.EINVAL)
	}
	t.seccompMode.Store(seccompModeStrict)
	t.p.seccompOn()
	return 0
}

// seccompAttach installs the filter at progAddr (struct sock_fprog) on the calling
// thread, or with SECCOMP_FILTER_FLAG_TSYNC on every thread of the process.
func (t *Thread) seccompAttach(flags, progAddr uint64) int64 {
	const known = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
		unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER |
		unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	const tsyncListener = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	if flags&^known != 0 || flags&tsyncListener == tsyncListener && flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH == 0 {
		return -int64(unix.EINVAL) // seccomp_set_mode_filter
	}
	var fprog abi.SockFprog
	if e := copyIn(progAddr, abi.Bytes(&fprog)); e != 0 {
		return -int64(e)
	}
	n := int(fprog.Len)
	if n == 0 || n > bpfMaxInsns {
		return -int64(unix.EINVAL)
	}
	raw := make([]byte, 8*n)
	if e := copyIn(fprog.Filter, raw); e != 0 {
		return -int64(e)
	}
	prog := decodeBPF(raw)
	if !seccompValid(prog) {
		return -int64(unix.EINVAL)
	}
	// A filter needs no_new_privs or CAP_SYS_ADMIN (seccomp(2)): both are the host
	// thread's, which is the program's thread.
	if nnp, _ := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); nnp != 1 && !hasCapSysAdmin() {
		return -int64(unix.EACCES)
	}
	if t.seccompMode.Load() == seccompModeStrict {
		return -int64(unix.EINVAL)
	}
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		// Refused only here, for a filter that would be installed: libseccomp probes for
		// the flag with no filter, and finds it by the EFAULT above, as on Linux.
		t.p.unsupported("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)", "golos has no user notification of a filter's calls")
		return -int64(unix.EINVAL)
	}
	prev := t.seccomp.Load()
	total := n
	for f := prev; f != nil; f = f.prev {
		total += len(f.prog) + 4 // each filter counts 4 more (seccomp_attach_filter)
	}
	if total > maxPathInsns {
		return -int64(unix.ENOMEM)
	}
	f := &seccompFilter{prog: prog, prev: prev}
	if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		if tid := t.p.seccompSync(t, f, prev); tid != 0 {
			if flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
				return -int64(unix.ESRCH)
			}
			return int64(tid) // the thread that could not be synchronised
		}
	} else {
		t.seccomp.Store(f)
		t.seccompMode.Store(seccompModeFilter)
	}
	t.p.seccompOn()
	return 0
}

// seccompSync gives every thread the chain f, whose previous filters are prev, if each
// thread's chain is prev or one of its ancestors; otherwise it returns the tid of a
// thread that has a filter of its own (seccomp_can_sync_threads).
func (p *Process) seccompSync(caller *Thread, f, prev *seccompFilter) int {
	p.threads.mu.Lock()
	defer p.threads.mu.Unlock()
	for _, th := range p.threads.byTid {
		if th == caller {
			continue
		}
		if th.seccompMode.Load() == seccompModeStrict {
			return th.tid
		}
		mine := th.seccomp.Load()
		ok := mine == nil
		for g := prev; g != nil && !ok; g = g.prev {
			ok = g == mine
		}
		if !ok {
			return th.tid
		}
	}
	for _, th := range p.threads.byTid {
		th.seccomp.Store(f)
		th.seccompMode.Store(seccompModeFilter)
	}
	return 0
}

// seccompOn makes every syscall of the process come to golos's handler, where the
// filters run: none is made directly from a rewritten site any more.
func (p *Process) seccompOn() {
	if p.seccompUsed.Swap(true) {
		return
	}
	for nr := range entry.PlainSyscalls {
		entry.PlainSyscalls[nr] = 0
	}
}

// hasCapSysAdmin reports whether the calling thread has CAP_SYS_ADMIN in its effective
// set (capget(2)).
func hasCapSysAdmin() bool {
	return hasCap(unix.CAP_SYS_ADMIN)
}

// hasCap reports whether the calling thread has capability c in its effective set
// (capget(2)).
func hasCap(c uint) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

func decodeBPF(raw []byte) []bpfInsn {
	prog := make([]bpfInsn, len(raw)/8)
	for i := range prog {
		b := raw[8*i:]
		prog[i] = bpfInsn{code: binary.LittleEndian.Uint16(b), jt: b[2], jf: b[3], k: binary.LittleEndian.Uint32(b[4:])}
	}
	return prog
}

// encodeSeccomp writes a thread's seccomp state for a fork's child or an execve's new
// golos: the mode, then each filter's length and instructions, oldest first. Empty for
// none.
func encodeSeccomp(mode int32, chain *seccompFilter) []byte {
	if mode == 0 {
		return nil
	}
	var filters []*seccompFilter
	for f := chain; f != nil; f = f.prev {
		filters = append([]*seccompFilter{f}, filters...)
	}
	b := []byte{byte(mode)}
	for _, f := range filters {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(f.prog)))
		for _, in := range f.prog {
			b = binary.LittleEndian.AppendUint16(b, in.code)
			b = append(b, in.jt, in.jf)
			b = binary.LittleEndian.AppendUint32(b, in.k)
		}
	}
	return b
}

// decodeSeccomp reads encodeSeccomp's bytes; ok is false if they are malformed.
func decodeSeccomp(b []byte) (mode int32, chain *seccompFilter, ok bool) {
	if len(b) == 0 {
		return 0, nil, true
	}
	mode, b = int32(b[0]), b[1:]
	for len(b) > 0 {
		if len(b) < 2 {
			return 0, nil, false
		}
		n := int(binary.LittleEndian.Uint16(b))
		b = b[2:]
		if n == 0 || len(b) < 8*n {
			return 0, nil, false
		}
		prog := decodeBPF(b[:8*n])
		if !seccompValid(prog) {
			return 0, nil, false
		}
		chain = &seccompFilter{prog: prog, prev: chain}
		b = b[8*n:]
	}
	return mode, chain, mode == seccompModeStrict || mode == seccompModeFilter && chain != nil
}

// prctl(PR_GET_SECCOMP): the calling thread's mode.
func (t *Thread) prctlGetSeccomp() int64 {
	return int64(t.seccompMode.Load())
}
