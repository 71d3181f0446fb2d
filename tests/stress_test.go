package tests

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStressGoPrograms runs the Go test programs (testdata/goprog and thr_goprog) under
// golos hundreds of times, two at a time, and fails on any run that hangs, crashes or
// differs from the native run in stdout or exit status. Races between the application's
// threads, golos's kicks and the Go runtimes' preemption and poller show up only once in a
// few hundred runs on a loaded machine; a single run of each (TestGoProgram,
// TestThreadsGoProgram) rarely meets them.
//
// GOLOS_STRESS_RUNS sets the number of runs (default stressRuns); the test stops starting
// runs after stressBudget, and at the first failure.
func TestStressGoPrograms(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test: not with -short")
	}
	needGolos(t)
	runs := stressRuns
	if s := os.Getenv("GOLOS_STRESS_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("GOLOS_STRESS_RUNS=%q: want a positive number", s)
		}
		runs = n
	}
	type program struct {
		path   string
		native *result
	}
	var progs []program
	for _, name := range []string{"goprog.go-static", "thr_goprog.go-static"} {
		p := prog(t, name)
		o := &runOpts{dir: t.TempDir()}
		nat := runNative(o, p)
		if nat.err != nil || nat.timedOut || nat.signal != 0 {
			t.Fatalf("native run of %s: %s\nstderr:\n%s", name, nat, clip(nat.stderr))
		}
		progs = append(progs, program{p, nat})
	}

	start := time.Now()
	var (
		next, done, failed atomic.Int32
		mu                 sync.Mutex
		failures           []string
		slowest            time.Duration
	)
	var wg sync.WaitGroup
	for range stressParallel {
		wg.Go(func() {
			dir := t.TempDir()
			for {
				i := int(next.Add(1)) - 1
				if i >= runs || failed.Load() != 0 || time.Since(start) > stressBudget {
					return
				}
				p := progs[i%len(progs)]
				g := runGolosOpts(&runOpts{dir: dir, timeout: stressTimeout}, "run", p.path)
				done.Add(1)
				var problem string
				switch {
				case g.err != nil:
					problem = g.String()
				case g.timedOut:
					problem = fmt.Sprintf("hung: %s", g)
				case g.signal != 0:
					problem = fmt.Sprintf("golos was killed by signal %d (%v)", int(g.signal), g.signal)
				case crashed(g.stderr):
					problem = "golos crashed (a Go panic or fatal error on its stderr)"
				case g.code != p.native.code:
					problem = fmt.Sprintf("exit status: native %d, golos %d", p.native.code, g.code)
				case !bytes.Equal(g.stdout, p.native.stdout):
					problem = "stdout differs: " + firstDiff(p.native.stdout, g.stdout)
				}
				mu.Lock()
				slowest = max(slowest, g.elapsed)
				if problem != "" {
					failed.Add(1)
					failures = append(failures, fmt.Sprintf("run %d of %s: %s\n--- golos stderr:\n%s---",
						i+1, p.path, problem, clip(g.stderr)))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d runs in %.1fs, %d at a time; slowest %v", done.Load(), time.Since(start).Seconds(),
		stressParallel, slowest.Round(time.Millisecond))
	for _, f := range failures {
		t.Errorf("%s", f)
	}
	if failures == nil && int(done.Load()) < runs/2 {
		t.Errorf("only %d of %d runs within %v: golos is far slower than it should be", done.Load(), runs, stressBudget)
	}
}

const (
	stressRuns     = 300              // runs of the two programs, alternately
	stressParallel = 2                // runs at a time
	stressTimeout  = 20 * time.Second // a run that takes longer hangs (each takes well under 1 s)
	stressBudget   = 75 * time.Second // no new run starts after this
)
