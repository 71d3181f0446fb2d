package tests

import (
	"bytes"
	"os"
	"regexp"
	"testing"
)

// Threads and futexes: each program runs natively and under golos, and stdout and the
// exit status must be the same; wantNative checks that the native run does what the
// program is written to do.

// forBuilds runs f as a parallel subtest per flavour of a program of extraBuilds (C++,
// OpenMP), with the program's path.
func forBuilds(t *testing.T, name string, flavourNames []string, f func(t *testing.T, path string)) {
	for _, fl := range flavourNames {
		t.Run(fl, func(t *testing.T) {
			t.Parallel()
			f(t, prog(t, name+"."+fl))
		})
	}
}

// TestThreadsTLS: 100 threads alive at once, each with its own __thread data and errno,
// and an FS base (ARCH_GET_FS) equal to pthread_self().
func TestThreadsTLS(t *testing.T) {
	forFlavours(t, "thr_tls", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "threads created: 100, joined with their value: 100\n",
			"fs base == pthread_self(): 100/100\n", "own tls kept across barriers: 100/100\n",
			"distinct tls addresses (with main): 101\n", "PASS\n")
	})
}

// TestThreadsFutex: a mutex, condition variables, a priority-inheritance mutex and raw
// futex calls under contention from 8 threads.
func TestThreadsFutex(t *testing.T) {
	forFlavours(t, "thr_futex", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "mutex counter (8 x 20000): 160000 (ok)\n",
			"condvar token ring handoffs: 20000 (ok)\n", "bounded queue sum: 3200040000 (ok)\n",
			"pi mutex counter (8 x 5000): 40000 (ok)\n",
			"pthread_mutex_timedlock on a held mutex: ETIMEDOUT\n",
			"FUTEX_WAIT on a changed value: -1 EAGAIN\n", "FUTEX_WAIT with a 20 ms timeout: -1 ETIMEDOUT\n",
			"FUTEX_WAKE woke the waiting thread: yes\n", "failures: 0\n")
	})
}

// TestThreadsJoin: exit values, detached threads, 1,000 threads in batches and 2,000
// create/join pairs; golos must not keep a host thread per application thread that ended
// (the program prints whether /proc/self/status counts fewer than 50 threads at the end,
// and the count on stderr).
func TestThreadsJoin(t *testing.T) {
	forFlavours(t, "thr_join", func(t *testing.T, p string) {
		nat, g := runBoth(t, p)
		wantNative(t, nat, 0, "value of a thread ended by pthread_exit from a nested call (join: 0): 1021 (ok)\n",
			"detached threads at the barrier: 10 (ok)\n", "batch threads sum of values: 500500 (ok)\n",
			"churn create/join pairs: 2000 (ok)\n", "threads bounded: yes\n", "failures: 0\n")
		if g != nil && bytes.Contains(g.stdout, []byte("threads bounded: no\n")) {
			count := "an unknown number of"
			if m := regexp.MustCompile(`Threads: (-?\d+)`).FindSubmatch(g.stderr); m != nil {
				count = string(m[1])
			}
			t.Errorf("after 3,000 application threads came and went, golos's process has %s threads (want fewer than 50)", count)
		}
	})
}

// TestThreadsCancel: pthread_cancel, which libc carries out with a real-time signal of its
// own: in read(), in nanosleep(), asynchronously in a loop without syscalls, and at
// pthread_testcancel() after cancellation was disabled.
func TestThreadsCancel(t *testing.T) {
	forFlavours(t, "thr_cancel", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"cancelled in read(): join ok, PTHREAD_CANCELED yes, cleanup handler ran 1 time(s)\n",
			"cancelled asynchronously in a loop without syscalls: join ok, PTHREAD_CANCELED yes, cleanup handler ran 1 time(s)\n",
			"carried on while disabled: yes\n", "failures: 0\n")
	})
}

// TestThreadsGoProgram runs testdata/thr_goprog: goroutines that only asynchronous
// preemption can stop while a GC needs them stopped (GOMAXPROCS=2), 32 locked OS threads,
// faults turned into panics by the Go runtime's own signal handler, os/signal, timers,
// finalizers and a sync.Cond ring; it exits with status 3.
func TestThreadsGoProgram(t *testing.T) {
	t.Parallel()
	p := prog(t, "thr_goprog.go-static")
	nat, _ := runBoth(t, p)
	wantNative(t, nat, 3, "GC cycles while two goroutines spun on GOMAXPROCS=2: true\n",
		"spinning goroutines stopped by the flag, not the bound: true\n",
		"distinct thread IDs of 32 locked goroutines: 32\n",
		"nil dereference: recovered runtime error: invalid memory address or nil pointer dereference\n",
		"division by zero: recovered runtime error: integer divide by zero\n",
		"os/signal got: user defined signal 1\n", "os/signal got from tgkill: user defined signal 2\n",
		"sleeping goroutines woken: 200\n", "finalizers run: 10\n",
		"sync.Cond token ring: 3200 turns, total 24000\n", "exiting with status 3\n")
}

// TestThreadsGOMAXPROCSEnv: a GOMAXPROCS in the environment is the program's, but golos's
// own runtime reads it too as it starts, and golos keeps its runtime's count of Ps until
// the program's second thread (kernel.StartProcs, raiseProcs): with GOMAXPROCS=1 the
// program's threads, signals, futexes and its own Go runtime (thr_goprog, which takes
// GOMAXPROCS=1 from the environment as well) must work as natively. thr_futex: 8 C
// threads in contention.
func TestThreadsGOMAXPROCSEnv(t *testing.T) {
	o := runOpts{env: []string{"GOMAXPROCS=1"}}
	t.Run("thr_futex", func(t *testing.T) {
		t.Parallel()
		nat, _ := runBothOpts(t, o, prog(t, "thr_futex.glibc-static"))
		wantNative(t, nat, 0, "mutex counter (8 x 20000): 160000 (ok)\n", "failures: 0\n")
	})
	t.Run("thr_goprog", func(t *testing.T) {
		t.Parallel()
		nat, _ := runBothOpts(t, o, prog(t, "thr_goprog.go-static"))
		wantNative(t, nat, 3, "sleeping goroutines woken: 200\n", "exiting with status 3\n")
	})
}

// TestThreadsOpenMP: a parallel-for reduction on 4 threads, 2,000 parallel regions, tasks
// (libgomp: a thread pool sleeping on futexes), static and dynamic (through ld.so).
func TestThreadsOpenMP(t *testing.T) {
	forBuilds(t, "thr_omp", []string{"glibc-static", "glibc-dynamic"}, func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "reduction sum 1..10000000: 50000005000000\n",
			"team size: 4, thread numbers seen: 0 1 2 3, threadprivate copies kept: 4\n",
			"fib(27) with tasks: 196418\n", "PASS\n")
	})
}

// TestThreadsCxx: std::thread with thread_local objects (destroyed at thread exit),
// std::mutex, std::condition_variable, std::async and exceptions in threads; static,
// static-pie and dynamic.
func TestThreadsCxx(t *testing.T) {
	forBuilds(t, "thr_cxx", []string{"glibc-static", "glibc-static-pie", "glibc-dynamic"}, func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "thread_local objects constructed: 8 (ok)\n",
			"thread_local objects destroyed at thread exit: 8 (ok)\n",
			"exception through a future: from a thread\n", "exceptions caught in 8 threads: 4000 (ok)\n",
			"failures: 0\n")
	})
}

// TestThreadsClone3: clone3 with every size of struct clone_args Linux accepts (64 to a
// page, zeros past the 88 bytes it knows) and those it refuses, set_tid misuse and a bad
// pointer, for a thread and for a fork-like child (exit_signal SIGCHLD); a struct at the
// end of readable memory, read only as far as its size; clone3's checks of exit_signal,
// CLONE_DETACHED and the stack. golos's copy-in (abi.CopyStructIn) must take each size
// as Linux's copy_struct_from_user does (a 64-byte one used to panic golos).
func TestThreadsClone3(t *testing.T) {
	forFlavours(t, "clone3", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "size 56: EINVAL\n", "size 63: EINVAL\n", "size 64: thread ran yes\n",
			"size 80: thread ran yes\n", "size 87: thread ran yes\n", "size 88: thread ran yes\n",
			"size 96: thread ran yes\n", "size 4096: thread ran yes\n", "size 4097: E2BIG\n",
			"size 96, extra byte set: E2BIG\n", "bad pointer: EFAULT\n",
			"fork, size 56: EINVAL\n", "fork, size 64: child exited 42\n", "fork, size 80: child exited 42\n",
			"fork, size 88: child exited 42\n", "fork, size 96: child exited 42\n",
			"fork, size 96, extra byte set: E2BIG\n", "fork, bad pointer, size 64: EFAULT\n",
			"fork, bad pointer, size 96: EFAULT\n", "fork, exit_signal with high bits: EINVAL\n",
			"fork, CLONE_DETACHED: EINVAL\n", "fork, stack without stack_size: EINVAL\n",
			"64 readable bytes, size 64: thread ran yes\n", "fork, 64 readable bytes, size 80: EFAULT\n",
			"88 readable bytes, size 80: thread ran yes\n", "fork, 88 readable bytes, size 88: child exited 42\n",
			"88 readable bytes, size 96: EFAULT\n")
	})
}

// TestCloneFlagsInvalid: the clone(2) flag combinations Linux refuses before it makes
// anything (kernel/fork.c, copy_process) give EINVAL under golos too, and not golos's
// ENOSYS for what it does not support (CLONE_SIGHAND without CLONE_VM, a new mount or
// user namespace with CLONE_FS); clone(2) takes an exit signal past 64 (clone3 does not).
func TestCloneFlagsInvalid(t *testing.T) {
	forFlavours(t, "clone_flags", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "CLONE_THREAD alone: EINVAL\n", "CLONE_SIGHAND without CLONE_VM: EINVAL\n",
			"CLONE_NEWNS|CLONE_FS: EINVAL\n", "CLONE_PIDFD|CLONE_DETACHED: EINVAL\n",
			"exit signal 65: ok\n", "plain fork: ok\n")
	})
}

// TestThreadsTenThousand: 10,000 threads alive at once, as Linux runs them; the Go
// runtime's own thread limit (10,000) must not end golos. One flavour: the point is the
// count, and each run takes seconds.
func TestThreadsTenThousand(t *testing.T) {
	t.Parallel()
	p := prog(t, "thr_many.glibc-static")
	nat, _ := runBoth(t, p)
	wantNative(t, nat, 0, "threads alive at once: 10000, joined with their values: yes\n")
}

// TestThreadsInProc: /proc/self/task and the Threads line of /proc/self/status count the
// program's threads, not golos's runtime threads.
func TestThreadsInProc(t *testing.T) {
	forFlavours(t, "proc_threads", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "/proc/self/task: 4 entries, 4 of them the program's threads\n",
			"/proc/PID/task: 4 entries, 4 of them the program's threads\n", "/proc/self/status Threads:\t4\n",
			"/proc/thread-self/status Threads:\t4\n")
	})
}

// TestThreadsIDsUnique: a thread's id is not given again at once, as on Linux (its pids
// go round a cycle, kernel/pid.c alloc_pid): threads started one after another, and
// with one alive meanwhile, have ids of their own (golos used to run a new thread on an
// exited one's OS thread, whose tid it is). CPython's test_threading test_various_ops
// checks the same with threading.get_native_id(): ten threads, at most three running at
// once, and the main thread have eleven distinct ids.
func TestThreadsIDsUnique(t *testing.T) {
	forFlavours(t, "thr_ids", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "distinct ids of 5 threads started one after another: 5\n",
			"distinct ids of those, one kept alive and 5 more: 11\n")
	})
	t.Run("python", func(t *testing.T) {
		t.Parallel()
		const python = "/usr/bin/python3"
		needProgram(t, python, "python3")
		nat, _ := runBoth(t, python, "-S", "-c", `import threading
ids, lock, sema = [threading.get_native_id()], threading.Lock(), threading.BoundedSemaphore(3)
def task():
    with sema:
        with lock:
            ids.append(threading.get_native_id())
threads = [threading.Thread(target=task) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
one_by_one = []
for _ in range(5):
    t = threading.Thread(target=lambda: one_by_one.append(threading.get_native_id()))
    t.start()
    t.join()
print("distinct native ids of the main thread and 10 others:", len(set(ids)))
print("distinct native ids of 5 threads one after another:", len(set(one_by_one)))`)
		wantNative(t, nat, 0, "distinct native ids of the main thread and 10 others: 11\n",
			"distinct native ids of 5 threads one after another: 5\n")
	})
}

// TestProcSelfProgram: /proc/self describes the program, not golos: the Threads line of
// status and stat's num_threads with 1 and 4 threads, stat's vsize equal to status's
// VmSize, task directories for the program's tids and none for golos's runtime threads
// (tids near the pid), smaps with the ranges of maps and smaps_rollup spanning them, and
// /proc/self/limits after setrlimit(RLIMIT_NOFILE) and setrlimit(RLIMIT_AS).
func TestProcSelfProgram(t *testing.T) {
	forFlavours(t, "proc_self", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "1 thread: status Threads 1, stat num_threads 1\n",
			"1 thread: stat vsize is status VmSize: yes\n",
			"4 threads: status Threads 4, stat num_threads 4\n",
			"4 threads: stat vsize is status VmSize: yes\n",
			"task directories of the 4 threads' tids: 4; of other tids near the pid: 0\n",
			"smaps lists the ranges maps lists: yes\n", "smaps_rollup spans them: yes\n",
			"Max open files            100                  200                  files     \n",
			"Max address space         17179869184          34359738368          bytes     \n")
	})
}

// TestThreadsCreds: a new thread has its creator's credentials, as natively: after the
// process drops from root to nobody (with no_new_privs), the threads it starts are nobody
// too and cannot open a file only root may read; a thread that kept one capability across
// its own setresuid (PR_SET_KEEPCAPS, capset) passes it on, and once it dropped it, not.
// golos runs new threads on OS threads it started itself, as root.
func TestThreadsCreds(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root, to drop it: run-tests runs as root")
	}
	forFlavours(t, "thr_creds", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"uid 1000 with CAP_DAC_READ_SEARCH, its thread: uid 1000/1000/1000 fs 1000, gid 0/0/0 fs 0, groups 0 (first -1), no_new_privs 0, effective caps 0x4, root's file: readable\n",
			"uid 1000 without capabilities, its thread: uid 1000/1000/1000 fs 1000, gid 0/0/0 fs 0, groups 0 (first -1), no_new_privs 0, effective caps 0, root's file: Permission denied\n",
			"a thread started after the drop, its thread: uid 65534/65534/65534 fs 65534, gid 65534/65534/65534 fs 65534, groups 1 (first 65534), no_new_privs 1, effective caps 0, root's file: Permission denied\n",
			"failures: 0\n")
	})
}
