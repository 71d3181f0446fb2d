package tests

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Processes: fork, vfork, posix_spawn, the wait family, exec's inheritance, and the
// programs that live on them (shells and their pipelines, Python's subprocess and
// multiprocessing, make -j running gcc). Each program runs natively and under golos, and
// stdout and the exit status must be the same; wantNative checks that the native run does
// what the program is written to do. The programs print facts, never pids, and fix the
// order of what a parent and its children print (the parent waits or reads a pipe first).

// procEnv is the environment of the shell, Python and make tests: a PATH of Debian's own
// directories, so that a command is the same file natively and under golos whatever the
// test's own PATH holds (pyenv's shims are shell scripts), and no make variables from a
// make that runs the tests.
var procEnv = runOpts{
	env:      []string{"PATH=/usr/bin:/bin", "LC_ALL=C"},
	unsetEnv: []string{"MAKEFLAGS", "MAKELEVEL", "MFLAGS"},
}

// needProgram fails the test when path is not installed: the README's test command
// (run-tests) installs pkg.
func needProgram(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not installed: apt-get install -y %s (run-tests installs it)", path, pkg)
	}
}

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

// TestProcForkVDSO: a child, a grandchild and a vfork child find the vDSO where the
// parent's libc found it (AT_SYSINFO_EHDR, which they inherit), and libc's clocks, which
// call into it, work there and agree with the parent's.
func TestProcForkVDSO(t *testing.T) {
	forFlavours(t, "proc_fork_vdso", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"parent: failed checks 0\n",
			"child: failed checks 0, grandchild: 0\n",
			"vfork child: failed checks 0\n")
	})
}

// TestProcForkState: each child has the parent's working directory, umask, descriptors
// (one at 40 without FD_CLOEXEC, one at 41 with it, 0 closed), process group and limits
// as they are at its fork, though the parent changes them between forks; once every
// child is reaped, waits for any child find none, and SIGCHLD comes only for the
// program's children.
func TestProcForkState(t *testing.T) {
	forFlavours(t, "proc_forkstate", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"first child: ran, with ", // and as many descriptors as natively
			"after chdir and umask(027): in the new working directory: yes, umask 027\n",
			"after opening fds 40, 41 and closing 0: fd 40 open without FD_CLOEXEC: yes (reads \"hello\"), fd 41 open with FD_CLOEXEC: yes, fd 0 closed: yes\n",
			"before setpgid: in the parent's process group: yes, its session: yes\n",
			"after setpgid(0, 0): in the parent's process group: yes, its session: yes\n",
			"after setrlimit(RLIMIT_NOFILE, 200): RLIMIT_NOFILE soft 200\n",
			"waitpid(-1, WNOHANG) with no children: -1 ECHILD\n",
			"wait() with no children: -1 ECHILD\n",
			"waitid(P_ALL) with no children: -1 ECHILD\n",
			"SIGCHLDs came, no more than the 6 children: yes\n",
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

// TestProcLazyFork: a forked child's private memory is the parent's at the fork whenever
// the child first touches it (golos gives it lazily): 64 MiB the parent rewrites at once
// after the fork, read(2) into and write(2) from pages the child has not touched,
// MADV_DONTNEED, mremap and a fork of the child's on such pages; a grandchild whose
// parent ends at once (its holder must not be left to a subreaper's wait); a child in a
// new user namespace, whose golos cannot serve its memory lazily (the parent copies it).
func TestProcLazyFork(t *testing.T) {
	forFlavours(t, "proc_lazyfork", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantLazyFork(t, nat)
	})
}

// TestProcLazyForkEager: the same with golos's eager copy, which it falls back to where
// userfaultfd(2) is not allowed (GOLOS_EAGER_FORK forces it).
func TestProcLazyForkEager(t *testing.T) {
	forFlavours(t, "proc_lazyfork", func(t *testing.T, p string) {
		nat, _ := runBothOpts(t, runOpts{env: []string{"GOLOS_EAGER_FORK=1"}}, p)
		wantLazyFork(t, nat)
	})
}

func wantLazyFork(t *testing.T, nat *result) {
	t.Helper()
	wantNative(t, nat, 0,
		"child: read(2) into an untouched page, the rest of the page as at the fork: yes\n",
		"child: write(2) from an untouched page gives its fork-time contents: yes\n",
		"child: /proc/self/mem read of an untouched page gives its fork-time contents: yes\n",
		"child: 64 MiB as at the fork after the parent rewrote it: yes\n",
		"child: its own writes are its own: yes\n",
		"child: MADV_DONTNEED'd untouched pages read zero: yes\n",
		"child: the pages after them as at the fork: yes\n",
		"child: mremap'd untouched pages keep their contents: yes\n",
		"grandchild: untouched pages as at the first fork: yes\n",
		"parent: its own rewrite kept after the child's writes: yes\n",
		"parent: its other regions as it rewrote them: yes\n",
		"top: the child exited 0 right after its fork: yes\n",
		"orphaned grandchild: its memory as at its fork, its parent gone: yes\n",
		"top: waitpid(-1) reaped the grandchild, exit status 0: yes\n",
		"top: then waitpid(-1, WNOHANG) is ECHILD: yes\n",
		"child in a new user namespace: its memory as at the fork: yes\n",
		"failures: 0\n")
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

// TestProcForkAtomic: fork while another thread keeps writing memory: the child's memory
// is the parent's at one instant, as Linux's copy-on-write fork gives it (golos copies
// the memory, so it keeps the other threads out of the program's code meanwhile:
// freezeOthers). With the rewriter and with Syscall User Dispatch alone; 18 of 20
// children saw torn memory before.
func TestProcForkAtomic(t *testing.T) {
	forFlavours(t, "proc_fork_atomic", func(t *testing.T, p string) {
		for _, flags := range [][]string{nil, {"--no-rewrite"}} {
			nat, _ := runBothOpts(t, runOpts{golosFlags: flags}, p)
			wantNative(t, nat, 0, "forks: 20, children that saw the writer's two stores apart: 0\n")
		}
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

// TestProcFexecve: a program given to execve by descriptor runs: fexecve of a
// descriptor opened with O_CLOEXEC, execveat with AT_EMPTY_PATH of an O_PATH descriptor
// and of a name relative to a directory's, execve of /proc/self/fd/N; a descriptor that
// is not open is EBADF, a directory's EACCES.
func TestProcFexecve(t *testing.T) {
	forFlavours(t, "proc_fexecve", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"  ran: fexecve ok\nfexecve, O_CLOEXEC: child exited 0\n",
			"  ran: fexecve ok\nexecveat AT_EMPTY_PATH, O_PATH: child exited 0\n",
			"  ran: fexecve ok\nexecveat relative to /bin: child exited 0\n",
			"  ran: fexecve ok\nexecve /proc/self/fd/N, O_CLOEXEC: child exited 0\n",
			"execveat of a descriptor that is not open: EBADF\nexecveat of a directory: EACCES\n")
	})
}

// TestProcNofileFork: fork and execve after the program lowered RLIMIT_NOFILE below the
// numbers of golos's own descriptors.
func TestProcNofileFork(t *testing.T) {
	forFlavours(t, "proc_nofile_fork", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "fork 0: child exited 0\nfork 1: child exited 1\nsh ran\nfork 2: child exited 9\n")
	})
}

// TestProcStatusSignals: /proc/self/status's SigPnd, ShdPnd, SigBlk, SigIgn and SigCgt
// are the program's signals (not golos's handlers and masks), before and after execve.
func TestProcStatusSignals(t *testing.T) {
	forFlavours(t, "proc_status_sigs", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "set:\nSigPnd:\t0000000000000800\nShdPnd:\t0000000000004000\nSigBlk:\t0000000000004800\n"+
			"SigIgn:\t0000000000001000\nSigCgt:\t0000000000000200\nafter execve of grep:\nSigPnd:\t0000000000000800\n")
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

// TestProcClonePidfd: clone with CLONE_PIDFD, and children with an exit signal other
// than SIGCHLD or none ("clone children"): which signal their end sends, which waits find
// them, the pidfd's flags, clone3's pidfd field, and the check Go's runtime makes before
// it uses pidfds (a vfork with CLONE_PIDFD and no exit signal, waited for with
// waitid(P_PIDFD, __WCLONE)).
func TestProcClonePidfd(t *testing.T) {
	forFlavours(t, "proc_clone_pidfd", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"CLONE_PIDFD|SIGCHLD: pidfd >= 3: yes, close-on-exec: yes, poll readable: yes, waitid(P_PIDFD): ok, si_pid right: yes, si_status 3\n  SIGCHLD: 1\n",
			"exit signal 0: waitpid without __WCLONE: -1 ECHILD\n  waitid(P_PIDFD, __WCLONE): ok, si_status 5, SIGCHLD: 0\n",
			"exit signal SIGUSR1: SIGUSR1: 1, SIGCHLD: 0, waitpid without __WCLONE: ECHILD\n  waitpid(__WCLONE): pid right: yes, exit status 6\n",
			"CLONE_PIDFD|CLONE_PARENT_SETTID: EINVAL\n", "CLONE_PIDFD to an unmapped address: EFAULT\n",
			"clone3 CLONE_PIDFD|CLONE_PARENT_SETTID: parent tid right: yes, waitid(P_PIDFD): ok, si_status 9\n",
			"vfork|CLONE_VM|CLONE_PIDFD, no exit signal: pid > 0: yes, waitid(P_PIDFD, __WCLONE): ok, si_code CLD_EXITED: yes, SIGCHLD: 0\n",
			"wait() with no children left: ECHILD\n")
	})
}

// TestProcGoExec: a Go program's os/exec (which checks clone(CLONE_PIDFD) first, then
// waits for and signals its children through pidfds) runs as natively, from one goroutine
// and from 8 at once, and golos has nothing to say about it on stderr.
func TestProcGoExec(t *testing.T) {
	t.Parallel()
	p := prog(t, "proc_goprog.go-static")
	nat, g := runBoth(t, p)
	wantNative(t, nat, 0, "output: \"from the child: a b\\n\", error: <nil>\n", "exit status: 3\n",
		"sleep after SIGTERM: signal: terminated\n", "sorted: [\"a\" \"b\" \"c\"], error: <nil>\n",
		"missing program: fork/exec /nonexistent/program: no such file or directory\n",
		"commands from 8 goroutines at once, 5 times: 40 of 40 right\n")
	if g != nil && !bytes.Equal(g.stderr, nat.stderr) {
		t.Errorf("stderr: native %q, golos %q", nat.stderr, g.stderr)
	}
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

// A shellCase is a script run with sh -c by each shell, natively and under golos.
type shellCase struct {
	name, script string
	code         int    // the exit status natively
	stdout       string // the whole of stdout natively
}

var shellCases = []shellCase{
	{"pipeline", `echo a b c | tr ' ' '\n' | sort -r | head -2`, 0, "c\nb\n"},
	{"pipeline-status", `false | true; echo $?; true | false; echo $?`, 0, "0\n1\n"},
	{"redirections", `echo one > out.txt; echo two >> out.txt; cat < out.txt; wc -l < out.txt
ls no-such-file 2> err.txt; echo "ls status $?"; test -s err.txt && echo "stderr went to the file"
exec 3< out.txt; read -r l <&3; echo "read from fd 3: $l"; exec 3<&-; rm out.txt err.txt; ls`,
		0, "one\ntwo\n2\nls status 2\nstderr went to the file\nread from fd 3: one\n"},
	{"command-substitution", `echo "[$(echo inner $(echo nested))]"; echo "lines: $(printf 'a\nb\n' | wc -l)"`,
		0, "[inner nested]\nlines: 2\n"},
	{"assignment", `x=$(echo hi); echo $x`, 0, "hi\n"},
	{"background", `sleep 0.1 & wait $!; echo $?`, 0, "0\n"},
	{"background-killed", `sleep 10 & kill $!; wait $!; echo $?`, 0, "143\n"},
	{"background-many", `{ for i in 1 2 3 4 5; do echo job $i & done; wait; } | sort`, 0,
		"job 1\njob 2\njob 3\njob 4\njob 5\n"},
	{"trap", `trap 'echo got INT' INT; kill -INT $$; echo after`, 0, "got INT\nafter\n"},
	{"killed-child", `sh -c 'kill -9 $$'; echo $?`, 0, "137\n"},
	{"subshell-exit", `( exit 7 ); echo $?`, 0, "7\n"},
	{"subshell-vars", `x=1; ( x=2; echo "inside $x" ); echo "outside $x"`, 0, "inside 2\noutside 1\n"},
	{"here-document", "cat <<EOF\nline one\nline $((1+1))\nEOF", 0, "line one\nline 2\n"},
	{"read-from-pipe", `printf 'x y\n' | { read a b; echo "got $b $a"; }`, 0, "got y x\n"},
	{"not-found", `no-such-command-golos-test 2>/dev/null; echo $?`, 0, "127\n"},
	{"exec", `exec echo replaced by exec; echo not reached`, 0, "replaced by exec\n"},
	{"loop-of-commands", `i=0; while [ $i -lt 50 ]; do i=$(expr $i + 1); done; echo $i`, 0, "50\n"},
	{"xargs", `printf '1\n2\n3\n' | xargs -n1 echo n`, 0, "n 1\nn 2\nn 3\n"},
	{"exit-status", `true | exit 3; sh -c 'exit 42'`, 42, ""},
}

// bashCases use what only bash has.
var bashCases = []shellCase{
	{"pipestatus", `true | false | (exit 5); echo "${PIPESTATUS[@]}"`, 0, "0 1 5\n"},
	{"process-substitution", `cat <(echo from process substitution); diff <(echo a) <(echo a) && echo same`, 0,
		"from process substitution\nsame\n"},
	{"pipefail", `set -o pipefail; false | true; echo $?`, 0, "1\n"},
	{"coproc", `coproc { read -r x; echo "got $x"; }; echo hello >&"${COPROC[1]}"; read -r l <&"${COPROC[0]}"; echo "$l"; wait`,
		0, "got hello\n"},
}

// TestProcShell: bash and dash run pipelines, redirections, command substitution,
// background jobs and wait, traps, subshells and killed children.
func TestProcShell(t *testing.T) {
	for _, sh := range []struct {
		name, path string
		cases      []shellCase
	}{
		{"bash", "/bin/bash", append(append([]shellCase{}, shellCases...), bashCases...)},
		{"dash", "/bin/dash", shellCases},
	} {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(sh.path); err != nil {
				t.Skipf("%s is not installed: apt-get install -y %s", sh.path, sh.name)
			}
			for _, c := range sh.cases {
				t.Run(c.name, func(t *testing.T) {
					nat, _ := runBothOpts(t, procEnv, sh.path, "-c", c.script)
					wantNative(t, nat, c.code)
					if string(nat.stdout) != c.stdout {
						t.Errorf("%s -c %q natively: stdout %q, want %q", sh.path, c.script, nat.stdout, c.stdout)
					}
				})
			}
		})
	}
}

// TestProcPython: Python's subprocess (run with capture_output, Popen with pipes both
// ways, a timeout that kills the child, shell=True and exit statuses), os.fork, and
// multiprocessing with the fork start method (a Pool and a Process with a Queue).
func TestProcPython(t *testing.T) {
	const python = "/usr/bin/python3"
	needProgram(t, python, "python3")
	cases := []struct {
		name, script string
		want         []string // lines of the native stdout
	}{
		{"run", `import subprocess
r = subprocess.run(["echo", "hi"], capture_output=True)
print(r.returncode, r.stdout, r.stderr)`, []string{"0 b'hi\\n' b''\n"}},
		{"popen", `import subprocess
p = subprocess.Popen(["tr", "a-z", "A-Z"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"hello\n")
print(out, p.returncode)
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
for w in [b"one\n", b"two\n"]:
    p.stdin.write(w)
    p.stdin.flush()
    print("cat echoed", p.stdout.readline())
p.stdin.close()
print("cat exited", p.wait())`, []string{"b'HELLO\\n' 0\n", "cat echoed b'one\\n'\n", "cat echoed b'two\\n'\n", "cat exited 0\n"}},
		{"timeout", `import subprocess
try:
    subprocess.run(["sleep", "10"], timeout=0.5)
    print("no timeout")
except subprocess.TimeoutExpired as e:
    print("TimeoutExpired for", e.cmd)`, []string{"TimeoutExpired for ['sleep', '10']\n"}},
		{"status", `import subprocess
print(subprocess.run("exit 3", shell=True).returncode)
print(subprocess.check_output("echo $((6*7))", shell=True))
try:
    subprocess.check_call(["false"])
except subprocess.CalledProcessError as e:
    print("CalledProcessError", e.returncode)
print(subprocess.run(["sh", "-c", "kill -9 $$"]).returncode)`, []string{"3\nb'42\\n'\nCalledProcessError 1\n-9\n"}},
		{"fork", `import os, sys
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print("in the child", flush=True)
    os._exit(5)
_, st = os.waitpid(pid, 0)
print("child exit code", os.waitstatus_to_exitcode(st))`, []string{"in the child\nchild exit code 5\n"}},
		{"pool", `import multiprocessing as mp
def square(x):
    return x * x
if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(2) as p:
        print(p.map(square, range(10)))`, []string{"[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n"}},
		{"process-queue", `import multiprocessing as mp, sys
def work(q, n):
    q.put(sum(range(n)))
    sys.exit(3)
if __name__ == "__main__":
    mp.set_start_method("fork")
    q = mp.Queue()
    p = mp.Process(target=work, args=(q, 1000))
    p.start()
    print("from the child:", q.get())
    p.join()
    print("exitcode", p.exitcode)`, []string{"from the child: 499500\nexitcode 3\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			nat, _ := runBothOpts(t, procEnv, python, "-c", c.script)
			wantNative(t, nat, 0, c.want...)
		})
	}
}

// procMakefile builds prog from three C files and runs it; fail is a target whose command
// fails.
const procMakefile = `CC = gcc
CFLAGS = -O2
prog: main.o add.o mul.o
	$(CC) -o $@ main.o add.o mul.o
%.o: %.c calc.h
	$(CC) $(CFLAGS) -c $<
check: prog
	./prog
fail:
	@echo making fail
	exit 3
`

var procMakeSources = map[string]string{
	"calc.h": "int add(int, int);\nint mul(int, int);\n",
	"add.c":  "#include \"calc.h\"\nint add(int a, int b) { return a + b; }\n",
	"mul.c":  "#include \"calc.h\"\nint mul(int a, int b) { return a * b; }\n",
	"main.c": `#include <stdio.h>
#include "calc.h"
int main(void)
{
	int s = 0;
	for (int i = 1; i <= 10; i++)
		s = add(s, mul(i, i));
	printf("sum of squares 1..10: %d\n", s);
	return 0;
}
`,
}

// TestProcMake: make -j2 builds a three-file C program with gcc (which runs cc1, as and
// collect2/ld) and runs it: natively and under golos the same output and exit status
// (make -B rebuilds everything, so the golos run does not find the native run's files up
// to date); the program built under golos runs; a failing command makes make exit 2.
func TestProcMake(t *testing.T) {
	t.Parallel()
	needProgram(t, "/usr/bin/make", "make")
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatalf("gcc is not installed: %s", installHint)
	}
	dir := t.TempDir()
	files := map[string]string{"Makefile": procMakefile}
	for name, src := range procMakeSources {
		files[name] = src
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := procEnv
	o.dir = dir
	o.timeout = 3 * time.Minute
	nat, _ := runBothOpts(t, o, "/usr/bin/make", "-s", "-B", "-j2", "check")
	wantNative(t, nat, 0, "sum of squares 1..10: 385\n")
	// What is left in dir is what the run under golos built: its program must run as
	// the one built natively did.
	if _, err := os.Stat(filepath.Join(dir, "prog")); err != nil {
		t.Errorf("the program was not built: %v", err)
	} else {
		nat, _ = runBothOpts(t, o, filepath.Join(dir, "prog"))
		wantNative(t, nat, 0, "sum of squares 1..10: 385\n")
	}
	nat, _ = runBothOpts(t, o, "/usr/bin/make", "fail")
	wantNative(t, nat, 2, "making fail\n")
}

// TestProcRoot: the processes of a tree run inside --root: a busybox shell's pipelines,
// command substitution and external commands (each a fork and an execve resolved inside
// the root), with the root read-write and read-only, compared with the same shell in a
// chroot. The last case runs with --root given as a relative path.
func TestProcRoot(t *testing.T) {
	if why := needNativeRoot(); why != "" {
		t.Skip(why)
	}
	bb := "/bin/busybox"
	script := `cat /etc/hostname | /bin/busybox wc -c; /bin/busybox ls /sub | /bin/busybox sort -r; ` +
		`x=$(/bin/busybox cat /sub/a); echo "got $x"; /bin/busybox sh -c 'exit 3'; echo "status $?"; ` +
		`/bin/busybox cat /nonexistent; echo "cat: $?"; /nonexistent-program; echo "missing: $?"`
	argv := []string{bb, "sh", "-c", script}
	for _, ro := range []bool{false, true} {
		root, _ := bbTree(t)
		nat := runNativeRoot(&runOpts{}, root, ro, nil, "", argv...)
		if nat.err != nil || nat.timedOut {
			t.Fatalf("natively: %s", nat)
		}
		wantNative(t, nat, 0, "got a\n", "status 3\n")
		g := runGolosRoot(t, &runOpts{}, root, ro, nil, "", argv...)
		if g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
			t.Errorf("read-only %v: golos %s, native %s\nstdout native:\n%sstdout golos:\n%sstderr golos:\n%s",
				ro, g, nat, nat.stdout, g.stdout, clip(g.stderr))
		}
	}
	// A relative --root: each new golos of the tree (a fork's, an execve's) finds it.
	root, _ := bbTree(t)
	o := runOpts{dir: filepath.Dir(root)}
	needGolos(t)
	g := runGolosOpts(&o, "run", "--root", filepath.Base(root), bb, "sh", "-c", `/bin/busybox cat /sub/a | /bin/busybox wc -c; /bin/busybox sh -c 'exec /bin/busybox cat /etc/hostname'`)
	if g.code != 0 || string(g.stdout) != "2\nguest\n" {
		t.Errorf("relative --root: %s\nstdout:\n%sstderr:\n%s", g, g.stdout, clip(g.stderr))
	}
}

// TestProcPs: another process of the tree seen through /proc/<pid> shows its program, as
// natively: its command line (what ps prints), its executable and its name.
func TestProcPs(t *testing.T) {
	if _, err := os.Stat("/usr/bin/ps"); err != nil {
		t.Fatalf("/usr/bin/ps: %v (apt-get install procps)", err)
	}
	script := `/bin/sleep 5 & pid=$!; /bin/sleep 0.5; tr '\0' ' ' < /proc/$pid/cmdline; echo; ` +
		`readlink /proc/$pid/exe; cat /proc/$pid/comm; ps -o comm=,args= -p $pid; kill $pid; wait $pid; echo "status $?"`
	nat, _ := runBothOpts(t, procEnv, "/bin/sh", "-c", script)
	wantNative(t, nat, 0, "sleep 5 \n/usr/bin/sleep\nsleep\n", "status 143\n")
}

// TestProcOther: /proc/<pid>/… of another process of the tree is what that process sees
// in its own /proc/self: a forked child with a second thread and a mapping of its own
// reads its maps, its status's Threads, its fd and task listings and its command line,
// and its parent reads the same under /proc/<pid> (without golos's runtime mappings,
// threads and descriptors).
func TestProcOther(t *testing.T) {
	forFlavours(t, "proc_other", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "maps: the child's own view\n", "fd: the child's own view\n",
			"task: the child's own view\n", "threads: Threads:\t2\n", "task entries: 2\n", "child exited 0\n")
	})
}

// TestProcOtherTools: what ps, busybox ps, pgrep and pstree show of a child, and its
// /proc/<pid> files read by a shell (command line, environment, name, executable,
// descriptors, threads, status, stat, the files its maps name), as natively; and the
// status of the child stopped by SIGSTOP, whose golos cannot answer.
func TestProcOtherTools(t *testing.T) {
	needProgram(t, "/usr/bin/ps", "procps")
	needProgram(t, "/usr/bin/pstree", "psmisc")
	// The child is looked at once it runs sleep (its comm says so), with its own
	// environment (env -i), so that its environ is not the shell's.
	script := `env -i A=1 B=two /bin/sleep 5 & p=$!
i=0; while [ "$(cat /proc/$p/comm)" != sleep ] && [ $i -lt 200 ]; do /bin/sleep 0.05; i=$((i+1)); done
echo cmdline $(tr '\0' ' ' < /proc/$p/cmdline)
echo environ $(tr '\0' ' ' < /proc/$p/environ)
echo comm $(cat /proc/$p/comm) exe $(readlink /proc/$p/exe)
echo fd $(ls /proc/$p/fd) fdinfo $(ls /proc/$p/fdinfo)
echo tasks $(ls /proc/$p/task | wc -l) task fds $(ls /proc/$p/task/$p/fd | wc -l)
grep -E '^(Name|Threads|SigBlk|SigIgn|SigCgt)' /proc/$p/status
echo stat $(cut -d' ' -f2,3,20 /proc/$p/stat)
echo maps $(awk '{print $6}' /proc/$p/maps | sort -u)
ps -o comm=,nlwp=,args= -p $p
busybox ps -o comm,args | grep '^sleep'
echo pgrep $(pgrep -l -x -P $$ sleep | cut -d' ' -f2)
pstree $$
kill -STOP $p; i=0; until grep -q '^State:.T' /proc/$p/status || [ $i -ge 200 ]; do /bin/sleep 0.05; i=$((i+1)); done
grep -E '^(Name|State)' /proc/$p/status; kill -CONT $p
kill $p; wait $p; echo status $?
`
	nat, _ := runBothOpts(t, procEnv, "/bin/sh", "-c", script)
	wantNative(t, nat, 0, "cmdline /bin/sleep 5\n", "environ A=1 B=two\n", "comm sleep exe /usr/bin/sleep\n",
		"tasks 1 ", "Threads:\t1\n", "sleep              1 /bin/sleep 5\n", "pgrep sleep\n", "sh-+-pstree\n   `-sleep\n",
		"State:\tT (stopped)\n", "status 143\n")
}

// TestProcOtherStopped: /proc/<pid>/status, stat, maps, smaps, smaps_rollup, limits and
// the task and fd listings of a child stopped by SIGSTOP show what they showed while it
// ran (its threads, memory size and mappings, signal dispositions and mask, limits; ps's
// STAT without the "l" of a multithreaded process), although its golos, stopped too,
// cannot answer: not golos's runtime threads, descriptors, address space, handlers and
// limits, which the host shows of it.
func TestProcOtherStopped(t *testing.T) {
	needProgram(t, "/usr/bin/ps", "procps")
	script := `/bin/sleep 5 & p=$!
i=0; while [ "$(cat /proc/$p/comm)" != sleep ] && [ $i -lt 200 ]; do /bin/sleep 0.05; i=$((i+1)); done
look() {
	grep -E '^(Threads|VmSize|VmData|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)' /proc/$p/status
	echo stat $(cut -d' ' -f20,23,28 /proc/$p/stat)
	echo tasks $(ls /proc/$p/task) fds $(ls /proc/$p/fd)
	ps -o nlwp=,vsz= -p $p
	awk '{print $1, $2, $6}' /proc/$p/maps
	echo smaps $(grep -c '^Size:' /proc/$p/smaps)
	cat /proc/$p/limits
	grep -E '^(Rss|Anonymous|Swap):|rollup' /proc/$p/smaps_rollup
}
running=$(look)
kill -STOP $p; i=0; until grep -q '^State:.T' /proc/$p/status || [ $i -ge 200 ]; do /bin/sleep 0.05; i=$((i+1)); done
stopped=$(look)
grep '^State' /proc/$p/status; ps -o stat= -p $p
if [ "$stopped" = "$running" ]; then echo "stopped: as while it ran"; else printf 'while it ran:\n%s\nstopped:\n%s\n' "$running" "$stopped" | sed "s/$p/PID/g"; fi
kill -CONT $p; kill $p; wait $p; echo status $?
`
	nat, _ := runBothOpts(t, procEnv, "/bin/sh", "-c", script)
	wantNative(t, nat, 0, "State:\tT (stopped)\nT\nstopped: as while it ran\nstatus 143\n")
}

// TestProcFdListFork: a child lists its parent's /proc/<pid>/fd (and looks each entry
// up, as ls -l does) while the parent forks again and again: it sees only the parent's
// own descriptors, not those golos opens for a moment at each fork (the socket to the
// child's golos, its start-up log), which showed in a shell's listing while it forked
// the next command of a pipeline, and which ls then could not find. (Not the pipe the
// Go runtime's ForkExec opens at the lowest free numbers: golos does not hide that one.)
func TestProcFdListFork(t *testing.T) {
	forFlavours(t, "proc_fdlist_fork", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "watcher: listings made: many\n",
			"watcher: a high descriptor the parent never opened was listed: no\n",
			"watcher: high entries listed that a lookup then did not find: 0\n",
			"parent: forked while watched: many times\n")
	})
}

// TestProcCloneFlags: clone and clone3 of a process with flags other than fork's and
// vfork's, as natively: CLONE_NEWUTS (the child may set its own hostname, also after an
// execve made while another thread runs, which golos makes in a new golos), CLONE_NEWPID,
// CLONE_PARENT, CLONE_CLEAR_SIGHAND, and the combinations Linux refuses with EINVAL.
// Then what golos cannot give (CLONE_FILES, CLONE_FS, CLONE_VM without CLONE_VFORK):
// ENOSYS, named once on stderr. The namespaces need root, which the tests run as.
func TestProcCloneFlags(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatalf("needs root (new UTS and pid namespaces): run-tests runs as root")
	}
	forFlavours(t, "proc_cloneflags", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "CLONE_NEWUTS: the child set its own hostname: yes\n",
			"CLONE_NEWUTS: after execve, with a thread and without, the child sets its own hostname: yes\n",
			"CLONE_PARENT: the middle cannot wait for it, the grandparent reaps both: yes\n",
			"CLONE_SIGHAND without CLONE_VM: EINVAL\n", "CLONE_NEWNS with CLONE_FS: EINVAL\n", "failures: 0\n")

		g := runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p, "unshared")
		want := "clone CLONE_FILES: ENOSYS\nclone CLONE_FS: ENOSYS\nclone CLONE_VM: ENOSYS\nclone CLONE_SIGHAND|CLONE_VM: ENOSYS\n"
		if !golosRanOK(t, "golos run proc_cloneflags unshared", g) {
			return
		}
		if string(g.stdout) != want {
			t.Errorf("stdout\n%swant\n%s", g.stdout, want)
		}
		for _, flag := range []string{"CLONE_FILES is not", "CLONE_FS is not", "CLONE_VM without CLONE_VFORK is not"} {
			if n := bytes.Count(g.stderr, []byte("clone of a process with "+flag)); n != 1 {
				t.Errorf("stderr names %q %d times, want once\nstderr:\n%s", flag, n, clip(g.stderr))
			}
		}
	})
}

// TestProcVforkMemory: a vfork child's writes to its parent's memory (globals in .bss and
// .data, small and large malloc'd blocks, a local of the frame both return to, read(2)'s
// store into a global, the errno of its failed execve) are seen by the parent, as on
// Linux; with 4 MiB of the parent's memory written (served to the child as it touches
// it: internal/kernel/vforklazy_unsafe.go), a child reads all of it right and its writes
// are seen; posix_spawnp of a missing program and posix_spawn with a failing file action
// report ENOENT.
func TestProcVforkMemory(t *testing.T) {
	forFlavours(t, "proc_vfork", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "child exited 0\n.bss global: 11\n.data global: 12\nsmall malloc: 13\nlarge malloc: 14 15\nlocal: 16\n",
			"read(2) into a global: \"via read\"\nerrno of its execve: ENOENT\n",
			"4 MiB block: child exited 0, read it right: yes, its writes: 21 22\n",
			"posix_spawnp of a missing program: ENOENT\n", "posix_spawn with a failing open action: ENOENT\n")
	})
}

// TestProcVforkParentGone: a vfork child whose parent's golos serves it the parent's memory
// as it touches it (internal/kernel/vforklazy_unsafe.go: a holder that shares that
// memory), and whose parent is killed before it has read it: the child goes on in that
// memory and prints its sum, as natively, and no process is left once it ends.
func TestProcVforkParentGone(t *testing.T) {
	p := prog(t, "proc_vfork_parent_gone.glibc-static")
	want := fmt.Sprintf("sum %d\n", 0x5a*(4<<20))
	if rest, _ := killReadyParent(t, false, p); rest != want {
		t.Fatalf("natively: after the parent's death, stdout %q, want %q", rest, want)
	}
	if rest, stderr := killReadyParent(t, true, p); rest != want {
		t.Errorf("golos: after the parent's death, stdout %q, want %q (as natively); stderr:\n%s", rest, want, stderr)
	}
}

// TestProcVforkOrphan: a CLONE_VM|CLONE_VFORK child (posix_spawn's kind) that sleeps
// before its execve while its parent is killed with SIGKILL goes on to its execve, as
// natively, with the parent's memory large enough that golos serves it lazily and small
// enough that it copies it.
func TestProcVforkOrphan(t *testing.T) {
	for _, mib := range []string{"0", "4", "32"} {
		t.Run(mib+"MiB", func(t *testing.T) {
			t.Parallel()
			p := prog(t, "proc_vfork_orphan.glibc-static")
			if rest, _ := killReadyParent(t, false, p, "/bin/echo", mib); rest != "child lived\n" {
				t.Fatalf("natively: after the parent's death, stdout %q", rest)
			}
			if rest, stderr := killReadyParent(t, true, p, "/bin/echo", mib); rest != "child lived\n" {
				t.Errorf("golos: after the parent's death, stdout %q, want \"child lived\\n\" (as natively); stderr:\n%s", rest, stderr)
			}
		})
	}
}

// killReadyParent runs argv (under golos or natively) until it says "ready", kills its
// first process alone with SIGKILL (the program's children are orphaned), writes "go" on
// its stdin and returns the rest of its stdout, written by the processes left, and its
// stderr. It fails the test when one of the processes that were below the first is still
// there 10 s after the stdout's end.
func killReadyParent(t *testing.T, golos bool, argv ...string) (rest, stderr string) {
	t.Helper()
	var r *readyRun
	if golos {
		needGolos(t)
		r = startReady(t, 60*time.Second, append([]string{"run"}, argv...)...)
	} else {
		r = startReadyBin(t, 60*time.Second, argv[0], argv[1:]...)
	}
	below := descendants(r.cmd.Process.Pid)
	syscall.Kill(r.cmd.Process.Pid, syscall.SIGKILL)
	r.in.Write([]byte("go\n"))
	b, _ := io.ReadAll(r.lines)
	r.cmd.Wait()
	r.timer.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range below {
		for {
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil || bytes.Contains(st, []byte(") Z ")) {
				break // gone, or a zombie its new parent will reap
			}
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("process %d, below the killed one, still runs 10 s after the output's end: %s", pid, st)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return string(b), r.stderr.String()
}

// TestProcHolderHidden: a lazy fork's holder (and a lazy vfork's, for system(3)'s shell)
// is a host child of the parent's golos that the program never made: the parent's
// children file, a scan of /proc by ppid and ps --ppid show the one child it forked (and
// system's shell), as natively.
func TestProcHolderHidden(t *testing.T) {
	needProgram(t, "/usr/bin/ps", "procps")
	forFlavours(t, "proc_holder_list", func(t *testing.T, p string) {
		nat, _ := runBothOpts(t, procEnv, p)
		wantNative(t, nat, 0, "children file: 1 entries, the child among them: 1\n",
			"/proc: 1 processes with this ppid, the child among them: 1\n", "child exited 0\n")
	})
}

// TestProcSetpgid: a parent moves its child into a process group right after the fork,
// as a shell's job control does, before the child runs (proc_setpgid.c): natively the
// call works until the child's execve; under golos the child's golos has made the host's
// execve of golos from the start, so golos asks it to make the call (setpgid.go). Then
// the errors, EPERM, ESRCH and EACCES after the child's execve, as natively.
func TestProcSetpgid(t *testing.T) {
	forFlavours(t, "proc_setpgid", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "setpgid(child, child): ok\n", "kill(-child, 0): ok\n",
			"setpgid(child, a group that is not there): EPERM\n", "setpgid(child after its execve, child): EACCES\n")
	})
}

// TestProcLazyForkHolderGone: a lazy fork's holder (internal/kernel/lazyfork_unsafe.go)
// killed before the child has its memory: the child, whose pages are gone with it, dies
// of SIGKILL (as a process the OOM killer chose) instead of waiting for ever on its first
// missing page, and its parent sees that and goes on. (Natively there is no holder: the
// same program's child reads its memory and exits 0, which the test checks first.)
func TestProcLazyForkHolderGone(t *testing.T) {
	needGolos(t)
	p := prog(t, "proc_holder_gone.glibc-static")
	nat := runNative(&runOpts{stdin: []byte("go\n")}, p)
	if nat.code != 0 || string(nat.stdout) != "ready\nthe child exited 0\n" {
		t.Fatalf("natively: %s, stdout %q", nat, nat.stdout)
	}
	r := startReady(t, 60*time.Second, "run", p)
	// The holder: a process below golos that is not golos's child golos: a raw clone of
	// golos, of one thread, where a golos has its runtime's threads too. (The host's
	// command lines of all three are the program's: hostcmdline_unsafe.go.)
	holder := 0
	for _, pid := range descendants(r.cmd.Process.Pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil && bytes.Contains(b, []byte("\nThreads:\t1\n")) {
			holder = pid
		}
	}
	if holder == 0 {
		r.abandon()
		t.Fatalf("golos: no holder below golos (pid %d): is the fork still lazy for 64 MiB?", r.cmd.Process.Pid)
	}
	syscall.Kill(holder, syscall.SIGKILL)
	// A child that waited for its pages for ever would keep golos from ending: finish
	// fails the test at the time limit.
	rest, err := r.finish(t)
	if want := "the child was killed by signal 9\n"; err != nil || rest != want {
		t.Errorf("golos: %v, stdout after ready %q, want %q; stderr:\n%s", err, rest, want, r.stderr.String())
	}
}

// TestProcSharedDescriptors: a fork's child of a process with shared memory without a
// path has the parent's descriptors and no more: golos's copies of the mappings' files,
// sent to the child's golos, are not among the program's. As the user the tests run as
// (root: /proc/self/map_files is open to it); TestProcSharedUnprivileged runs it as
// nobody.
func TestProcSharedDescriptors(t *testing.T) {
	forFlavours(t, "proc_shared_unpriv", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p, "stay")
		wantNative(t, nat, 0,
			`shared anonymous: child exited, saw the parent's memory: yes, same descriptors: yes; parent sees "child", "grandchild"`,
			`memfd, closed: child exited, saw the parent's memory: yes, same descriptors: yes; parent sees "child", "grandchild"`,
			"failures: 0\n")
	})
}

// TestProcSharedUnprivileged: shared memory without a path (anonymous, /dev/zero's, a
// closed memfd's) stays shared with a fork's child and grandchild when the process has no
// privileges, as PostgreSQL's postmaster, run as its own user, needs; the child has the
// parent's descriptors and no more, and mapping and unmapping leaves none behind.
func TestProcSharedUnprivileged(t *testing.T) {
	forFlavours(t, "proc_shared_unpriv", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "privileged: no\n",
			"shared anonymous memory in /proc/self/maps: /dev/zero (deleted)\n",
			`shared anonymous: child exited, saw the parent's memory: yes, same descriptors: yes; parent sees "child", "grandchild"`,
			`memfd, closed: child exited, saw the parent's memory: yes, same descriptors: yes; parent sees "child", "grandchild"`,
			"descriptors after 200 maps and unmaps: +0\n", "failures: 0\n")
	})
}

// TestProcNonblockingStd: a process whose standard descriptors are non-blocking forks
// and runs a command; each child starts with them non-blocking (they are the parent's
// open file descriptions), which golos's own start must take as they are.
func TestProcNonblockingStd(t *testing.T) {
	forFlavours(t, "proc_nonblock_std", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "child: stdin non-blocking: yes, stderr non-blocking: yes\n",
			"child: read from the empty pipe: -1 EAGAIN\n", "child status: 0\n", "command ran\n",
			"system: 0\n", "stderr's pipe has: to stderr\nfrom a command\n", "failures: 0\n")
	})
}

// TestProcSigurg: SIGURG sent by another process reaches the program, as PostgreSQL's
// latches need (SetLatch: kill(owner, SIGURG)); golos's process takes SIGURG as the Go
// runtime's preemption signal, and a SIGURG from another process was dropped there: each
// wake-up waited for its epoll_wait's timeout (pgbench with 4 clients: 11 transactions a
// second instead of 2,500).
func TestProcSigurg(t *testing.T) {
	forFlavours(t, "proc_sigurg", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "waits that timed out, of 100: 0\n",
			"parent's handler saw only SI_USER from the child: yes\n", "child's handler saw only SI_USER from the parent: yes\n",
			"failures: 0\n")
	})
}

// TestProcSigurgBlocked: a SIGURG from another process reaches a program blocked in
// read(2), whose handler (SA_RESTART) runs at once, the read then resumed (signal(7)).
// golos's SIGURG handler, which tells another process's SIGURG from the Go runtime's
// preemption, marked the signal pending on the thread it came to without kicking it, and
// the forwarder kicks only a thread whose mark it sets itself: a read that SA_RESTART
// resumed stayed blocked until the sender gave up waiting (1 to 7 rounds of 20 ran the
// handler in time).
func TestProcSigurgBlocked(t *testing.T) {
	forFlavours(t, "proc_urg_blocked", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "rounds whose handler ran while read blocked: 20 of 20\n")
	})
}

// TestProcSigurgPairs runs proc_sigurg as 4 parent/child pairs at once, batch after batch
// (a few seconds), under golos: a signal from the other process must never wait for the
// receiver's epoll_wait to time out, in the child's first moments after the fork
// included, when the two CPUs are busy with the other pairs. (With the self-pipe shared
// by parent and child, as the program had it, 8 runs of 1,200 had a late wake-up,
// which the program itself caused: see proc_sigurg.c.)
func TestProcSigurgPairs(t *testing.T) {
	needGolos(t)
	p := prog(t, "proc_sigurg.glibc-static")
	const pairs, batches = 4, 60
	for b := 0; b < batches; b++ {
		results := make([]*result, pairs)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p)
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.err != nil || r.timedOut || r.code != 0 || !bytes.Contains(r.stdout, []byte("waits that timed out, of 100: 0\n")) {
				t.Fatalf("batch %d, pair %d: %s\nstdout:\n%sstderr:\n%s", b, i, r, clip(r.stdout), clip(r.stderr))
			}
		}
	}
}
