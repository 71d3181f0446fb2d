package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestExecStack: a program whose PT_GNU_STACK asks for an executable stack (GCC's nested
// functions, their trampolines on the stack) gets one, as from Linux, in the program, a
// fork's child and after execve (testdata/exec_stack.c); golos mapped the stack without
// PROT_EXEC and the program died of SIGSEGV at its first trampoline.
func TestExecStack(t *testing.T) {
	forFlavours(t, "exec_stack", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "program: trampoline 42\n", "program: [stack] rwxp\n",
			"child: trampoline 43\n", "child status 0\n",
			"after execve: trampoline 42\n", "after execve: [stack] rwxp\n")
	})
}

// TestExecE2big: execve with a string longer than MAX_ARG_STRLEN, or strings beyond
// Linux's share of RLIMIT_STACK, fails with E2BIG and the program goes on, the limit at
// the byte where Linux puts it for several stack limits, and for a "#!" script within a
// few bytes of it; 200000 short strings fit (testdata/exec_e2big.c). golos
// answered ENAMETOOLONG for the long string, and found too much in all only after its
// point of no return: the process died of SIGSEGV; and it refused more than 2^17 strings.
func TestExecE2big(t *testing.T) {
	forFlavours(t, "exec_e2big", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "one string: longest last string 131071, one byte more: E2BIG\n",
			"200000 strings of 1 byte: errno0\n",
			"stack limit 8192 KiB: 20 strings of 100000 fit, 21: E2BIG\n",
			"stack limit 256 KiB: 1 strings of 100000 fit, 2: E2BIG\n", "after: errno0\n",
			"script: 20 strings of 100000 fit, and one byte more than the longest last string: E2BIG\n")
	})
}

// TestArchPrctlCPUID: arch_prctl's CPUID and extended-state options answer as Linux's
// (testdata/arch_cpuid.c); golos answered EINVAL to each, so a program could not even
// learn that CPUID runs. Disabling CPUID is refused with ENODEV, as on a CPU without
// CPUID faulting, and named on stderr: the flag would bind golos's code on the thread.
func TestArchPrctlCPUID(t *testing.T) {
	forFlavours(t, "arch_cpuid", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "ARCH_GET_CPUID: 1\n", "ARCH_GET_XCOMP_SUPP: 0\n",
			"ARCH_GET_XCOMP_SUPP to a bad pointer: -1 EFAULT\n", "an unknown option: -1 EINVAL\n")
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p, "disable")
		golosRefused(t, "golos run arch_cpuid disable", g, "ARCH_SET_CPUID 0: -1 ENODEV\nARCH_GET_CPUID: 1\ncpuid ran\n",
			"arch_prctl(ARCH_SET_CPUID, 0) is not supported")
	})
}

// TestForkAdvice: MADV_DONTFORK and MADV_WIPEONFORK hold across golos's fork, whose child
// golos fills itself (testdata/fork_advice.c): the child has no DONTFORK region and a
// zero-filled WIPEONFORK one, which keeps the advice for the child's fork; a vfork child
// reads both; the advice taken back restores the copy. With the lazy copy and the eager
// one (GOLOS_EAGER_FORK). golos's child had both regions with the parent's contents.
func TestForkAdvice(t *testing.T) {
	forFlavours(t, "fork_advice", func(t *testing.T, p string) {
		for _, env := range [][]string{nil, {"GOLOS_EAGER_FORK=1"}} {
			nat, _ := runBothOpts(t, runOpts{env: env}, p)
			wantNative(t, nat, 0, "child: wiped page 0, wiped 16 MiB sum 0, plain 16 MiB sum 455\n",
				"grandchild: wiped page 0\n", "child: wiped page after its fork 9\n",
				"child touching the DONTFORK page: killed by signal 11\n",
				"child touching the DONTFORK 16 MiB: killed by signal 11\n",
				"vfork child reading both pages: exit 14\n", "child after DOFORK and KEEPONFORK: exit 14\n")
		}
	})
}

// TestInt80: a 64-bit program's syscalls of the 32-bit ABI (int $0x80, testdata/int80.c)
// get ENOSYS under golos, with the other registers kept and a note on stderr, as from a
// kernel without IA32 emulation; natively they run as i386's getpid and write. golos took
// them for the x86-64 syscalls of the same numbers (writev and stat).
func TestInt80(t *testing.T) {
	forFlavours(t, "int80", func(t *testing.T, p string) {
		nat := runNative(&runOpts{dir: t.TempDir()}, p)
		wantNative(t, nat, 0, "i386 getpid: the pid\n", "registers kept: yes\n", "written by i386 write\n", "i386 write: 22\n")
		needGolos(t)
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p)
		golosRefused(t, "golos run int80", g, "i386 getpid: -ENOSYS\nregisters kept: yes\ni386 write: -38\n",
			"a 32-bit syscall (int $0x80) is not supported")
	})
}

// TestStackGrowsdown: mprotect with PROT_GROWSDOWN on the main stack reaches down to the
// stack's start and succeeds, as on Linux, whose main stack grows down
// (testdata/stack_growsdown.c); golos's stack, mapped whole, does not, and the host said
// EINVAL, so glibc's dlopen of a library that needs an executable stack failed ("cannot
// enable executable stack as shared object requires").
func TestStackGrowsdown(t *testing.T) {
	forFlavours(t, "stack_growsdown", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "PROT_GROWSDOWN|PROT_GROWSUP: EINVAL\n", "PROT_GROWSDOWN on an anonymous mapping: EINVAL\n",
			"PROT_GROWSDOWN on the stack: 0\n", "the buffer's page: rwxp (no name)\n", "code on the stack returns 42\n",
			"the page above it: rw-p [stack]\n")
	})
}

// TestStackMremap: the main stack grows in place with mremap, at its whole and at its top
// page, and shrinks back, as on Linux, where nothing lies above it; the region holding
// the stack pointer the program started with (/proc/self/stat's startstack, argc's
// address) stays [stack] in /proc/self/maps (testdata/stack_mremap.c). golos kept a page
// without access above the stack (mremap said ENOMEM), named [stack] only a region
// ending at the stack's first top, and showed golos's own startstack.
func TestStackMremap(t *testing.T) {
	forFlavours(t, "stack_mremap", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "[stack] lines: 1, holds the start's stack pointer: yes, which is argc's: yes\n",
			"grow the stack by a page: in place\n", "[stack] now ends two pages higher: yes (1 line)\n",
			"[stack] ends where it did: yes\n")
	})
}

// TestStackGrow: the main stack is a region that grows down, as Linux makes it: it starts
// at 128 KiB and some (smaps's "gd" flag), memory below it is free until it grows there
// (mmap with MAP_FIXED_NOREPLACE 4 MiB below its top succeeds, a hint is taken but in
// the stack_guard_gap below the stack), it grows as the program
// uses it, for a signal handler's frame below its start, and in a fork's child, and stops
// at an RLIMIT_STACK lowered at run time (testdata/stack_grow.c). golos mapped the whole
// RLIMIT_STACK at exec: the mmap failed with EEXIST, and the stack ran on to 8 MiB.
func TestStackGrow(t *testing.T) {
	forFlavours(t, "stack_grow", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "[stack] at the start smaller than RLIMIT_STACK: yes, grows down: yes\n",
			"overflow: SIGSEGV after between 900 KiB and 1 MiB: yes\n",
			"mmap MAP_FIXED_NOREPLACE 4 MiB below the stack's top: at the address\n",
			"mmap hint in the guard gap below the stack: elsewhere; 2 MiB below it: taken\n",
			"after using 1 MiB more: [stack] starts lower: yes, holds this frame: yes\n",
			"signal handler ran on the stack below its start: yes, which grew: yes\n",
			"child: used 3 MiB of stack, [stack] grows down: yes\n", "child: exited\n")
	})
}

// TestProcessVMSelf: process_vm_readv and process_vm_writev on the program's own process
// work as on Linux (testdata/process_vm_self.c), golos's memory looking unmapped on the
// remote side; golos refused them with EPERM, as for another process's memory.
func TestProcessVMSelf(t *testing.T) {
	forFlavours(t, "process_vm_self", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "readv: 5\n", "src now: HELLO, world\n", "readv, second remote element unmapped: 5\n",
			"readv, first remote element unmapped: -1 EFAULT\n", "readv from 0x7e0000001000: -1 EFAULT\n",
			"writev to 0x7e0000001000: -1 EFAULT\n", "readv of 1025 remote elements: -1 EINVAL\n",
			"readv from pid 0: -1 ESRCH\n", "readv by a thread's id: 5\n")
	})
}

// golosRefused checks a run of golos in which the program meets something golos refuses
// where Linux would do it: the program goes on and prints want, and golos names what it
// refused on its stderr (note), as for an unimplemented syscall.
func golosRefused(t *testing.T, what string, g *result, want, note string) {
	t.Helper()
	if !golosRanOK(t, what, g) {
		return
	}
	if string(g.stdout) != want {
		t.Errorf("%s: stdout\n%swant\n%s", what, clip(g.stdout), want)
	}
	if !bytes.Contains(g.stderr, []byte(note)) {
		t.Errorf("%s: stderr does not say %q\nstderr:\n%s", what, note, clip(g.stderr))
	}
}

// TestProcTidDirs: /proc/TID of a thread that leads no thread group, which Linux finds
// though /proc does not list it, and /proc/PID/task/TID of another process show no
// descriptor the program did not open and no thread that is golos's
// (testdata/hostile_procfd.c), in the program's own process and in a child's, without a
// root and in one with /proc grafted in, where /proc/TID/cwd is the working directory
// inside the root. golos took /proc/TID of any thread but the main one for another
// process's directory: /proc/TID of its second thread listed golos's descriptors (the
// runtime's poller, /proc/self/mem, the root's) and /proc/TID of each of golos's threads
// was there, with its cwd link naming the root's host path; and a child's golos
// descriptors showed through /proc/CHILD/fd/N and /proc/CHILD/task/CHILD/fd/N (golos
// hid them only from the listing).
func TestProcTidDirs(t *testing.T) {
	forFlavours(t, "hostile_procfd", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"threads of this process shown as /proc/TID besides the main one: 1, the second thread among them: yes\n",
			"/proc/TID of the second thread: descriptors never opened shown 0, listed 0\n",
			"/proc/TID/cwd of the second thread is /proc/self/cwd: yes\n",
			"threads of the child shown as /proc/TID besides its main one: 0\n",
			"/proc/CHILD: descriptors never opened shown 0, listed 0\n",
			"/proc/CHILD/task/CHILD: descriptors never opened shown 0, listed 0\n", "done\n")

		root := filepath.Join(t.TempDir(), "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_procfd"), 0o755)
		if err := os.Mkdir(filepath.Join(root, "proc"), 0o755); err != nil {
			t.Fatal(err)
		}
		g := runGolosRoot(t, &runOpts{}, root, false, []volBind{{host: "/proc", guest: "/proc"}}, "", "/bin/hostile_procfd")
		if !golosRanOK(t, "golos run --root --volume /proc:/proc", g) {
			return
		}
		// In a root, golos resolves a path with a descriptor of its own for a directory
		// on the way, at the lowest free number while the call lasts: a path through the
		// program's own fd directory by that number finds it (a difference of its own,
		// not this one's), so the lines of the program's own fd directories are left out.
		skip := []string{"/proc/TID of the second thread: descriptors", "/proc/PID/task/TID of the second thread: descriptors"}
		if got, want := outLinesWithout(g.stdout, skip...), outLinesWithout(nat.stdout, skip...); !slices.Equal(got, want) {
			t.Errorf("golos run --root --volume /proc:/proc: stdout\n%s\nwant (native)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestOwnFDArgs: a descriptor the program never opened, named in an argument that is a
// descriptor but not the first (sendfile's in_fd, splice's and tee's fd_out,
// copy_file_range's fd_in and fd_out, epoll_ctl's fd, mmap's fd, the source of ioctl's
// FICLONE and of FICLONERANGE's struct, fcntl's F_DUPFD_QUERY's second), fails with EBADF
// in the program and in a forked child (testdata/hostile_fdargs.c), from a rewritten site
// too. golos checked only the first argument (and copy_file_range's not at all): the
// program wrote to golos's copy of its standard error through splice and copy_file_range,
// added golos's runtime poller, eventfds and root directory to an epoll set, and, in a
// child, could write into the socket its golos keeps to the parent's; FICLONE,
// FICLONERANGE and F_DUPFD_QUERY reached golos's descriptors (EXDEV, EINVAL, 0 or 1
// rather than EBADF).
func TestOwnFDArgs(t *testing.T) {
	forFlavours(t, "hostile_fdargs", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		var want []string
		for _, who := range []string{"program", "child"} {
			for _, call := range []string{"epoll_ctl fd", "sendfile in_fd", "splice fd_out", "tee fd_out",
				"copy_file_range fd_in", "copy_file_range fd_out", "mmap fd", "FICLONE src_fd",
				"FICLONERANGE src_fd", "F_DUPFD_QUERY fd2"} {
				want = append(want, who+": "+call+": descriptors never opened not EBADF: 0\n")
			}
		}
		wantNative(t, nat, 0, append(want, "child exited 0\n")...)
	})
}

// TestSigTid: kill(2) and rt_sigqueueinfo(2) given the tid of one of the program's
// threads reach its process, no id next to its pid is a thread of its process that
// kill(ID, 0) finds but the program does not have, and rt_sigqueueinfo(2) and
// rt_tgsigqueueinfo(2) to the program's own process take any si_code, as on Linux
// (testdata/hostile_sigtid.c). golos passed kill(2) of its own threads' ids to the host,
// which found them (kill(ID, 0) 0, and any signal went to the program's process; their
// /proc/ID showed them as the process's, TestProcTidDirs), and refused codes of the
// kernel's and SI_TKILL with EPERM, which Linux answers only for another process.
func TestSigTid(t *testing.T) {
	forFlavours(t, "hostile_sigtid", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "kill(second thread's tid, SIGUSR1): 0, handled: 1, si_code SI_USER: yes\n",
			"rt_sigqueueinfo(second thread's tid, SI_QUEUE): 0, handled: 2, value 41\n",
			"ids after the pid that kill(ID, 0) finds as threads of this process: 0\n",
			"rt_sigqueueinfo(self, SI_KERNEL): 0 , handled yes, si_code as given, value 100\n",
			"rt_tgsigqueueinfo(self, SI_TKILL): 0 , handled yes, si_code as given, value 203\n", "done\n")
	})
}

// TestProcNumaMaps: /proc/self/numa_maps lists the program's mappings alone, as maps, the
// program's stack marked, without a root and in one with /proc grafted in
// (testdata/hostile_numamaps.c). golos passed the host's file through: it listed golos's
// own mappings (its executable by its host path among them), which maps leaves out.
func TestProcNumaMaps(t *testing.T) {
	forFlavours(t, "hostile_numamaps", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		if bytes.Contains(nat.stdout, []byte("no numa_maps")) {
			t.Skip("no /proc/self/numa_maps here (a kernel without CONFIG_NUMA)")
		}
		want := "numa_maps: lines some, not starting a maps entry 0, marked stack 1, files maps does not name 0\n"
		wantNative(t, nat, 0, want)
		root := filepath.Join(t.TempDir(), "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_numamaps"), 0o755)
		if err := os.Mkdir(filepath.Join(root, "proc"), 0o755); err != nil {
			t.Fatal(err)
		}
		g := runGolosRoot(t, &runOpts{}, root, false, []volBind{{host: "/proc", guest: "/proc"}}, "", "/bin/hostile_numamaps")
		if golosRanOK(t, "golos run --root --volume /proc:/proc", g) && string(g.stdout) != want {
			t.Errorf("golos run --root --volume /proc:/proc: stdout %q, want %q\nstderr:\n%s", g.stdout, want, clip(g.stderr))
		}
	})
}

// TestRootPathRace: a path another thread changes while golos looks at it cannot take a
// call out of the root (testdata/hostile_pathrace.c): an open(2) of "/proc/self/fd",
// swapped with a host file's absolute path, and fchmodat2(2) with AT_EMPTY_PATH of "",
// swapped likewise, never reach the host file, with /proc grafted in or not. golos looked
// at its copy of the path, then let the host read the program's again: the opens read
// the host file, and fchmodat2 changed its mode.
func TestRootPathRace(t *testing.T) {
	forFlavours(t, "hostile_pathrace", func(t *testing.T, p string) {
		h := t.TempDir()
		canary := filepath.Join(h, "canary")
		mk := func() {
			if err := os.WriteFile(canary, []byte("the canary: outside the root\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(canary, 0o640); err != nil {
				t.Fatal(err)
			}
		}
		mode := func() os.FileMode {
			st, err := os.Stat(canary)
			if err != nil {
				t.Fatal(err)
			}
			return st.Mode().Perm()
		}
		mk()
		var st syscall.Stat_t
		if err := syscall.Stat(canary, &st); err != nil {
			t.Fatal(err)
		}
		args := []string{canary, strconv.FormatUint(st.Ino, 10), "20000"}

		// Natively on the host the same calls reach the file: the races are won there.
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		nat := runNative(&runOpts{dir: dir}, append([]string{p}, args...)...)
		wantNative(t, nat, 0, "fchmodat2: done\n")
		if bytes.Contains(nat.stdout, []byte("open: escapes 0\n")) || mode() == 0o640 {
			t.Logf("natively the races were not won (stdout %q, mode %v): the golos half shows less", nat.stdout, mode())
		}

		root := filepath.Join(h, "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_pathrace"), 0o755)
		if err := os.Mkdir(filepath.Join(root, "proc"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, binds := range [][]volBind{nil, {{host: "/proc", guest: "/proc"}}} {
			mk()
			what := fmt.Sprintf("golos run --root with %d volumes", len(binds))
			g := runGolosRoot(t, &runOpts{}, root, false, binds, "", append([]string{"/bin/hostile_pathrace"}, args...)...)
			if golosRanOK(t, what, g) && !bytes.Contains(g.stdout, []byte("open: escapes 0\n")) {
				t.Errorf("%s: opens reached the host file: stdout\n%s", what, g.stdout)
			}
			if m := mode(); m != 0o640 {
				t.Errorf("%s: fchmodat2 changed the host file's mode to %v", what, m)
			}
		}
	})
}

// TestRootSockRace: a socket address another thread changes while golos looks at it
// cannot take connect(2), sendto(2) or sendmsg(2) to a unix socket outside the root
// (testdata/hostile_sockrace.c): golos let an abstract address through to the host, which
// read it again from the program's memory, where the other thread had put the path of a
// host socket outside the root by then.
func TestRootSockRace(t *testing.T) {
	forFlavours(t, "hostile_sockrace", func(t *testing.T, p string) {
		h, err := os.MkdirTemp("/tmp", "golos-sockrace-") // a short path: sun_path holds 108 bytes
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(h) })
		streamPath, dgramPath := filepath.Join(h, "s"), filepath.Join(h, "d")
		_, accepted := countAccepts(t, "unix", streamPath)
		dg, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: dgramPath, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		defer dg.Close()
		var received atomic.Int64
		go func() {
			buf := make([]byte, 16)
			for {
				if _, _, err := dg.ReadFrom(buf); err != nil {
					return
				}
				received.Add(1)
			}
		}()
		args := []string{streamPath, dgramPath, "5000"}
		nat := runNative(&runOpts{dir: t.TempDir()}, append([]string{p}, args...)...)
		wantNative(t, nat, 0, "connected ")
		time.Sleep(100 * time.Millisecond)
		if accepted.Load() == 0 || received.Load() == 0 {
			t.Logf("natively the races were not won (%d connections, %d datagrams): the golos half shows less", accepted.Load(), received.Load())
		}

		root := filepath.Join(h, "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_sockrace"), 0o755)
		accepted.Store(0)
		received.Store(0)
		g := runGolosRoot(t, &runOpts{}, root, false, nil, "", append([]string{"/bin/hostile_sockrace"}, args...)...)
		golosRanOK(t, "golos run --root", g)
		time.Sleep(100 * time.Millisecond)
		if accepted.Load() != 0 || received.Load() != 0 {
			t.Errorf("golos run --root: %d connections and %d datagrams reached host sockets outside the root; stdout %q",
				accepted.Load(), received.Load(), g.stdout)
		}
	})
}

// TestSCMRace: an SCM_RIGHTS message whose descriptor another thread rewrites while
// golos looks at it never carries one of golos's own descriptors
// (testdata/hostile_scmrace.c): golos checked its copy of the control data, then let the
// host read the program's again, and the program received copies of golos's descriptors
// (its runtime's poller, /proc/self/mem), which it could then use as its own. (A race:
// before the fix it showed in some runs here, 16 descriptors in one, none in others.)
func TestSCMRace(t *testing.T) {
	forFlavours(t, "hostile_scmrace", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "sent some: yes; descriptors received that the program never had: 0\n")
	})
}

// TestSigpendingLimit: RLIMIT_SIGPENDING binds the signals the program queues as on Linux
// (testdata/hostile_sigpending.c): under a limit of 4 with a SIGUSR2 pending, 3 sigqueue(3)
// of SIGRTMIN fit and the rest fail with EAGAIN, as do tgkill(2) and rt_tgsigqueueinfo(2)
// of a real-time signal; kill(2) of one and sigqueue(3) of a standard one succeed without
// their siginfo (the handler sees SI_USER); the room comes back once they are delivered;
// each POSIX timer holds a signal's room until it is deleted; a forked child keeps the
// limit; and at 0 a thread spinning in its own code still gets a signal sent to it. golos
// queued every signal (10 of 10, the child 3 of 3 under 2) and passed the limit to the
// host, which then refused golos's own kick (a real-time signal): the spinning thread
// never saw its signal.
func TestSigpendingLimit(t *testing.T) {
	forFlavours(t, "hostile_sigpending", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "RLIMIT_SIGPENDING soft: 4\n", "/proc/self/limits soft: 4\n",
			"sigqueue SIGRTMIN x10: 3 queued, 7 EAGAIN, 0 other\n", "sigqueue SIGUSR1 over the limit: 0\n",
			"kill SIGRTMIN+1 twice over the limit: 0 0\n", "tgkill SIGRTMIN+2 over the limit: -1 EAGAIN\n",
			"rt_tgsigqueueinfo SIGRTMIN+2 over the limit: -1 EAGAIN\n", "handled SIGUSR1 SI_USER value -1\n",
			"after delivery: 4 queued, the fifth: EAGAIN\n", "timers under a limit of 4: 4, the next: EAGAIN\n",
			"after timer_delete, sigqueue: 0\n", "child: limit was 4, 2 of 3 queued under 2\n",
			"limit 0: pthread_kill 0, the spinning thread took it: yes\n", "done\n")
	})
}

// TestPeerGolosTids: the threads of a child's golos (its runtime's) are no task for the
// program: kill(2), tgkill(2), tkill(2), rt_sigqueueinfo(2), rt_tgsigqueueinfo(2) with
// signal 0 and pidfd_open(2) of each say ESRCH, as for its own golos's threads (TestSigTid),
// while the child's own two threads are found (testdata/hostile_peertid.c, given every
// thread the host shows in the child's process). golos passed them to the host, which
// found each (0, and a pidfd).
func TestPeerGolosTids(t *testing.T) {
	forFlavours(t, "hostile_peertid", func(t *testing.T, p string) {
		needGolos(t)
		want := "found by kill 0, tgkill 0, tkill 0, rt_sigqueueinfo 0, rt_tgsigqueueinfo 0, pidfd_open 0\n" +
			"the child's threads: kill 0, tgkill 0\nchild exited 0\n"
		for _, argv := range [][]string{{p}, {golosBin, "run", p}} {
			out := runPeerTid(t, argv)
			tried := "ids of the child's other threads tried: none\n"
			if len(argv) > 1 {
				tried = "ids of the child's other threads tried: some\n"
			}
			if !strings.HasSuffix(out, tried+want) {
				t.Errorf("%q: stdout\n%swant it to end\n%s%s", argv, out, tried, want)
			}
		}
	})
}

// runPeerTid runs hostile_peertid (argv) and gives it, once its child has said who it is,
// the host's threads of the child's process; it returns the program's stdout.
func runPeerTid(t *testing.T, argv []string) string {
	t.Helper()
	return runAnswering(t, argv, func(first string, _ int) (string, bool) {
		var pid, tid int
		if _, err := fmt.Sscanf(first, "child %d %d\n", &pid, &tid); err != nil {
			return "", false
		}
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			t.Errorf("%q: the child's threads: %v", argv, err)
		}
		ids := []string{strconv.Itoa(-tid)}
		for _, e := range ents {
			ids = append(ids, e.Name())
		}
		return strings.Join(ids, " "), true
	})
}

// runAnswering runs argv, reads the first line it writes, and writes to its stdin the
// line answer makes of that and of the pid argv runs as (what the host's /proc alone can
// tell: a test program does not see golos's processes and threads under golos); it
// returns the program's whole stdout. A first line answer cannot read fails the test.
func runAnswering(t *testing.T, argv []string, answer func(first string, pid int) (string, bool)) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = t.TempDir()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	r := bufio.NewReader(stdout)
	first, err := r.ReadString('\n')
	var out strings.Builder
	out.WriteString(first)
	line, ok := answer(first, cmd.Process.Pid)
	if err != nil || !ok {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("%q: first line %q (%v); stderr:\n%s", argv, first, err, clip(stderr.Bytes()))
	}
	fmt.Fprintln(stdin, line)
	stdin.Close()
	rest, _ := io.ReadAll(r)
	out.Write(rest)
	if err := cmd.Wait(); err != nil || crashed(stderr.Bytes()) {
		t.Errorf("%q: %v; stderr:\n%s", argv, err, clip(stderr.Bytes()))
	}
	return out.String()
}

// TestRootFreeze: FIFREEZE and FITHAW fail with EPERM in a root, as in a container
// without CAP_SYS_ADMIN, after EBADF for a descriptor that is not open; without a root
// they are the host's (testdata/hostile_freeze.c, on a memfd, which tmpfs cannot freeze:
// EOPNOTSUPP natively as root). In a root with a ":ro" volume, FICLONE into a file of it
// opened read-only fails with EBADF, as on a read-only mount, and it cannot be opened for
// writing. golos passed both requests through: a program in a root could freeze the
// host's filesystem under it (on the memfd, EOPNOTSUPP and EINVAL instead of EPERM).
func TestRootFreeze(t *testing.T) {
	forFlavours(t, "hostile_freeze", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "FIFREEZE on a descriptor not open: EBADF\n", "done\n")
		root := filepath.Join(t.TempDir(), "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_freeze"), 0o755)
		ro := filepath.Join(t.TempDir(), "ro")
		for dir, f := range map[string]string{ro: "f", filepath.Join(root, "rw"): "g"} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), []byte("some bytes\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g := runGolosRoot(t, &runOpts{}, root, false, []volBind{{host: ro, guest: "/ro", ro: true}}, "",
			"/bin/hostile_freeze", "/ro/f", "/rw/g")
		want := "FIFREEZE on a memfd: EPERM\nFITHAW on a memfd: EPERM\nFIFREEZE on a descriptor not open: EBADF\n" +
			"FICLONE into the read-only part's file opened read-only: EBADF\n" +
			"open the read-only part's file for writing: EROFS\ndone\n"
		if golosRanOK(t, "golos run --root", g) && string(g.stdout) != want {
			t.Errorf("golos run --root: stdout\n%swant\n%s", g.stdout, want)
		}
	})
}

// TestRootTempFDs: the descriptors golos holds for a moment to resolve a path in a root
// are not the program's: while one thread makes path calls that open nothing (stat,
// lstat, access, readlink), another finds no descriptor it never opened in a listing of
// /proc/self/fd and closes none with close(2) (testdata/hostile_tempfd.c), in a root
// without volumes and in one with /proc grafted in (a walk across mounts). golos opened
// them at the lowest free numbers and held them there: the other thread listed them,
// found them with fcntl and closed them (tens to hundreds in 2000 rounds), and could have
// put a directory of its own in their place for golos's next host call. (fcntl may still
// meet one in the moment between its open and its move above the program's numbers:
// not compared.)
func TestRootTempFDs(t *testing.T) {
	forFlavours(t, "hostile_tempfd", func(t *testing.T, p string) {
		want := "listings of /proc/self/fd: some\n" +
			"descriptors never opened: listed 0, closed 0\nthe lookups still work: yes\n"
		nat := runNative(&runOpts{dir: t.TempDir()}, p, p, "2000")
		wantNative(t, nat, 0, want)
		root := filepath.Join(t.TempDir(), "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_tempfd"), 0o755)
		if err := os.Mkdir(filepath.Join(root, "proc"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, binds := range [][]volBind{nil, {{host: "/proc", guest: "/proc"}}} {
			what := fmt.Sprintf("golos run --root with %d volumes", len(binds))
			g := runGolosRoot(t, &runOpts{}, root, false, binds, "", "/bin/hostile_tempfd", "/bin/hostile_tempfd", "2000")
			if golosRanOK(t, what, g) && string(g.stdout) != want {
				t.Errorf("%s: stdout\n%swant\n%s", what, g.stdout, want)
			}
		}
	})
}

// TestForkSmallStack: a program that lowers its soft RLIMIT_STACK to 12, 8 or 4 KiB can
// still fork, as natively, where the child keeps its parent's stack, and the child sees
// the limit (testdata/hostile_smallstack.c). The child's golos started with that limit,
// and its runtime, which takes 64 KiB of the main thread's stack, died of SIGSEGV in its
// first frames: the program got EAGAIN.
func TestForkSmallStack(t *testing.T) {
	forFlavours(t, "hostile_smallstack", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "child: RLIMIT_STACK 12 KiB\n", "fork under 12 KiB: child exited 3\n",
			"child: RLIMIT_STACK 8 KiB\n", "fork under 8 KiB: child exited 3\n",
			"child: RLIMIT_STACK 4 KiB\n", "fork under 4 KiB: child exited 3\n")
	})
}

// TestProcSnapshotRO: a descriptor of /proc/self/status, which golos makes as a memfd, is
// the read-only /proc file it is natively (testdata/hostile_procsnap.c): write(2) EBADF,
// pwrite(2) ESPIPE, ftruncate(2) EINVAL, fallocate(2) EBADF, fchmod(2) EPERM, a shared
// writable mmap(2) EACCES and a private one ENODEV, O_RDONLY in F_GETFL, the link
// /proc/PID/status, and its link opened again for writing refused (EACCES, as another
// user); after a setuid(2) to that user, reads at 0 from three threads (pread, and
// lseek+read on a dup) each get the whole file. golos handed the program the read-write
// memfd: every change above succeeded (the program wrote into its status file and read
// its own words back), the link named "/memfd:golos-proc (deleted)", and a read at 0 in
// one thread could meet the memfd emptied by another's refresh (an empty or cut text).
func TestProcSnapshotRO(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the native half changes its user ids (root)")
	}
	forFlavours(t, "hostile_procsnap", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "access mode O_RDONLY: yes\n", "write: EBADF\n", "pwrite at 0: ESPIPE\n",
			"ftruncate: EINVAL\n", "fallocate: EBADF\n", "fchmod 0777: EPERM\n", "mmap shared writable: EACCES\n",
			"mmap private: ENODEV\n", "link is /proc/PID/status: yes\n",
			"as nobody, reopen of the link for writing: EACCES\n", "read at 0 whole: yes\n",
			"reads at 0 not whole: 0 0 0\n")
	})
}

// TestHolderNoProcess: a lazy fork's memory holder (golos-holder, a host child of the
// parent's golos) is no process of the program's, and a process of the program's that
// names itself so is still one (testdata/hostile_holder.c, given the holders the host
// shows among its golos's children). kill(2) and tgkill(2) with signal 0, pidfd_open(2)
// and process_vm_readv(2) of a holder say ESRCH and its /proc directory is not there, as
// for an id no process has, and SIGKILL does not reach it: the child it serves reads its
// memory and exits 3. golos found the holder by its name alone: the program could kill
// it (its child then died of SIGKILL) and, naming a child golos-holder with prctl(2),
// hide it from the tree's /proc listings. (A holder is told by its single thread, which
// a golos never has; a zombie, which shows one, is none.)
func TestHolderNoProcess(t *testing.T) {
	forFlavours(t, "hostile_holder", func(t *testing.T, p string) {
		needGolos(t)
		tail := "child: exit 3\na child named golos-holder: listed yes, kill 0: 0\nthe same ended, not reaped: listed yes\n"
		nat := runHolder(t, []string{p})
		if want := "ids tried: none; found: 0\n" + tail; !strings.HasSuffix(nat, want) {
			t.Errorf("native: stdout\n%swant it to end\n%s", nat, want)
		}
		g := runHolder(t, []string{golosBin, "run", p})
		line := "kill 0: ESRCH, tgkill 0: ESRCH, pidfd_open: ESRCH, process_vm_readv: ESRCH, /proc/ID/stat: ENOENT\n"
		if want := line + "ids tried: some; found: 0\n" + tail; !strings.HasSuffix(g, want) {
			t.Errorf("golos run: stdout\n%swant it to end\n%s", g, want)
		}
	})
}

// runHolder runs hostile_holder (argv) and gives it, once it has said who its child is,
// the host's holders among the children of its process (the golos's, under golos); it
// returns the program's stdout.
func runHolder(t *testing.T, argv []string) string {
	t.Helper()
	return runAnswering(t, argv, func(first string, parent int) (string, bool) {
		if !strings.HasPrefix(first, "child ") {
			return "", false
		}
		var ids []string
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
			if err != nil || string(comm) != "golos-holder\n" {
				continue
			}
			status, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
			if strings.Contains(string(status), fmt.Sprintf("\nPPid:\t%d\n", parent)) {
				ids = append(ids, e.Name())
			}
		}
		return strings.Join(ids, " "), true
	})
}

// TestRootChrootFDLink: after a chroot(2) inside --root, the link of a descriptor opened
// before, to a directory outside the new root, names it from --root, as Linux names it
// from the namespace's root (testdata/hostile_chrootfd.c, natively in a chroot of the
// host's): what getcwd(2) said before the chroot; so do maps for a file there mapped
// before, and getsockname(2) and /proc/self/net/unix (also as unix in a descriptor of
// /proc/self/net) for a unix socket bound there before (the name it was bound with). golos named them all by their host paths (the
// root's place on the host, "/tmp/…/root"), which the program must never learn.
func TestRootChrootFDLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the native half needs root (CAP_SYS_CHROOT)")
	}
	forFlavours(t, "hostile_chrootfd", func(t *testing.T, p string) {
		want := "the working directory, outside the new root: as before the chroot\nthe new root: as before the chroot\n" +
			"maps names the file mapped before as before the chroot: yes\n" +
			"getsockname: as bound\nnet/unix names the socket as bound: yes\nunix in net names the socket as bound: yes\n"
		h := t.TempDir()
		if err := os.Mkdir(filepath.Join(h, "jail"), 0o755); err != nil {
			t.Fatal(err)
		}
		nat := runNative(&runOpts{dir: h}, p, "jail")
		wantNative(t, nat, 0, want)
		root := filepath.Join(t.TempDir(), "root")
		rootCopy(t, p, filepath.Join(root, "bin", "hostile_chrootfd"), 0o755)
		for _, d := range []string{"proc", "jail/proc"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		binds := []volBind{{host: "/proc", guest: "/proc"}, {host: "/proc", guest: "/jail/proc"}}
		g := runGolosRoot(t, &runOpts{}, root, false, binds, "/", "/bin/hostile_chrootfd", "jail")
		if golosRanOK(t, "golos run --root", g) && string(g.stdout) != want {
			t.Errorf("golos run --root: stdout\n%swant\n%s", g.stdout, want)
		}
	})
}
