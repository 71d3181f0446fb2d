package kernel

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// stressEnv, when set in golos's environment, makes golos's own Go runtime work hard while
// the application runs: a goroutine allocates and collects garbage without pause, and
// others spin in loops without calls, which only asynchronous preemption (a signal to
// their threads) can stop for the collector's stop-the-world phases. The tests use it to
// show that none of this touches the application's FS (docs/design.md, invariant 2). At exit
// golos reports how many collections ran.
const stressEnv = "GOLOS_STRESS_RUNTIME"

var spins atomic.Uint64

func (p *Process) stressRuntime() {
	go func() {
		var keep [][]byte
		for {
			for i := 0; i < 64; i++ {
				keep = append(keep, make([]byte, 64<<10))
			}
			keep = keep[:0]
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; i < 2; i++ {
		go func() {
			for {
				var n uint64
				for j := 0; j < 1<<30; j++ { // no calls: only a signal preempts this
					n += uint64(j)
				}
				spins.Add(n)
			}
		}()
	}
}

// stressReport is the line golos prints at exit in stress mode.
func stressReport() string {
	var s debug.GCStats
	debug.ReadGCStats(&s)
	return fmt.Sprintf("runtime stress: %d garbage collections", s.NumGC)
}
