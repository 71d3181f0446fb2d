package build

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
)

// skipCgroupProcs makes the Go runtime's defaultGOMAXPROCSInit (runtime/cgroup_linux.go)
// return at once in the golos binary at path. golos turns cgroup-aware GOMAXPROCS off
// (cmd/golos: //go:debug containermaxprocs=0), yet at every start the runtime still reads
// /proc/self/cgroup and /proc/self/mountinfo and opens the CPU cgroup's limit file, only
// to count, for a runtime/metrics counter, whether the setting changed anything. That was
// about 3% of the CPU time of a loop of forks (each child is a new golos:
// docs/performance-analysis.md). Without it, nothing changes but the counter: the
// runtime starts with the CPUs of the affinity mask, as with the setting.
func skipCgroupProcs(path string) error {
	return patchFunc(path, "runtime.defaultGOMAXPROCSInit", func(code []byte) (int, []byte, error) {
		// Only over the instruction it was measured with (go1.26, which the TLS move
		// pins): the stack bound check a Go function without results begins with, cmp
		// 0x10(%r14),%rsp, nothing pushed before it, so that a ret there returns to the
		// caller with nothing to undo.
		want := []byte{0x49, 0x3b, 0x66, 0x10}
		if got := code[:min(len(code), len(want))]; !bytes.Equal(got, want) {
			return 0, nil, fmt.Errorf("it begins with % x, not % x (cmp 0x10(%%r14),%%rsp): a Go runtime golos was not measured with (internal/build/patch.go)", got, want)
		}
		return 0, []byte{0xc3}, nil // ret
	})
}

// retakeSyscallCheck is the code of the Go runtime's retake (runtime/proc.go, go1.26)
// where it decides whether a P whose goroutine is in a syscall is taken at once:
//
//	movzbl 0x2f(%rsp),%edx   sysretake: the P ran one schedtick for forcePreemptNS
//	test   %dl,%dl
//	je     +7                not set: to the syscalltick check below
//	mov    0x50(%rsp),%rdx
//	jmp    take              set: take the P now
//	mov    0x50(%rsp),%rdx   pp
//	mov    0x14(%rdx),%r8d   pp.syscalltick
//	mov    0x1c(%rdx),%r9d   pp.sysmontick.syscalltick
//	cmp    %r8,%r9
//
// retakeJe is the offset of the je in it.
var retakeSyscallCheck = []byte{
	0x0f, 0xb6, 0x54, 0x24, 0x2f,
	0x84, 0xd2,
	0x74, 0x07,
	0x48, 0x8b, 0x54, 0x24, 0x50,
	0xeb, 0x12,
	0x48, 0x8b, 0x54, 0x24, 0x50,
	0x44, 0x8b, 0x42, 0x14,
	0x44, 0x8b, 0x4a, 0x1c,
	0x4d, 0x39, 0xc1,
}

const retakeJe = 7

// keepSyscallPs makes the Go runtime's sysmon take a P from a goroutine in a syscall
// only by retake's syscall rules (other work waits for the P, no P is idle, or the call
// has lasted 10 ms), never because the P has run one schedtick for forcePreemptNS (10
// ms): the je that skips the immediate take becomes a jmp. A program's thread is a
// goroutine locked to its OS thread that sits in the runtime's syscall state while the
// program runs and never passes through the scheduler, so its P's schedtick never moves:
// after the thread's first 10 ms, every sysmon tick that found its P held took it, a
// handoff and a slow exitsyscall each, and each take set sysmon back to waking every
// 20 µs. memcached under golos took 2,700 Ps a second that way, and its requests cost
// 1.12–1.21× native; the preemption itself (preemptone) is untouched.
func keepSyscallPs(path string) error {
	return patchOnce(path, "runtime.retake", retakeSyscallCheck, retakeJe, []byte{0xeb}, // jmp rel8
		"the code that takes a P in a syscall after forcePreemptNS (movzbl 0x2f(%rsp),%edx; test; je; …; mov 0x14(%rdx),%r8d; …)")
}

// sysmonBackoffCheck is the code at the top of the Go runtime's sysmon loop
// (runtime/proc.go, go1.26) that chooses its next sleep:
//
//	test  %rax,%rax     idle == 0:
//	jne   +7
//	mov   $0x14,%ebx    delay = 20 (µs)
//	jmp   +12
//	cmp   $0x32,%rax    idle > 50: the sleep doubles
//	setg  %sil
//	mov   %esi,%ecx
//	shl   %cl,%ebx
//	cmp   $0x2710,%ebx  at most 10 ms
//
// sysmonIdleImm is the offset of the cmp's immediate (50) in it.
var sysmonBackoffCheck = []byte{
	0x48, 0x85, 0xc0,
	0x75, 0x07,
	0xbb, 0x14, 0x00, 0x00, 0x00,
	0xeb, 0x0c,
	0x48, 0x83, 0xf8, 0x32,
	0x40, 0x0f, 0x9f, 0xc6,
	0x89, 0xf1,
	0xd3, 0xe3,
	0x81, 0xfb, 0x10, 0x27, 0x00, 0x00,
}

const sysmonIdleImm = 15

// sysmonIdleTicks is after how many idle ticks of 20 µs golos's sysmon starts doubling its
// sleep: 4 (80 µs), where the runtime waits 50 (1 ms).
const sysmonIdleTicks = 4

// sysmonBackoff makes the Go runtime's sysmon double its sleep after sysmonIdleTicks idle
// ticks rather than 50. sysmon sleeps 20 µs at a time for its first millisecond and after
// each time it took a P or preempted a goroutine; golos's runtime rarely needs it then (a
// program's thread keeps its P, keepSyscallPs, and golos starts with a P to spare for its
// own goroutines, kernel.StartProcs), and a golos that lives a few milliseconds, as each
// process of a shell's loop or a make does, spent 50 wake-ups, a context switch each, on
// the CPU the program needs: 5% of the CPU time of a loop of forks. From then on the
// runtime's own rules apply (10 ms at most between ticks).
func sysmonBackoff(path string) error {
	return patchOnce(path, "runtime.sysmon", sysmonBackoffCheck, sysmonIdleImm, []byte{sysmonIdleTicks},
		"the code that chooses sysmon's sleep (test %rax,%rax; jne; mov $0x14,%ebx; …; cmp $0x32,%rax; setg; …)")
}

// patchOnce writes b at offset at of the code sequence seq in function sym of the ELF
// file at path, only where seq stands exactly once: the bytes name the registers, stack
// slots, fields and constants of the runtime it was measured with (go1.26, which the TLS
// move pins). Otherwise it refuses, saying how often it found seq (what, in words).
func patchOnce(path, sym string, seq []byte, at int, b []byte, what string) error {
	return patchFunc(path, sym, func(code []byte) (int, []byte, error) {
		i := bytes.Index(code, seq)
		if i < 0 || bytes.Contains(code[i+1:], seq) {
			return 0, nil, fmt.Errorf("%d times %s, want once: a Go runtime golos was not measured with (internal/build/patch.go)",
				bytes.Count(code, seq), what)
		}
		return i + at, b, nil
	})
}

// patchFunc changes the code of function sym in the ELF file at path: edit, given the
// function's code, says at which offset of it to write which bytes, or why it refuses
// (then nothing is written).
func patchFunc(path, sym string, edit func(code []byte) (int, []byte, error)) error {
	off, size, err := funcOffset(path, sym)
	if err != nil {
		return err
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	code := make([]byte, size)
	if _, err := w.ReadAt(code, off); err != nil {
		w.Close()
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	at, b, err := edit(code)
	if err == nil && at+len(b) > len(code) {
		err = fmt.Errorf("a change at %d of %d bytes goes past the function's %d", at, len(b), len(code))
	}
	if err != nil {
		w.Close()
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	if _, err := w.WriteAt(b, off+int64(at)); err != nil {
		w.Close()
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	return w.Close()
}

// funcOffset is where function sym's code lies in the ELF file at path: its file offset
// and size.
func funcOffset(path, sym string) (int64, int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("patch %s: %w", sym, err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err == nil {
		for _, s := range syms {
			if s.Name != sym || s.Section == elf.SHN_UNDEF || int(s.Section) >= len(f.Sections) {
				continue
			}
			sec := f.Sections[s.Section]
			if sec.Type == elf.SHT_PROGBITS && s.Value >= sec.Addr && s.Value+s.Size <= sec.Addr+sec.Size {
				return int64(sec.Offset + (s.Value - sec.Addr)), int64(s.Size), nil
			}
		}
	}
	return 0, 0, fmt.Errorf("patch %s: no such function in %s (a Go release that inlines it or has none: see internal/build/patch.go)", sym, path)
}
