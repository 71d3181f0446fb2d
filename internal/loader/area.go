package loader

import "golang.org/x/sys/unix"

// Area is the part of the address space where the program's memory goes when it names
// no address — Linux's mmap region, which the loader also uses for an interpreter, a
// static-pie and the stack. golos keeps it apart from its own memory, so that a program
// writing past the end of one of its mappings faults (or gets EFAULT from a syscall), as
// it would natively, instead of landing in golos's Go heap, stacks or runtime:
//   - golos's text and data are linked high (at 0x7e0000001000: internal/build), and its
//     runtime's own mappings come from the host's mmap region, above them (below the
//     host stack);
//   - Go's heap starts at a random address below 1<<46 (runtime/malloc.go,
//     randomizeHeapBase: randHeapAddrBits is 46 on amd64) and grows up from there.
//
// So the area lies between the two, with at least areaGuard of unmapped space to
// either side, and its top moves down by a random number of pages, as Linux's mmap
// base does (arch_mmap_rnd: 28 bits of pages).
//
// The main stack takes the top of the area, with nothing above it, as Linux's lies above
// its mmap base with nothing above it but randomisation's gap: a program can grow it
// upwards in place with mremap(2). Below it, the room it may grow down into (stackZone);
// the loader's other mappings go below that.
type Area struct {
	Lo, Hi uint64 // [Lo, Hi)
	next   uint64 // the loader's own mappings go down from here (take)
	stack  uint64 // the room at the top kept for the stack, unmapped: [Hi-stack, Hi)
}

const (
	goHeapEnd = 1 << 46
	areaGuard = 4 << 30
)

// NewArea picks the program's area for a new address space, below golos's own image,
// which starts at golosStart. It returns nil if there is no room for one (a golos linked
// elsewhere): the host's mmap then places everything.
func NewArea(golosStart uint64) *Area {
	if golosStart < goHeapEnd+2*areaGuard+mmapRndPages*pageSize+(1<<40) {
		return nil
	}
	hi := (golosStart - areaGuard - randomBelow(mmapRndPages)*pageSize) &^ (pageSize - 1)
	stack := stackZone(stackLimit())
	return &Area{Lo: goHeapEnd + areaGuard, Hi: hi, next: hi - stack, stack: stack}
}

// mapStack maps the main stack's first init bytes, growing down (MAP_GROWSDOWN), at the
// top of the room kept for it, which must be zone bytes at least; where that place is
// taken or there is no area, at the top of zone bytes the host's mmap picks, the rest
// left free for it to grow into. It returns the stack's top.
func (a *Area) mapStack(zone, init uint64, prot int) (uint64, error) {
	const flags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_GROWSDOWN
	if a != nil && zone <= a.stack {
		if _, err := mmap(a.Hi-init, init, prot, flags|unix.MAP_FIXED_NOREPLACE, -1, 0); err == nil {
			return a.Hi, nil
		}
	}
	lo, err := mmap(0, zone, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE, -1, 0)
	if err != nil {
		return 0, err
	}
	top := lo + zone
	if _, err := mmap(top-init, init, prot, flags|unix.MAP_FIXED, -1, 0); err != nil {
		unix.Syscall(unix.SYS_MUNMAP, uintptr(lo), uintptr(zone), 0)
		return 0, err
	}
	unix.Syscall(unix.SYS_MUNMAP, uintptr(lo), uintptr(zone-init), 0)
	return top, nil
}

// take returns the start of size bytes at the top of what the loader has not used yet
// in the area, or 0 if they do not fit.
func (a *Area) take(size uint64) uint64 {
	if a == nil {
		return 0
	}
	size = pageUp(size)
	if a.next-a.Lo < size {
		return 0
	}
	a.next -= size
	return a.next
}

// mapIn maps length bytes in the area (MAP_FIXED_NOREPLACE at the place take gives), or
// where the host's mmap picks when the area has no room or the place is taken.
func (a *Area) mapIn(length uint64, prot, flags int) (uint64, error) {
	if at := a.take(length); at != 0 {
		r, err := mmap(at, length, prot, flags|unix.MAP_FIXED_NOREPLACE, -1, 0)
		if err == nil {
			return r, nil
		}
	}
	return mmap(0, length, prot, flags, -1, 0)
}
