// Command goprog is the Go program of golos's integration tests: a CGO_ENABLED=0 static
// binary whose runtime sets its own FS base, starts threads, takes signals for preemption
// and runs a garbage collector. It exercises goroutines and channels, timers, the GC and
// async preemption, allocates a few MiB and hashes data, prints only deterministic
// results and exits with status 7.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	fmt.Printf("args: %d %q\n", len(os.Args)-1, os.Args[1:])

	// Goroutines and channels: a pool of workers squares numbers from a channel.
	jobs := make(chan int)
	results := make(chan int, 16)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				results <- n * n
			}
		}()
	}
	go func() {
		for i := 1; i <= 10000; i++ {
			jobs <- i
		}
		close(jobs)
	}()
	go func() { wg.Wait(); close(results) }()
	total := 0
	for r := range results {
		total += r
	}
	fmt.Println("sum of squares 1..10000:", total)

	// A few MiB of allocation kept alive across garbage collections.
	var keep [][]byte
	for i := 0; i < 48; i++ {
		b := make([]byte, 128<<10)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		keep = append(keep, b)
		if i%16 == 15 {
			runtime.GC()
		}
	}
	// Garbage: many small short-lived objects.
	var m map[int]string
	for round := 0; round < 20; round++ {
		m = make(map[int]string)
		for i := 0; i < 5000; i++ {
			m[i] = strings.Repeat("x", i%40)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Println("garbage collections ran:", ms.NumGC >= 4, "map size:", len(m))
	h := sha256.New()
	for _, b := range keep {
		h.Write(b)
	}
	fmt.Printf("sha256 of kept data: %x\n", h.Sum(nil))

	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i ^ i>>8 ^ i>>16)
	}
	fmt.Printf("sha256 of 1 MiB: %x\n", sha256.Sum256(data))

	// Timers: sleep, time.After, a ticker, AfterFunc, and a select with a timeout.
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	<-time.After(10 * time.Millisecond)
	tk := time.NewTicker(2 * time.Millisecond)
	for i := 0; i < 5; i++ {
		<-tk.C
	}
	tk.Stop()
	fired := make(chan string, 1)
	time.AfterFunc(5*time.Millisecond, func() { fired <- "fired" })
	fmt.Println("AfterFunc:", <-fired)
	select {
	case <-make(chan int):
		fmt.Println("select: impossible")
	case <-time.After(5 * time.Millisecond):
		fmt.Println("select: timed out as expected")
	}
	fmt.Println("timers took at least 40ms:", time.Since(start) >= 40*time.Millisecond)

	// Async preemption: with one P, a goroutine spinning in a loop without calls keeps the
	// main goroutine from running unless the runtime preempts it with a signal.
	prev := runtime.GOMAXPROCS(1)
	var stop atomic.Bool
	var spins uint64
	done := make(chan bool)
	go func() {
		n := uint64(0)
		for !stop.Load() && n < 8e9 { // the bound ends the loop after seconds if never preempted
			n++
		}
		spins = n
		done <- stop.Load()
	}()
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	fmt.Println("async preemption worked:", <-done, spins < 8e9)
	runtime.GOMAXPROCS(prev)

	// Mutex-protected map from many goroutines, printed in order.
	var mu sync.Mutex
	counts := map[string]int{}
	var wg2 sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg2.Add(1)
		go func(i int) {
			defer wg2.Done()
			k := fmt.Sprintf("k%d", i%5)
			mu.Lock()
			counts[k] += i
			mu.Unlock()
		}(i)
	}
	wg2.Wait()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%d ", k, counts[k])
	}
	fmt.Println()

	fmt.Println("exiting with status 7")
	os.Exit(7)
}
