package kernel

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golos/internal/entry"
)

// stats counts, for --stats, each syscall the application makes and the time golos
// spends on it, from the trap to the return into the application.
type stats struct {
	calls   [512]atomic.Uint64
	nanos   [512]atomic.Uint64
	fast    atomic.Uint64 // calls that came through a rewritten site
	traps   atomic.Uint64 // calls that came as SIGSYS
	inGolos atomic.Int64  // nanoseconds between a trap and the return to the application
}

// record notes one syscall that took d in golos.
func (s *stats) record(nr uint64, code int64, d time.Duration) {
	if nr < uint64(len(s.calls)) {
		s.calls[nr].Add(1)
		s.nanos[nr].Add(uint64(d))
	}
	if code == entry.CodeFast {
		s.fast.Add(1)
	} else {
		s.traps.Add(1)
	}
}

// report is what --stats prints at exit.
func (s *stats) report(rewritten uint64) string {
	type row struct {
		nr           int
		calls, nanos uint64
	}
	var rows []row
	var total uint64
	for nr := range s.calls {
		if c := s.calls[nr].Load(); c > 0 {
			rows = append(rows, row{nr, c, s.nanos[nr].Load()})
			total += c
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].calls > rows[j].calls })
	var b strings.Builder
	fmt.Fprintf(&b, "stats: %d syscalls (%d through rewritten sites, %d as SIGSYS; %d sites rewritten), %.3f ms in golos\n",
		total, s.fast.Load(), s.traps.Load(), rewritten, float64(s.inGolos.Load())/1e6)
	gs := "arch_prctl (no FSGSBASE)"
	if entry.GSByInsn() {
		gs = "wrgsbase (FSGSBASE)"
	}
	fmt.Fprintf(&b, "  a GS base of the program's own is switched with %s\n", gs)
	fmt.Fprintf(&b, "  %-20s %10s %12s %10s\n", "syscall", "calls", "time in golos", "ns/call")
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-20s %10d %12.3fms %10.0f\n", syscallName(uint64(r.nr)), r.calls,
			float64(r.nanos)/1e6, float64(r.nanos)/float64(r.calls))
	}
	return strings.TrimRight(b.String(), "\n")
}
