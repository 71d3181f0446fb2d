// Command sample exercises every way the Go runtime reaches its TLS: the main
// thread (settls), new threads (clone), goroutine switches, GC, timers and
// asynchronous preemption (signals). The tests build it, rewrite it with
// tlsmove, and compare both binaries' behaviour.
//
//	sample        deterministic work; prints one line and exits with status 3
//	sample tls    prints whether FS and GS bases are zero on the main thread
//	              and on a new thread
//	sample junkfs points FS at unmapped memory, then keeps running Go code
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// arch_prctl codes (asm/prctl.h).
const (
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

func init() {
	// Keep the main goroutine on the main thread, so that every other
	// goroutine runs on a thread the runtime created with clone.
	runtime.LockOSThread()
}

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "":
		work()
		os.Exit(3)
	case "tls":
		fmt.Println("main:", bases(), "mainthread="+fmt.Sprint(syscall.Gettid() == syscall.Getpid()))
		ch := make(chan string)
		go func() {
			runtime.LockOSThread()
			ch <- bases() + " newthread=" + fmt.Sprint(syscall.Gettid() != syscall.Getpid())
		}()
		fmt.Println("thread:", <-ch)
	case "junkfs":
		junkFS()
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		os.Exit(2)
	}
}

func arch(code, arg uintptr) uintptr {
	_, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, code, arg, 0)
	if e != 0 {
		panic(e)
	}
	return arg
}

func base(code uintptr) uintptr {
	var v uintptr
	arch(code, uintptr(unsafe.Pointer(&v)))
	return v
}

func bases() string {
	state := func(v uintptr) string {
		if v == 0 {
			return "zero"
		}
		return "set"
	}
	return "fs=" + state(base(archGetFS)) + " gs=" + state(base(archGetGS))
}

// work runs goroutines on several threads, some locked to new threads,
// while another goroutine forces GCs and a third spins without function
// calls, so that only asynchronous preemption (a signal) can stop it.
func work() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			sum := 0
			for r := 0; r < 20; r++ {
				s := make([]int, 1000+i) // garbage for the GC
				for j := range s {
					s[j] = j * (i + 1)
				}
				for _, v := range s {
					sum += v % 11
				}
				time.Sleep(time.Millisecond)
			}
			results[i] = sum
		}()
	}

	stop := make(chan struct{})
	gcs := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				gcs <- n
				return
			default:
				runtime.GC()
				n++
			}
		}
	}()

	var spin uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		x := uint64(1)
		for i := uint64(0); i < 100_000_000; i++ {
			x = x*6364136223846793005 + i
		}
		spin = x
	}()

	wg.Wait()
	<-time.After(5 * time.Millisecond)
	close(stop)
	n := <-gcs

	status, _ := os.ReadFile("/proc/self/status")
	threads := 0
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			fmt.Sscan(v, &threads)
		}
	}
	fmt.Printf("results=%v spin=%#x gc>=3:%v threads>=3:%v\n", results, spin, n >= 3, threads >= 3)
}

// junkFS does what an application does to golos's kernel: it points FS at
// memory that is not mapped, then the Go code on that thread keeps running
// (allocation, GC, goroutine switches, timers), and FS must still hold the
// junk afterwards.
func junkFS() {
	const junk = 0xdead0000
	done := make(chan string)
	go func() {
		runtime.LockOSThread() // this thread's FS is about to be junk for good
		arch(archSetFS, junk)
		var keep [][]byte
		for i := 0; i < 20; i++ {
			keep = append(keep, make([]byte, 1<<16))
			runtime.GC()
			time.Sleep(time.Millisecond)
			runtime.Gosched()
		}
		done <- fmt.Sprintf("junk fs kept=%v allocs=%d", base(archGetFS) == junk, len(keep))
	}()
	fmt.Println(<-done)
}
