package kernel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// The Go side of a crossing allocates nothing for a syscall golos passes through, nor for
// one it answers itself: the entry path costs no garbage.
func TestSyscallAllocatesNothing(t *testing.T) {
	ctx, err := entry.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer entry.FreeContext(ctx)
	p := &Process{noted: map[uint64]bool{}}
	th := &Thread{p: p, ctx: ctx, tid: unix.Gettid()}
	for _, tc := range []struct {
		name string
		nr   uint64
		code int64
	}{
		{"getppid via a rewritten site", unix.SYS_GETPPID, entry.CodeFast},
		{"getppid via SIGSYS", unix.SYS_GETPPID, 2},
		{"gettid (golos's own)", unix.SYS_GETTID, entry.CodeFast},
		{"clock_gettime", unix.SYS_CLOCK_GETTIME, entry.CodeFast},
	} {
		var ts unix.Timespec
		allocs := testing.AllocsPerRun(1000, func() {
			ctx.Regs.RAX = tc.nr
			ctx.Regs.RDI = unix.CLOCK_MONOTONIC
			ctx.Regs.RSI = uint64(uintptrOf(&ts))
			ctx.Regs.RIP = 0 // no site to rewrite
			ctx.Code = tc.code
			th.syscall()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per syscall", tc.name, allocs)
		}
		if int64(ctx.Regs.RAX) < 0 {
			t.Errorf("%s: returned %d", tc.name, int64(ctx.Regs.RAX))
		}
	}
}

// uintptrOf is the address of a Go value, handed to a handler as the application would.
func uintptrOf[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }
