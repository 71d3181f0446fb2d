package kernel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
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
	p := newProcess(Options{})
	th := &Thread{p: p, ctx: ctx, tid: unix.Gettid()}
	var ts unix.Timespec
	var act abi.Sigaction
	var ss abi.StackT
	for _, tc := range []struct {
		name string
		nr   uint64
		code int64
		args [4]uint64
	}{
		{"getppid via a rewritten site", unix.SYS_GETPPID, entry.CodeFast, [4]uint64{}},
		{"getppid via SIGSYS", unix.SYS_GETPPID, 2, [4]uint64{}},
		{"gettid (golos's own)", unix.SYS_GETTID, entry.CodeFast, [4]uint64{}},
		{"clock_gettime", unix.SYS_CLOCK_GETTIME, entry.CodeFast,
			[4]uint64{unix.CLOCK_MONOTONIC, uint64(uintptrOf(&ts))}},
		// golos's own, through the typed copies of package abi:
		{"rt_sigaction", unix.SYS_RT_SIGACTION, entry.CodeFast,
			[4]uint64{uint64(unix.SIGUSR1), uint64(uintptrOf(&act)), uint64(uintptrOf(&act)), 8}},
		{"sigaltstack", unix.SYS_SIGALTSTACK, entry.CodeFast,
			[4]uint64{0, uint64(uintptrOf(&ss))}},
	} {
		allocs := testing.AllocsPerRun(1000, func() {
			ctx.Regs.RAX = tc.nr
			ctx.Regs.RDI, ctx.Regs.RSI, ctx.Regs.RDX, ctx.Regs.R10 = tc.args[0], tc.args[1], tc.args[2], tc.args[3]
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
