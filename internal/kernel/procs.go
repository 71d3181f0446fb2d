package kernel

import (
	"runtime"
	"sync"
)

// procsHeadroom is how many of golos's runtime Ps there are beyond the CPUs once the
// application has more than one thread.
const procsHeadroom = 6

// golosProcs is GOMAXPROCS for golos's own runtime once the application has threads,
// whatever the environment says (a GOMAXPROCS there is the program's): the CPUs, and
// room for the application's threads. Each application thread holds a P while it runs
// the program's code, in the runtime's syscall state, until sysmon takes it back (20 µs
// to 10 ms later); with only as many Ps as CPUs, golos's own goroutines and a new
// thread's start wait for that, through handoffs between OS threads. Measured here (2
// CPUs, golos-bench's threads row: 1,000 threads made and joined one at a time): 2.2–3.8×
// native with 2 Ps, 1.4× with 4, 1.2× with 8.
func golosProcs() int {
	return runtime.NumCPU() + procsHeadroom
}

// minStartProcs is how many Ps golos's runtime needs while the application has one
// thread: one for that thread, which holds it while the program's code runs, and one
// for golos's own goroutines (the signal forwarder, the /proc answerer, the garbage
// collector's workers).
const minStartProcs = 2

var procsRaised sync.Once

// StartProcs sets golos's runtime's Ps for a process's start: the runtime's own count
// (the CPUs) is enough for a single-threaded program, so the raise to golosProcs waits
// for the program's second thread (raiseProcs). runtime.GOMAXPROCS stops the world and
// resizes the runtime's P array, which took 0.1–0.3 ms of every start on a loaded 2-CPU
// machine (docs/performance-analysis.md). With fewer Ps than minStartProcs (one CPU, or
// a GOMAXPROCS in the environment, which is the program's) it raises at once.
func StartProcs() {
	if runtime.GOMAXPROCS(0) < minStartProcs {
		raiseProcs()
	}
}

// raiseProcs gives golos's runtime golosProcs Ps, once: called as the application
// creates a thread (clone), before the new thread needs a P of its own.
func raiseProcs() {
	procsRaised.Do(func() {
		runtime.GOMAXPROCS(golosProcs())
	})
}
