package loader

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Auxiliary vector entry types (<elf.h>, include/uapi/linux/auxvec.h).
const (
	AT_NULL          = 0
	AT_PHDR          = 3
	AT_PHENT         = 4
	AT_PHNUM         = 5
	AT_PAGESZ        = 6
	AT_BASE          = 7
	AT_FLAGS         = 8
	AT_ENTRY         = 9
	AT_UID           = 11
	AT_EUID          = 12
	AT_GID           = 13
	AT_EGID          = 14
	AT_PLATFORM      = 15
	AT_HWCAP         = 16
	AT_CLKTCK        = 17
	AT_SECURE        = 23
	AT_RANDOM        = 25
	AT_HWCAP2        = 26
	AT_RSEQ_FEATURE  = 27
	AT_RSEQ_ALIGN    = 28
	AT_EXECFN        = 31
	AT_SYSINFO_EHDR  = 33
	AT_MINSIGSTKSZ   = 51
	hwcap2FSGSBASE   = 1 << 1 // HWCAP2_FSGSBASE (arch/x86/include/uapi/asm/hwcap2.h)
	defaultStackSize = 8 << 20
	maxStackSize     = 1 << 30
)

// Stack is a new process's stack, ready for its first instruction.
type Stack struct {
	SP     uint64    // points at argc
	Mapped [2]uint64 // the stack's mapping as laid out
	// Zone is the room below the stack's top it may grow down into (stackZone), which
	// only the stack takes, unless the program maps there at a fixed address.
	Zone [2]uint64
	Auxv []byte // the auxiliary vector as laid out (what /proc/self/auxv shows)
	// Args and Env are where the argument and environment strings lie, NUL-separated
	// and next to each other (Linux's mm->arg_start…arg_end, env_start…env_end): what
	// /proc/PID/cmdline and environ read, after the program has written there too.
	Args, Env [2]uint64
}

// HostAux returns the values of golos's own auxiliary vector that the application
// inherits: the vDSO, the hardware capabilities and such.
func HostAux() map[uint64]uint64 {
	aux := map[uint64]uint64{}
	if v, err := unix.Auxv(); err == nil {
		for _, kv := range v {
			aux[uint64(kv[0])] = uint64(kv[1])
		}
	}
	return aux
}

// Linux's limits on what execve(2) copies to the new stack (include/uapi/linux/binfmts.h,
// include/uapi/asm-generic/resource.h).
const (
	maxArgStrLen = 32 * pageSize // MAX_ARG_STRLEN: one argument or environment string
	argMax       = 32 * pageSize // ARG_MAX: the strings' room even with a small stack
	stkLim       = 8 << 20       // _STK_LIM
	// stackAlignRnd bounds the random gap below the strings (arch_align_stack).
	stackAlignRnd = 8192
	// stackSlack is what NewStack needs besides the strings and their pointers: the
	// random gap, the platform string, AT_RANDOM's bytes, argc, the NULLs, the auxiliary
	// vector.
	stackSlack = stackAlignRnd + 1024
)

// argBytes is the size of the strings execve copies: the file name (AT_EXECFN's), the
// arguments and the environment, each with its NUL.
func argBytes(argv, envp []string, execfn string) uint64 {
	n := uint64(len(execfn)) + 1
	for _, s := range argv {
		n += uint64(len(s)) + 1
	}
	for _, s := range envp {
		n += uint64(len(s)) + 1
	}
	return n
}

// CheckArgs fails with E2BIG where Linux's execve does, before its point of no return
// (fs/exec.c): a string longer than MAX_ARG_STRLEN (valid_arg_len), or strings and their
// pointers beyond a quarter of RLIMIT_STACK, at most 6 MiB (3/4 of _STK_LIM) and at least
// ARG_MAX (bprm_stack_limits, copy_strings).
func CheckArgs(argv, envp []string, execfn string) error {
	for _, list := range [][]string{argv, envp, {execfn}} {
		for _, s := range list {
			if len(s)+1 > maxArgStrLen {
				return fmt.Errorf("an argument or environment string of %d bytes: %w", len(s)+1, unix.E2BIG)
			}
		}
	}
	limit := ArgLimit()
	ptrs := uint64(max(len(argv), 1)+len(envp)) * 8
	if n := argBytes(argv, envp, execfn); ptrs >= limit || n > limit-ptrs {
		return fmt.Errorf("arguments and environment take %d bytes and %d of pointers, more than %d: %w", n, ptrs, limit, unix.E2BIG)
	}
	return nil
}

// ArgLimit is the room execve has for the argument and environment strings and their
// pointers: a quarter of RLIMIT_STACK, at most 6 MiB, at least ARG_MAX
// (fs/exec.c, bprm_stack_limits).
func ArgLimit() uint64 {
	limit := uint64(stkLim / 4 * 3)
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) == nil {
		limit = min(limit, rl.Cur/4)
	}
	return max(limit, argMax)
}

// stackLimit is the size of the main stack: RLIMIT_STACK's, 8 MiB when unlimited, at
// least 128 KiB and at most 1 GiB.
func stackLimit() uint64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) == nil && rl.Cur != unix.RLIM_INFINITY {
		return min(max(pageUp(rl.Cur), 128<<10), maxStackSize)
	}
	return defaultStackSize
}

// StackGuardGap is Linux's stack_guard_gap: 256 pages (mm/mmap.c).
const StackGuardGap = 256 * pageSize

// stackZone is the room kept below the top of a stack that may grow to size bytes: the
// stack and stack_guard_gap below it, at least 128 MiB, as Linux keeps that much between
// the stack's top and its mmap base, where mappings that name no address go
// (arch/x86/mm/mmap.c, mmap_base: RLIMIT_STACK plus stack_guard_gap, clamped to
// SIZE_128M at least).
func stackZone(size uint64) uint64 { return max(size+StackGuardGap, 128<<20) }

// stackExpand is the room Linux gives the new stack below the strings' pages
// (fs/exec.c, setup_arg_pages: stack_expand).
const stackExpand = 128 << 10

// NewStack maps a stack as large as RLIMIT_STACK allows (8 MiB when unlimited) and lays out
// argv, envp and the auxiliary vector on it as Linux does (fs/binfmt_elf.c,
// create_elf_tables; psABI figure 3.9): strings at the top, then AT_RANDOM's bytes, then
// argc, argv, envp and auxv from the 16-byte-aligned stack pointer up.
func NewStack(img *Image, argv, envp []string, execfn string, host map[uint64]uint64, area *Area) (*Stack, error) {
	size := stackLimit()
	if err := CheckArgs(argv, envp, execfn); err != nil {
		return nil, err
	}
	if n := argBytes(argv, envp, execfn); n+uint64(len(argv)+len(envp))*8+stackSlack > size {
		// Within Linux's limit but not in this stack (an RLIMIT_STACK below 512 KiB,
		// where ARG_MAX still allows 128 KiB): Linux would fault as it laid them out.
		return nil, fmt.Errorf("arguments and environment take %d bytes of a %d-byte stack: %w", n, size, unix.E2BIG)
	}
	// The stack as Linux makes it (fs/exec.c, setup_arg_pages): a region that grows down
	// (VM_GROWSDOWN, the host's MAP_GROWSDOWN) and holds the strings' pages and 128 KiB
	// more, RLIMIT_STACK at most. The host grows it on the program's faults below it (and
	// on golos's, as it lays out the tables below), up to RLIMIT_STACK and no closer than
	// stack_guard_gap to an accessible mapping below (mm/mmap.c, expand_downwards), as it
	// grows a native main stack; a mapping at a fixed address may take the room below, as
	// on Linux. Above it, nothing: the stack is at the top of the area, as Linux's main
	// stack has nothing above it, so that mremap(2) can grow it in place.
	prot := unix.PROT_READ | unix.PROT_WRITE
	if img.ExecStack {
		prot |= unix.PROT_EXEC // setup_arg_pages: VM_EXEC for EXSTACK_ENABLE_X
	}
	zone, init := stackZone(size), min(pageUp(8+argBytes(argv, envp, execfn))+stackExpand, size)
	top, err := area.mapStack(zone, init, prot)
	if err != nil {
		return nil, fmt.Errorf("map stack: %w", err)
	}
	base := top - size // the lowest the laid-out stack reaches (the E2BIG check above)
	sp := top - 8      // Linux leaves an 8-byte NULL word at the very top
	mem := memAt(base, size)
	put := func(s string) uint64 {
		sp -= uint64(len(s)) + 1
		copy(mem[sp-base:], s)
		mem[sp-base+uint64(len(s))] = 0
		return sp
	}
	execfnAddr := put(execfn)
	envAddrs := make([]uint64, len(envp))
	for i := len(envp) - 1; i >= 0; i-- {
		envAddrs[i] = put(envp[i])
	}
	envStart := sp
	argAddrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		argAddrs[i] = put(argv[i])
	}
	args, env := [2]uint64{sp, envStart}, [2]uint64{envStart, execfnAddr}
	// Below the strings, a random gap of up to 8 KiB, then 16-byte alignment
	// (fs/binfmt_elf.c, create_elf_tables: p = arch_align_stack(p); arch/x86/kernel/
	// process.c, arch_align_stack: sp -= get_random_u32_below(8192) unless
	// ADDR_NO_RANDOMIZE or randomize_va_space is 0, then sp & ~0xf). Without it the
	// program's first frames sat in the stack's top page, right below the strings, where
	// Linux puts them only now and then: a program that moves or unmaps that page
	// (mremap) crashed.
	sp = (sp - randomBelow(stackAlignRnd)) &^ 15
	platform := put("x86_64")
	sp -= 16
	random := sp
	unix.Getrandom(mem[random-base:random-base+16], 0)
	sp &^= 15

	aux := [][2]uint64{
		{AT_SYSINFO_EHDR, host[AT_SYSINFO_EHDR]},
		{AT_MINSIGSTKSZ, host[AT_MINSIGSTKSZ]},
		{AT_HWCAP, host[AT_HWCAP]},
		{AT_PAGESZ, pageSize},
		{AT_CLKTCK, 100},
		{AT_PHDR, img.Phdr},
		{AT_PHENT, 56},
		{AT_PHNUM, img.Phnum},
		{AT_BASE, img.Base},
		{AT_FLAGS, 0},
		{AT_ENTRY, img.ExeEntry},
		{AT_UID, uint64(unix.Getuid())},
		{AT_EUID, uint64(unix.Geteuid())},
		{AT_GID, uint64(unix.Getgid())},
		{AT_EGID, uint64(unix.Getegid())},
		{AT_SECURE, 0},
		{AT_RANDOM, random},
		// golos does not let the application write its GS base behind its back
		// (docs/design.md): FSGSBASE is not advertised.
		{AT_HWCAP2, host[AT_HWCAP2] &^ hwcap2FSGSBASE},
		{AT_EXECFN, execfnAddr},
		{AT_PLATFORM, platform},
	}
	if v, ok := host[AT_CLKTCK]; ok {
		aux[4][1] = v
	}
	if v, ok := host[AT_RSEQ_FEATURE]; ok {
		aux = append(aux, [2]uint64{AT_RSEQ_FEATURE, v}, [2]uint64{AT_RSEQ_ALIGN, host[AT_RSEQ_ALIGN]})
	}
	if aux[0][1] == 0 {
		aux = aux[1:] // no vDSO in this process
	}
	aux = append(aux, [2]uint64{AT_NULL, 0})

	words := 1 + len(argv) + 1 + len(envp) + 1 + 2*len(aux)
	if words%2 == 1 {
		sp -= 8 // keep argc 16-byte aligned
	}
	sp -= uint64(words) * 8
	w := sp - base
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(mem[w:], v)
		w += 8
	}
	word(uint64(len(argv)))
	for _, a := range argAddrs {
		word(a)
	}
	word(0)
	for _, e := range envAddrs {
		word(e)
	}
	word(0)
	auxStart := w
	for _, kv := range aux {
		word(kv[0])
		word(kv[1])
	}
	auxv := append([]byte(nil), mem[auxStart:w]...)
	return &Stack{SP: sp, Mapped: [2]uint64{min(sp&^(pageSize-1), top-init), top}, Zone: [2]uint64{top - zone, top}, Auxv: auxv,
		Args: args, Env: env}, nil
}
