//go:build golosbuild

package main

import "golang.org/x/sys/unix"

// Where golos's heap goes, and why not where the sanitizers need their memory.
//
// A program built with gcc -fsanitize=address maps its shadow at fixed addresses, with
// MAP_FIXED, as soon as it starts. On x86-64 Linux the shadow offset is 0x7fff8000 and
// the layout is (compiler-rt, lib/asan/asan_mapping.h):
//
//	[0x10007fff8000, 0x7fffffffffff]  HighMem     the program's
//	[0x02008fff7000, 0x10007fff7fff]  HighShadow  ASan's
//	[0x00008fff7000, 0x02008fff6fff]  ShadowGap   ASan's, PROT_NONE
//	[0x00007fff8000, 0x00008fff6fff]  LowShadow   ASan's
//	[0x000000000000, 0x00007fff7fff]  LowMem      the program's
//
// ASan must find [sanStart, sanStart+sanSize) free: anything of golos's there makes its
// reservation fail ("ReserveShadowMemoryRange failed", since golos refuses a MAP_FIXED
// over its own memory) or its check fail ("Shadow memory range interleaves with an
// existing memory mapping"). golos's own heap is the Go runtime's, and Go 1.26 places it
// at random on amd64 (GOEXPERIMENT randomizedheapbase64; runtime/malloc.go, mallocinit):
// the arena hints start at a random multiple of 2^38 below 2^46, so a quarter of the
// starts put golos's heap inside ASan's range. Without the randomization the hints
// start at 0x00c000000000, inside the ShadowGap every time.
//
// So the entry point (sanreserve_amd64.s) maps the whole range PROT_NONE before the
// runtime starts. The runtime reserves each arena at its hint without MAP_FIXED
// (runtime/mem_linux.go, sysReserveOS); where the hint is taken the kernel answers with
// another address, which the runtime gives back before it tries the next hint
// (runtime/malloc.go, mheap.sysAlloc), and once the hints are used up it takes any
// address the kernel gives, which is high (the mmap base, near the stack). golos's heap
// then starts above 0x10007fff8000, in ASan's HighMem, and grows upwards, away from the
// range. The runtime has its first arena before any init of golos's runs (it allocates
// while it starts, runtime/proc.go, schedinit), so the init below gives the range back
// before the program is loaded. This costs one mmap and one munmap of a range without
// pages at each start, and a quarter of the starts a few failed hints (an mmap and a
// munmap each, up to 64); it relies on nothing in the runtime's code, only on the
// runtime not mapping its heap with MAP_FIXED, so it holds on any Go release.
//
// The program's own memory, where golos places it, lies below golos's image
// (loader.Area), far above 0x10007fff8000, in ASan's HighMem too.
const (
	sanStart = 0x7fff8000
	sanSize  = 0x100000000000
)

// sanReserved is sanStart once the entry point has reserved the range, 0 if it could not
// (something was mapped there already: then golos's heap is not there either).
var sanReserved uint64

func init() {
	if sanReserved != sanStart {
		return
	}
	// Cannot fail on a range this process mapped itself (munmap(2)); if it did, ASan
	// would say so in its own words when it starts.
	unix.Syscall(unix.SYS_MUNMAP, uintptr(sanReserved), sanSize, 0)
	sanReserved = 0
}

// reserveSanitizerRanges is the entry point's last step before the runtime
// (sanreserve_amd64.s). Nothing in Go calls it.
//
//lint:ignore U1000 the entry point jumps to it, not Go code
func reserveSanitizerRanges()
