// Command goprog is golos-bench's Go workload (built with CGO_ENABLED=0): goroutines,
// channels, the garbage collector and crypto/sha256 for a few hundred ms. Workers hash
// freshly allocated blocks and drop them, so the heap churns and the GC runs many
// times; the result is checked against the same hashes computed on one goroutine.
// It prints "goprog ok" and exits 0, or says what went wrong and exits 1.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"sync"
)

const (
	jobs      = 64
	blocks    = 24      // blocks per job
	blockSize = 1 << 17 // bytes per block (over 64 KiB, so on the heap)
)

// job hashes blocks generated from seed, each a fresh allocation, and returns the
// hash of the block hashes.
func job(seed uint64) [32]byte {
	outer := sha256.New()
	x := seed*0x9e3779b97f4a7c15 | 1
	for range blocks {
		b := make([]byte, blockSize)
		for i := range b {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b[i] = byte(x)
		}
		h := sha256.Sum256(b)
		outer.Write(h[:])
	}
	var sum [32]byte
	outer.Sum(sum[:0])
	return sum
}

func main() {
	var gcBefore runtime.MemStats
	runtime.ReadMemStats(&gcBefore)

	seeds := make(chan uint64)
	results := make([][32]byte, jobs)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for s := range seeds {
				results[s] = job(s)
			}
		})
	}
	for s := range uint64(jobs) {
		seeds <- s
	}
	close(seeds)
	wg.Wait()

	for _, s := range []uint64{0, jobs / 2, jobs - 1} {
		if job(s) != results[s] {
			fmt.Fprintf(os.Stderr, "goprog: job %d hashed differently on a worker\n", s)
			os.Exit(1)
		}
	}
	var gcAfter runtime.MemStats
	runtime.ReadMemStats(&gcAfter)
	if gcAfter.NumGC == gcBefore.NumGC {
		fmt.Fprintln(os.Stderr, "goprog: the garbage collector never ran")
		os.Exit(1)
	}
	fmt.Println("goprog ok")
}
