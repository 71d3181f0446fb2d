package entry

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
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
	slotStack    = 2 * 4096
	maxSlots     = 16 << 10 // threads at once: 2 GiB of address space, reserved
)

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

// trampoline is the code of a slot's page 0. It loads the application's GS base, then its
// RAX, and jumps to its RIP, all three read RIP-relative from page 1: the only way to
// reach per-thread data once every register but one holds the application's value and GS
// no longer points at golos's. (mov rel32(%rip),%rax; wrgsbase %rax; mov rel32(%rip),%rax;
// jmp *rel32(%rip); int3)
func trampoline() []byte {
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

// stackT is Linux's stack_t.
type stackT struct {
	sp    uintptr
	flags int32
	_     int32
	size  uintptr
}

func sigaltstack(ss, old *stackT) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_SIGALTSTACK, uintptr(unsafe.Pointer(ss)), uintptr(unsafe.Pointer(old)), 0)
	return e
}
