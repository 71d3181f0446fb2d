package tests

import (
	"testing"
	"time"
)

// Processes: fork, vfork, posix_spawn, the wait family, exec's inheritance, and the
// programs that live on them (shells and their pipelines, Python's subprocess and
// multiprocessing, make -j running gcc). Each program runs natively and under golos, and
// stdout and the exit status must be the same; wantNative checks that the native run does
// what the program is written to do. The programs print facts, never pids, and fix the
// order of what a parent and its children print (the parent waits or reads a pipe first).

// TestProcFork: fork, then the child's exit status, a child killed by a signal, getppid
// in the child, wait for a process that is not a child (ECHILD), waitpid(WNOHANG) on a
// running child, waitid(WNOWAIT), SIGCHLD's siginfo, a pipe shared with the child,
// process groups, a child stopped and continued.
func TestProcFork(t *testing.T) {
	forFlavours(t, "proc_fork", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"child: fork returned 0 in the child\n",
			"child: getppid() == the parent's getpid(): yes\n",
			"child that called _exit(42): WIFEXITED, WEXITSTATUS 42\n",
			"child that called _exit(0x1ff): WIFEXITED, WEXITSTATUS 255\n",
			"child: written to a fully buffered stdout, flushed by exit()\n",
			"child that raised SIGKILL: WIFSIGNALED, WTERMSIG 9\n",
			"child that sent itself SIGTERM: WIFSIGNALED, WTERMSIG 15\n",
			"child that wrote through a null pointer: WIFSIGNALED, WTERMSIG 11\n",
			"waitpid(1) (not a child): -1 ECHILD\n",
			"waitpid(getppid()) (not a child): -1 ECHILD\n",
			"wait() with no children: -1 ECHILD\n",
			"waitpid(WNOHANG) on a running child: 0\n",
			"that child, after the parent closed the pipe (0 bytes read): WIFEXITED, WEXITSTATUS 7\n",
			"waitid(WEXITED|WNOWAIT): returned 0, si_signo SIGCHLD: yes, si_code CLD_EXITED: yes, si_status 9, si_pid right: yes\n",
			"SIGCHLD for a child's exit: signal 17, si_code CLD_EXITED: yes, si_status 5, si_pid right: yes\n",
			"parent read from its child: \"through the inherited pipe\"\n",
			"child in the parent's process group: yes, setpgid(0, 0) gave it its own: yes\n",
			"child that raised SIGSTOP, waitpid(WUNTRACED): WIFSTOPPED, WSTOPSIG 19\n",
			"after SIGCONT, waitpid(WCONTINUED): WIFCONTINUED\n",
			"failures: 0\n")
	})
}

// TestProcForkMem: after fork, 64 MiB of private memory is the child's own copy both ways,
// MAP_SHARED memory (anonymous and file) is shared (also under concurrent atomic
// increments), a MAP_PRIVATE file page stays private, a __thread variable and a static
// global keep their values, a read-only page stays read-only.
func TestProcForkMem(t *testing.T) {
	forFlavours(t, "proc_forkmem", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"child: 64 MiB inherited with the parent's pattern: yes\n",
			"child: __thread variable kept its value (1234): yes\n",
			"child: static global kept its value (99): yes\n",
			"parent: its 64 MiB unchanged after the child's writes: yes\n",
			"parent: the child's write to the MAP_SHARED page is seen: yes\n",
			"parent: the child's write to its MAP_PRIVATE file page is not seen: yes\n",
			"parent: the child's write to the MAP_SHARED file page is seen: yes\n",
			"child: the parent's later changes are not seen: yes\n",
			"shared counter after 100000 atomic increments in each process: 200000\n",
			"failures: 0\n")
	})
}

// TestProcForkThreads: fork while 4 other threads spin or sleep, from the main thread and
// from another one: the child has one thread (/proc/self/task), can malloc and start and
// join a thread; pthread_atfork handlers run in order; the parent's threads go on.
func TestProcForkThreads(t *testing.T) {
	forFlavours(t, "proc_forkthreads", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"child: atfork handlers that ran: prepare2 prepare1 child1 child2\n",
			"child: threads in /proc/self/task: 1\n",
			"parent: atfork handlers that ran: prepare2 prepare1 parent1 parent2\n",
			"parent: threads in /proc/self/task: 5 (want 5)\n",
			"child of a thread: threads in /proc/self/task: 1\n",
			"  pthread_join gives the thread's value (42): yes\n",
			"failures: 0\n")
	})
}

// TestProcMany: 1000 children alive or zombies at once, reaped with wait() and each
// status checked; then no child is left (ECHILD) and no descriptor leaked; then 1000
// more, one at a time.
func TestProcMany(t *testing.T) {
	forFlavours(t, "proc_many", func(t *testing.T, p string) {
		nat, _ := runBothOpts(t, runOpts{timeout: 3 * time.Minute}, p)
		wantNative(t, nat, 0, "reaped 1000, with the right status 1000, not ours 0\n",
			"waitpid(-1, WNOHANG): -1 ECHILD\n", "entries of /proc/self/fd at the end == at the start: yes\n",
			"one at a time: 1000 forked and reaped with the right status\n", "failures: 0\n")
	})
}

// TestProcSpawn: posix_spawnp with file actions, posix_spawn with an environment and of a
// missing file, system(), popen() both ways, vfork() with execve of /bin/true and of a
// missing file.
func TestProcSpawn(t *testing.T) {
	forFlavours(t, "proc_spawn", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"posix_spawnp echo hi, stdout through a pipe: read \"hi\" and a newline: yes, child exited 0\n",
			"FOO is from the environment\n", "posix_spawn /bin/sh -c ...; exit 5: child exited 5\n",
			"posix_spawn of a missing file: ENOENT\n",
			"via system\nsystem(\"echo via system; exit 3\"): exited 3\n",
			"popen(\"echo via popen\", \"r\"): read \"via popen\", pclose: exited 0\n",
			"WRITTEN TO POPEN\npopen(\"tr a-z A-Z; exit 4\", \"w\"): pclose: exited 4\n",
			"vfork + execve /bin/true: child exited 0\n",
			"vfork + execve of a missing file: child exited 127, its errno (seen through vfork's shared memory) ENOENT\n",
			"failures: 0\n")
	})
}

// TestProcExecMask: execve keeps the signal mask, pending signals and ignored signals,
// and resets handled signals to SIG_DFL.
func TestProcExecMask(t *testing.T) {
	forFlavours(t, "proc_exec_mask", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "SIGUSR1 still blocked: yes\n", "SIGUSR1 still pending: yes\n",
			"SIGUSR2's disposition: SIG_IGN\n", "SIGTERM's disposition (it had a handler): SIG_DFL\n",
			"failures: 0\n")
	})
}

// TestProcNproc: with RLIMIT_NPROC at 0, fork and pthread_create fail with EAGAIN; with
// the limit back, fork works. Run as root, the program first becomes nobody (Linux does
// not apply the limit to root).
func TestProcNproc(t *testing.T) {
	forFlavours(t, "proc_nproc", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "privileged: no\n", "fork with RLIMIT_NPROC 0: -1 EAGAIN\n",
			"pthread_create with RLIMIT_NPROC 0: EAGAIN\n", "fork with the limit back: succeeded, child status 6\n")
	})
}
