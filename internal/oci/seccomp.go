package oci

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"golang.org/x/sys/unix"
)

// linux.seccomp (config-linux.md, "Seccomp") compiled to a classic BPF program over
// struct seccomp_data, as runc has libseccomp compile it. golos runs the program itself
// on each of the container's syscalls (internal/kernel/seccomp.go): the container's first
// golos gets it with the hidden --exec-seccomp option, which passes a thread's filters
// to the golos of an execve, and every process of the container inherits it from there.
//
// The semantics are runc's (libcontainer/seccomp/seccomp_linux.go) over libseccomp's:
//   - a rule whose action is the default action is left out;
//   - a syscall name the x86-64 table does not have (an i386-only one, stime) is skipped;
//   - a rule's args are all to hold (AND), unless two of them test the same argument:
//     then each is a rule of its own (OR), as runc adds them;
//   - SCMP_ACT_ERRNO and SCMP_ACT_TRACE without errnoRet give EPERM;
//   - when the default action is not "allow" or "log", a syscall past the largest number
//     the profile names fails with ENOSYS (runc's patchbpf stub, so that a libc's probe
//     of a syscall newer than the profile falls back instead of failing hard).
// 64-bit argument comparisons test the upper then the lower 32 bits, as libseccomp does.

// Seccomp is config-linux.md's linux.seccomp.
type Seccomp struct {
	DefaultAction   string           `json:"defaultAction"`
	DefaultErrnoRet *uint32          `json:"defaultErrnoRet"`
	Architectures   []string         `json:"architectures"`
	Flags           []string         `json:"flags"`
	ListenerPath    string           `json:"listenerPath"`
	Syscalls        []SeccompSyscall `json:"syscalls"`
}

// SeccompSyscall is one of linux.seccomp.syscalls.
type SeccompSyscall struct {
	Names    []string     `json:"names"`
	Action   string       `json:"action"`
	ErrnoRet *uint32      `json:"errnoRet"`
	Args     []SeccompArg `json:"args"`
}

// SeccompArg is one condition on a syscall's argument.
type SeccompArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo"`
	Op       string `json:"op"`
}

// seccompModeFilter is SECCOMP_MODE_FILTER, the first byte of golos's --exec-seccomp.
const seccompModeFilter = 2

// seccompAction is the filter's return value for an action name and its errno.
func seccompAction(name string, errnoRet *uint32) (uint32, error) {
	errno := uint32(unix.EPERM)
	if errnoRet != nil {
		errno = *errnoRet & unix.SECCOMP_RET_DATA
	}
	switch name {
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case "SCMP_ACT_KILL_PROCESS":
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case "SCMP_ACT_TRAP":
		return unix.SECCOMP_RET_TRAP, nil
	case "SCMP_ACT_ERRNO":
		return unix.SECCOMP_RET_ERRNO | errno, nil
	case "SCMP_ACT_TRACE":
		return unix.SECCOMP_RET_TRACE | errno, nil
	case "SCMP_ACT_ALLOW":
		return unix.SECCOMP_RET_ALLOW, nil
	case "SCMP_ACT_LOG":
		return unix.SECCOMP_RET_LOG, nil
	case "SCMP_ACT_NOTIFY":
		return 0, fmt.Errorf("action %s: golos has no user notification of a filter's calls", name)
	}
	return 0, fmt.Errorf("unknown action %q", name)
}

// seccompArchs are the architectures runc knows (SCMP_ARCH_*): only x86-64's syscalls
// reach golos, but a profile may name any of them.
var seccompArchs = []string{"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
	"SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
	"SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
	"SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB"}

// seccompRule is one rule of a syscall: its conditions, all to hold, and its action.
type seccompRule struct {
	conds  []SeccompArg
	action uint32
}

// Compile is the profile as golos's --exec-seccomp value: SECCOMP_MODE_FILTER, then
// the program's length and instructions (struct sock_filter, little-endian), as
// internal/kernel's encodeSeccomp writes a thread's one filter.
func (s *Seccomp) Compile() ([]byte, error) {
	prog, err := s.program()
	if err != nil {
		return nil, err
	}
	b := []byte{seccompModeFilter}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(prog)))
	for _, in := range prog {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return b, nil
}

// program compiles the profile: the architecture check, the ENOSYS stub, then a binary
// search on the syscall number whose leaves return an unconditional rule's action or
// jump to the syscall's rules with conditions.
func (s *Seccomp) program() ([]unix.SockFilter, error) {
	dflt, err := seccompAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	for _, a := range s.Architectures {
		if !slices.Contains(seccompArchs, a) {
			return nil, fmt.Errorf("linux.seccomp.architectures: unknown %q", a)
		}
	}
	if s.ListenerPath != "" {
		return nil, fmt.Errorf("linux.seccomp.listenerPath: golos has no user notification of a filter's calls")
	}
	rules := map[uint32][]seccompRule{}
	for i, sc := range s.Syscalls {
		act, err := seccompAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		for _, a := range sc.Args {
			if a.Index >= 6 {
				return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: argument index %d: a syscall has 6", i, a.Index)
			}
			switch a.Op {
			case "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ":
			default:
				return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: unknown operator %q", i, a.Op)
			}
		}
		if act == dflt {
			continue
		}
		// Two conditions on one argument: each is a rule of its own (runc's matchCall).
		var sets [][]SeccompArg
		seen, twice := map[uint]bool{}, false
		for _, a := range sc.Args {
			twice = twice || seen[a.Index]
			seen[a.Index] = true
		}
		if twice {
			for _, a := range sc.Args {
				sets = append(sets, []SeccompArg{a})
			}
		} else {
			sets = [][]SeccompArg{sc.Args}
		}
		for _, name := range sc.Names {
			nr, ok := syscallNumbers[name]
			if !ok {
				continue // as libseccomp resolves no such name for x86-64, runc skips it
			}
			for _, c := range sets {
				rules[nr] = append(rules[nr], seccompRule{conds: c, action: act})
			}
		}
	}
	a := &bpfAsm{}
	// Only x86-64's syscalls reach golos; any other architecture is killed, as
	// libseccomp's default bad-architecture action does.
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 4)
	a.jump(unix.BPF_JEQ|unix.BPF_K, 0xc000003e, skip1, next) // AUDIT_ARCH_X86_64
	a.ret(unix.SECCOMP_RET_KILL_PROCESS)
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0)
	var nrs []uint32
	for nr := range rules {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	if d := dflt & unix.SECCOMP_RET_ACTION_FULL; d != unix.SECCOMP_RET_ALLOW && d != unix.SECCOMP_RET_LOG {
		// runc's stub: past the profile's largest syscall, ENOSYS.
		var largest uint32
		for _, sc := range s.Syscalls {
			for _, name := range sc.Names {
				if nr, ok := syscallNumbers[name]; ok && nr > largest {
					largest = nr
				}
			}
		}
		a.jump(unix.BPF_JGT|unix.BPF_K, largest, next, skip1)
		a.ret(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	}
	// Each syscall with conditions has its block after the search, at its label.
	blocks := map[uint32]int{}
	for _, nr := range nrs {
		if len(rules[nr]) > 1 || len(rules[nr][0].conds) > 0 {
			blocks[nr] = a.newLabel()
		}
	}
	a.search(nrs, rules, blocks, dflt)
	for _, nr := range nrs {
		l, ok := blocks[nr]
		if !ok {
			continue
		}
		a.bind(l)
		a.rules(rules[nr], dflt)
	}
	return a.assemble()
}

// search emits the binary search over nrs (sorted), the syscall number in A.
func (a *bpfAsm) search(nrs []uint32, rules map[uint32][]seccompRule, blocks map[uint32]int, dflt uint32) {
	if len(nrs) <= 4 {
		for _, nr := range nrs {
			a.jump(unix.BPF_JEQ|unix.BPF_K, nr, next, skip1)
			if l, ok := blocks[nr]; ok {
				a.ja(l)
			} else {
				a.ret(rules[nr][0].action)
			}
		}
		a.ret(dflt)
		return
	}
	mid := len(nrs) / 2
	right := a.newLabel()
	a.jump(unix.BPF_JGE|unix.BPF_K, nrs[mid], next, skip1)
	a.ja(right)
	a.search(nrs[:mid], rules, blocks, dflt)
	a.bind(right)
	a.search(nrs[mid:], rules, blocks, dflt)
}

// rules emits one syscall's rules: those with conditions in the profile's order, then
// the first without, else the default action. A rule's conditions load the arguments:
// A no longer holds the syscall number.
func (a *bpfAsm) rules(rs []seccompRule, dflt uint32) {
	final := dflt
	for i := len(rs) - 1; i >= 0; i-- {
		if len(rs[i].conds) == 0 {
			final = rs[i].action
		}
	}
	for _, r := range rs {
		if len(r.conds) == 0 {
			continue
		}
		fail := a.newLabel()
		for _, c := range r.conds {
			a.cond(c, fail)
		}
		a.ret(r.action)
		a.bind(fail)
	}
	a.ret(final)
}

// cond emits one 64-bit comparison of argument c.Index, on to the next instruction when
// it holds, to fail when not.
func (a *bpfAsm) cond(c SeccompArg, fail int) {
	lo, hi := uint32(16+8*c.Index), uint32(20+8*c.Index) // seccomp_data.args, little-endian
	v1hi, v1lo := uint32(c.Value>>32), uint32(c.Value)
	ok := a.newLabel()
	ld := func(off uint32) { a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off) }
	switch c.Op {
	case "SCMP_CMP_EQ":
		ld(hi)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v1hi, next, fail)
		ld(lo)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v1lo, next, fail)
	case "SCMP_CMP_NE":
		ld(hi)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v1hi, next, ok)
		ld(lo)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v1lo, fail, next)
	case "SCMP_CMP_MASKED_EQ":
		// value is the mask, valueTwo what the masked argument must equal.
		v2hi, v2lo := uint32(c.ValueTwo>>32), uint32(c.ValueTwo)
		ld(hi)
		a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, v1hi)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v2hi, next, fail)
		ld(lo)
		a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, v1lo)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v2lo, next, fail)
	case "SCMP_CMP_GT", "SCMP_CMP_GE":
		ld(hi)
		a.jump(unix.BPF_JGT|unix.BPF_K, v1hi, ok, next)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v1hi, next, fail)
		ld(lo)
		op := uint16(unix.BPF_JGT)
		if c.Op == "SCMP_CMP_GE" {
			op = unix.BPF_JGE
		}
		a.jump(op|unix.BPF_K, v1lo, next, fail)
	case "SCMP_CMP_LT", "SCMP_CMP_LE":
		ld(hi)
		a.jump(unix.BPF_JGT|unix.BPF_K, v1hi, fail, next)
		a.jump(unix.BPF_JEQ|unix.BPF_K, v1hi, next, ok)
		ld(lo)
		op := uint16(unix.BPF_JGE) // LT fails when lo >= value, LE when lo > value
		if c.Op == "SCMP_CMP_LE" {
			op = unix.BPF_JGT
		}
		a.jump(op|unix.BPF_K, v1lo, fail, next)
	}
	a.bind(ok)
}

// bpfAsm assembles a classic BPF program with forward jumps to labels. A conditional
// jump's offsets are 8 bits: the long ones go through BPF_JA, whose offset is 32.
type bpfAsm struct {
	prog   []unix.SockFilter
	labels []int // each label's instruction, -1 while unbound
	refs   []bpfRef
}

// bpfRef is a jump whose targets are labels.
type bpfRef struct {
	pc     int
	jt, jf int // labels, or next or skip1
}

// The jump targets that are not labels: the next instruction, and the one after it.
const (
	next  = -1
	skip1 = -2
)

func (a *bpfAsm) newLabel() int {
	a.labels = append(a.labels, -1)
	return len(a.labels) - 1
}

func (a *bpfAsm) bind(l int) {
	a.labels[l] = len(a.prog)
}

func (a *bpfAsm) stmt(code uint16, k uint32) {
	a.prog = append(a.prog, unix.SockFilter{Code: code, K: k})
}

func (a *bpfAsm) ret(k uint32) { a.stmt(unix.BPF_RET|unix.BPF_K, k) }

// jump emits a conditional jump (op is BPF_JEQ|BPF_K and the like) to jt when it holds,
// jf when not.
func (a *bpfAsm) jump(op uint16, k uint32, jt, jf int) {
	a.refs = append(a.refs, bpfRef{pc: len(a.prog), jt: jt, jf: jf})
	a.stmt(unix.BPF_JMP|op, k)
}

// ja emits an unconditional jump to label l.
func (a *bpfAsm) ja(l int) {
	a.refs = append(a.refs, bpfRef{pc: len(a.prog), jt: l, jf: next})
	a.stmt(unix.BPF_JMP|unix.BPF_JA, 0)
}

// assemble resolves the jumps.
func (a *bpfAsm) assemble() ([]unix.SockFilter, error) {
	off := func(pc, target int) (int, error) {
		switch target {
		case next:
			return 0, nil
		case skip1:
			return 1, nil
		}
		at := a.labels[target]
		if at <= pc {
			return 0, fmt.Errorf("seccomp: a jump at %d to an unbound or earlier label", pc)
		}
		return at - pc - 1, nil
	}
	for _, r := range a.refs {
		in := &a.prog[r.pc]
		t, err := off(r.pc, r.jt)
		if err != nil {
			return nil, err
		}
		if in.Code == unix.BPF_JMP|unix.BPF_JA {
			in.K = uint32(t)
			continue
		}
		f, err := off(r.pc, r.jf)
		if err != nil {
			return nil, err
		}
		if t > 255 || f > 255 {
			return nil, fmt.Errorf("seccomp: a rule's conditions are too long to jump over")
		}
		in.Jt, in.Jf = uint8(t), uint8(f)
	}
	if len(a.prog) > 4096 {
		return nil, fmt.Errorf("linux.seccomp: the filter has %d instructions, more than BPF_MAXINSNS (4096)", len(a.prog))
	}
	return a.prog, nil
}
