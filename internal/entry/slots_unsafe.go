package entry

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// Every thread that runs application code gets a slot: a 128 KiB-aligned block from one
// region golos reserves, which holds
//
//	page 0   the thread's GS trampoline (read-only code, see trampoline)
//	page 1   data: the thread's Context pointer, then the trampoline's operands
//	page 2…  the thread's signal stack (sigaltstack(2))
//
// golos's signal handlers run on that signal stack, so they find the thread's Context
// from their own stack pointer, without GS, which may hold the application's GS base
// when a signal arrives. Reading golos's per-thread data through GS is then never needed
// before golos's GS is back.
const (
	slotSize     = 128 << 10
	slotMask     = -slotSize
	slotCtx      = 4096     // *Context
	slotTrampGS  = 4096 + 8 // the trampoline's operands: the GS base, RAX and RIP to load
	slotTrampRAX = 4096 + 16
	slotTrampRIP = 4096 + 24
	slotTrampRDI = 4096 + 32 // and these four for the trampoline that uses arch_prctl
	slotTrampRSI = 4096 + 40
	slotTrampRCX = 4096 + 48
	slotTrampR11 = 4096 + 56
	slotStack    = 2 * 4096
	maxSlots     = 16 << 10 // threads at once: 2 GiB of address space, reserved
)

// MaxThreads is how many application threads may run at once: one slot each. A clone
// past it fails with EAGAIN, as Linux's does past threads-max.
const MaxThreads = maxSlots

// slotsBase and slotsSize bound the slot region (read by the handlers).
var slotsBase, slotsSize uintptr

var slots struct {
	mu   sync.Mutex
	free []uintptr
	next uintptr
}

func reserveSlots() error {
	size := uintptr(maxSlots * slotSize)
	mem, _, e := unix.RawSyscall6(unix.SYS_MMAP, 0, size+slotSize, unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE, ^uintptr(0), 0)
	if e != 0 {
		return fmt.Errorf("reserve thread slots: %w", e)
	}
	slotsBase = (mem + slotSize - 1) &^ (slotSize - 1)
	slotsSize = size
	slots.next = slotsBase
	return nil
}

// trampoline is the code of a slot's page 0. It loads the application's GS base, then the
// registers that took part in that, and jumps to its RIP, all read RIP-relative from page
// 1: the only way to reach per-thread data once the other registers hold the
// application's values and GS no longer points at golos's.
func trampoline() []byte {
	if gsByInsn != 0 {
		return trampolineInsn()
	}
	return trampolineSyscall()
}

// trampolineInsn loads GS with wrgsbase (FSGSBASE).
func trampolineInsn() []byte {
	code := []byte{
		0x48, 0x8b, 0x05, 0, 0, 0, 0, // 0: mov slotTrampGS(%rip), %rax
		0xf3, 0x48, 0x0f, 0xae, 0xd8, // 7: wrgsbase %rax
		0x48, 0x8b, 0x05, 0, 0, 0, 0, // 12: mov slotTrampRAX(%rip), %rax
		0xff, 0x25, 0, 0, 0, 0, // 19: jmp *slotTrampRIP(%rip)
		0xcc, // 25
	}
	le := binary.LittleEndian
	le.PutUint32(code[3:], uint32(slotTrampGS-7))    // relative to the next instruction
	le.PutUint32(code[15:], uint32(slotTrampRAX-19)) //
	le.PutUint32(code[21:], uint32(slotTrampRIP-25)) //
	return code
}

// trampolineSyscall loads GS with arch_prctl(ARCH_SET_GS), for CPUs without FSGSBASE.
// The syscall runs here, outside golos's text, so enterApp leaves the thread's Syscall
// User Dispatch selector at ALLOW and the trampoline sets it to BLOCK itself once the
// call is made. A syscall keeps the flags (the kernel restores RFLAGS from R11) and
// clobbers RAX, RCX and R11, which are loaded afterwards with RDI and RSI, the call's
// arguments.
func trampolineSyscall() []byte {
	selector := uint32(unsafe.Offsetof(Context{}.selector))
	code := []byte{
		0xbf, 0, 0, 0, 0, // 0: mov $ARCH_SET_GS, %edi
		0x48, 0x8b, 0x35, 0, 0, 0, 0, // 5: mov slotTrampGS(%rip), %rsi
		0xb8, 0, 0, 0, 0, // 12: mov $SYS_arch_prctl, %eax
		0x0f, 0x05, // 17: syscall
		0x48, 0x8b, 0x05, 0, 0, 0, 0, // 19: mov slotCtx(%rip), %rax
		0xc6, 0x80, 0, 0, 0, 0, selectorBlock, // 26: movb $selectorBlock, selector(%rax)
		0x48, 0x8b, 0x3d, 0, 0, 0, 0, // 33: mov slotTrampRDI(%rip), %rdi
		0x48, 0x8b, 0x35, 0, 0, 0, 0, // 40: mov slotTrampRSI(%rip), %rsi
		0x48, 0x8b, 0x0d, 0, 0, 0, 0, // 47: mov slotTrampRCX(%rip), %rcx
		0x4c, 0x8b, 0x1d, 0, 0, 0, 0, // 54: mov slotTrampR11(%rip), %r11
		0x48, 0x8b, 0x05, 0, 0, 0, 0, // 61: mov slotTrampRAX(%rip), %rax
		0xff, 0x25, 0, 0, 0, 0, // 68: jmp *slotTrampRIP(%rip)
		0xcc, // 74
	}
	le := binary.LittleEndian
	le.PutUint32(code[1:], archSetGS)
	le.PutUint32(code[8:], uint32(slotTrampGS-12)) // relative to the next instruction
	le.PutUint32(code[13:], unix.SYS_ARCH_PRCTL)
	le.PutUint32(code[22:], uint32(slotCtx-26))
	le.PutUint32(code[28:], selector)
	le.PutUint32(code[36:], uint32(slotTrampRDI-40))
	le.PutUint32(code[43:], uint32(slotTrampRSI-47))
	le.PutUint32(code[50:], uint32(slotTrampRCX-54))
	le.PutUint32(code[57:], uint32(slotTrampR11-61))
	le.PutUint32(code[64:], uint32(slotTrampRAX-68))
	le.PutUint32(code[70:], uint32(slotTrampRIP-74))
	return code
}

// allocSlot gives ctx a slot.
func allocSlot(ctx *Context) (uintptr, error) {
	slots.mu.Lock()
	var slot uintptr
	if n := len(slots.free); n > 0 {
		slot = slots.free[n-1]
		slots.free = slots.free[:n-1]
	} else if slots.next < slotsBase+slotsSize {
		slot = slots.next
		slots.next += slotSize
	}
	slots.mu.Unlock()
	if slot == 0 {
		return 0, fmt.Errorf("more than %d threads", maxSlots)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_MPROTECT, slot, slotSize, unix.PROT_READ|unix.PROT_WRITE); e != 0 {
		return 0, fmt.Errorf("map thread slot: %w", e)
	}
	mem := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), slot)), slotSize)
	for i, b := range trampoline() { // (not copy: it trips the Go 1.26 compiler here)
		mem[i] = b
	}
	if _, _, e := unix.RawSyscall(unix.SYS_MPROTECT, slot, 4096, unix.PROT_READ|unix.PROT_EXEC); e != 0 {
		return 0, fmt.Errorf("map thread slot: %w", e)
	}
	*(*uintptr)(unsafe.Pointer(&mem[slotCtx])) = uintptr(unsafe.Pointer(ctx))
	return slot, nil
}

// freeSlot returns a slot whose thread no longer runs on it.
func freeSlot(slot uintptr) {
	unix.RawSyscall(unix.SYS_MPROTECT, slot, slotSize, unix.PROT_NONE)
	unix.RawSyscall(unix.SYS_MADVISE, slot, slotSize, unix.MADV_DONTNEED)
	slots.mu.Lock()
	slots.free = append(slots.free, slot)
	slots.mu.Unlock()
}

func sigaltstack(ss, old *abi.StackT) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_SIGALTSTACK, uintptr(unsafe.Pointer(ss)), uintptr(unsafe.Pointer(old)), 0)
	return e
}
