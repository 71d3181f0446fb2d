// Command thr_goprog is the threads-and-signals Go program of golos's integration tests: a
// CGO_ENABLED=0 static binary whose runtime starts OS threads with clone, sleeps on
// futexes, preempts goroutines with signals, turns faults into panics through its own
// signal handler, and takes signals through os/signal. It prints only deterministic
// results and exits with status 3.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	runtime.GOMAXPROCS(2)

	preemption()
	lockedThreads()
	faultsAsPanics()
	signals()
	timers()
	garbage()
	contention()

	fmt.Println("exiting with status 3")
	os.Exit(3)
}

// preemption: two goroutines spin in loops without calls, one per P, while a third
// goroutine needs a garbage collection (a stop-the-world) and then stops them. Only
// asynchronous preemption (a signal to each spinning thread) lets the collection start.
func preemption() {
	var stop atomic.Bool
	const bound = 6e9 // ends a loop after seconds if it is never preempted
	results := make(chan bool, 2)
	var started sync.WaitGroup
	for i := 0; i < 2; i++ {
		started.Add(1)
		go func() {
			started.Done()
			n := uint64(0)
			for {
				if stop.Load() {
					break
				}
				n++
				if n >= bound {
					break
				}
			}
			results <- n < bound
		}()
	}
	started.Wait()
	gcDone := make(chan uint32)
	go func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.NumGC
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		gcDone <- ms.NumGC - before
		stop.Store(true)
	}()
	n := <-gcDone
	a, b := <-results, <-results
	fmt.Println("GC cycles while two goroutines spun on GOMAXPROCS=2:", n >= 2)
	fmt.Println("spinning goroutines stopped by the flag, not the bound:", a && b)
}

// lockedThreads: 32 goroutines locked to their OS threads at once have 32 distinct thread
// IDs; the threads end with their goroutines (they exit still locked).
func lockedThreads() {
	const n = 32
	tids := make([]int, n)
	var ready, release sync.WaitGroup
	ready.Add(n)
	release.Add(1)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread()
			tids[i] = syscall.Gettid()
			ready.Done()
			release.Wait()
		}(i)
	}
	ready.Wait()
	release.Done()
	wg.Wait()
	seen := map[int]bool{}
	for _, t := range tids {
		seen[t] = true
	}
	fmt.Println("distinct thread IDs of 32 locked goroutines:", len(seen))
}

// faultsAsPanics: a nil dereference and an integer division by zero in goroutines become
// run-time panics (the runtime's SIGSEGV and SIGFPE handler edits the signal context to
// call sigpanic), recovered; a bad access through an address the runtime never mapped too.
func faultsAsPanics() {
	try := func(name string, f func()) {
		done := make(chan string)
		go func() {
			debug.SetPanicOnFault(true) // for this goroutine
			defer func() {
				r := recover()
				if err, ok := r.(runtime.Error); ok {
					done <- "recovered " + err.Error()
					return
				}
				done <- fmt.Sprintf("recovered %v", r)
			}()
			f()
		}()
		fmt.Printf("%s: %s\n", name, <-done)
	}
	var p *[64]int
	try("nil dereference", func() { p[7] = 1 })
	zero := 0
	try("division by zero", func() { fmt.Println(10 / zero) })
	try("fault at 0x1000 (SetPanicOnFault)", func() {
		q := (*int)(unsafe.Add(unsafe.Pointer(nil), 0x1000))
		fmt.Println(*q)
	})
}

// signals: os/signal receives SIGUSR1 sent to the process and SIGUSR2 sent to one thread;
// an ignored SIGUSR2 does nothing; SIGURG (which the runtime uses itself) is harmless.
func signals() {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	pid := syscall.Getpid()

	syscall.Kill(pid, syscall.SIGUSR1)
	fmt.Println("os/signal got:", wait(ch))

	done := make(chan bool)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		syscall.Tgkill(pid, syscall.Gettid(), syscall.SIGUSR2)
		done <- true
	}()
	<-done
	fmt.Println("os/signal got from tgkill:", wait(ch))

	for i := 0; i < 5; i++ {
		syscall.Kill(pid, syscall.SIGURG)
	}
	signal.Stop(ch)
	signal.Ignore(syscall.SIGUSR2)
	syscall.Kill(pid, syscall.SIGUSR2)
	time.Sleep(20 * time.Millisecond)
	fmt.Println("ignored SIGUSR2 and SIGURG: still running")
	signal.Reset(syscall.SIGUSR2)
}

func wait(ch chan os.Signal) string {
	select {
	case s := <-ch:
		return s.String()
	case <-time.After(5 * time.Second):
		return "nothing in 5 s"
	}
}

// timers: 200 goroutines sleep for different times and all wake; AfterFunc, a ticker,
// timers stopped before they fire.
func timers() {
	var woke atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i%20) * time.Millisecond)
			woke.Add(1)
		}(i)
	}
	wg.Wait()
	fmt.Println("sleeping goroutines woken:", woke.Load())

	var fired atomic.Int32
	var afterWG sync.WaitGroup
	stopped := 0
	for i := 0; i < 100; i++ {
		afterWG.Add(1)
		t := time.AfterFunc(time.Duration(i%10)*time.Millisecond+time.Millisecond, func() {
			fired.Add(1)
			afterWG.Done()
		})
		if i%4 == 0 && t.Stop() {
			stopped++
			afterWG.Done()
		}
	}
	afterWG.Wait()
	fmt.Println("AfterFunc fired + stopped:", int(fired.Load())+stopped)

	tk := time.NewTicker(3 * time.Millisecond)
	start := time.Now()
	for i := 0; i < 10; i++ {
		<-tk.C
	}
	tk.Stop()
	fmt.Println("10 ticks of 3 ms took at least 27 ms:", time.Since(start) >= 27*time.Millisecond)
}

// garbage: 8 goroutines allocate and drop memory; finalizers run after a collection.
func garbage() {
	var wg sync.WaitGroup
	sums := make([]int, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < 200; round++ {
				b := make([]int, 4096)
				for i := range b {
					b[i] = i + g
				}
				sums[g] += b[4095]
			}
		}(g)
	}
	wg.Wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	fmt.Println("allocation sums:", total)

	var finalized atomic.Int32
	for i := 0; i < 10; i++ {
		obj := new([1024]byte)
		runtime.SetFinalizer(obj, func(*[1024]byte) { finalized.Add(1) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for finalized.Load() < 10 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	fmt.Println("finalizers run:", finalized.Load())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.NumGC
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	fmt.Println("3 more garbage collections counted:", ms.NumGC-before >= 3)
}

// contention: a mutex and a sync.Cond between 16 goroutines on 2 Ps.
func contention() {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	turn, total := 0, 0
	var wg sync.WaitGroup
	const workers, rounds = 16, 200
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				mu.Lock()
				for turn%workers != w {
					cond.Wait()
				}
				total += w
				turn++
				cond.Broadcast()
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	fmt.Println("sync.Cond token ring:", turn, "turns, total", total)

	keys := []string{}
	m := sync.Map{}
	var wg2 sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg2.Add(1)
		go func(i int) {
			defer wg2.Done()
			m.Store(fmt.Sprintf("k%02d", i), i)
		}(i)
	}
	wg2.Wait()
	m.Range(func(k, v any) bool { keys = append(keys, k.(string)); return true })
	sort.Strings(keys)
	fmt.Println("sync.Map keys:", len(keys), keys[0], keys[len(keys)-1])
}
