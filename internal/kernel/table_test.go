package kernel

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func funcPC(h handler) uintptr { return reflect.ValueOf(h).Pointer() }

// plainFDHandlers are the handlers of plain rows that are not passthrough itself: each
// differs from it only on golos's own descriptors or those golos watches, which fastEntry
// sends to Go (the row's fd fact, entry.FDSyscalls and entry.GoFDs).
var plainFDHandlers = []handler{sysRead, sysReadv, sysWrite, sysClose, sysGetdents64, sysFcntl, sysDup, sysFstat,
	sysPread64, sysPwrite64, sysWritev, sysPreadv}

// plainUnlessNotMade are the handlers of plain rows that differ from passthrough only
// for a call a pending signal stopped before the host saw it (entry.BlockingSyscallMade):
// fastEntry never makes such a call itself (fastCallStart reads Pending and goes to Go).
var plainUnlessNotMade = []handler{sysNanosleep, sysClockNanosleep}

// plainUnlessResumed are the handlers of plain rows that differ from passthrough only for
// a wait golos makes again after its own signal interrupted it (timedwait.go): made
// again, the call traps (restart puts the thread back on its syscall instruction, which
// is the stub's slow path at a rewritten site) and never reaches fastEntry.
var plainUnlessResumed = []handler{passthroughWait}

// TestSyscallRecords checks the rows of the syscall table against each other.
func TestSyscallRecords(t *testing.T) {
	pass := map[uintptr]bool{funcPC(passthrough): true, funcPC(passthroughFast): true}
	for _, h := range append(plainUnlessNotMade, plainUnlessResumed...) {
		pass[funcPC(h)] = true
	}
	fdOnly := map[uintptr]bool{}
	for _, h := range plainFDHandlers {
		fdOnly[funcPC(h)] = true
	}
	names := map[string]int{}
	for nr := range syscalls {
		r := &syscalls[nr]
		name := syscallName(uint64(nr))
		switch {
		case r.fn == nil && r.errno == 0:
			t.Errorf("%d: no row (neither a handler nor a refusal)", nr)
			continue
		case r.fn != nil && (r.errno != 0 || r.why != ""):
			t.Errorf("%s: a handler and a refusal", name)
		case r.fn == nil && r.why == "":
			t.Errorf("%s: refused with %v without a reason", name, r.errno)
		case r.fn == nil && (r.fast != notPlain || r.fd || r.at != nil || r.paths != 0 || r.noRestart || r.sigpipe):
			t.Errorf("%s: a refused row with facts about its handling", name)
		}
		if r.name != "" {
			if o, dup := names[r.name]; dup {
				t.Errorf("%s: numbers %d and %d", r.name, o, nr)
			}
			names[r.name] = nr
		} else if r.errno != unix.ENOSYS {
			t.Errorf("%d: a number without a syscall must be ENOSYS, as on Linux", nr)
		}
		// Refusals: ENOSYS (Linux has no such call, or golos lacks it) or EPERM (a
		// container runtime's answer).
		if r.fn == nil && r.errno != unix.ENOSYS && r.errno != unix.EPERM {
			t.Errorf("%s: refused with %v: want ENOSYS or EPERM", name, r.errno)
		}
		plainish := r.fast != notPlain
		switch r.fast {
		case plain:
			pc := funcPC(r.fn)
			if !pass[pc] && !(fdOnly[pc] && r.fd) {
				t.Errorf("%s: plain, but its handler does more than pass it through", name)
			}
			if r.paths != 0 {
				t.Errorf("%s: plain with a path argument: its path must be checked for --root and /proc", name)
			}
		case plainUnlessProcRDI, plainUnlessProcRSI:
			want := arg0
			if r.fast == plainUnlessProcRSI {
				want = arg1
			}
			if r.paths != want {
				t.Errorf("%s: plain unless the path in %s is under /proc, but its path arguments are %b", name,
					map[fastClass]string{plainUnlessProcRDI: "RDI", plainUnlessProcRSI: "RSI"}[r.fast], r.paths)
			}
			if !r.procView {
				t.Errorf("%s: checks /proc in the entry code, but its handler treats no /proc path apart", name)
			}
		case plainWithoutRoot:
			if r.paths == 0 && nr != unix.SYS_GETCWD && !r.fd {
				t.Errorf("%s: plain without --root, but it has no path and no descriptor", name)
			}
			if r.at != nil && r.at.dir[1] >= 0 {
				t.Errorf("%s: plain without --root, but fastEntry sees its first directory descriptor only", name)
			}
		case plainUnlessControl:
			if nr != unix.SYS_SENDMSG {
				t.Errorf("%s: the sendmsg class on another syscall", name)
			}
		case plainUnlessMaskR8, plainUnlessMaskR10:
			// The mask's register: epoll_pwait's and epoll_pwait2's fifth argument,
			// ppoll's fourth; without a mask the handler passes the call through.
			want := map[uint64]fastClass{unix.SYS_EPOLL_PWAIT: plainUnlessMaskR8,
				unix.SYS_EPOLL_PWAIT2: plainUnlessMaskR8, unix.SYS_PPOLL: plainUnlessMaskR10}
			if w, ok := want[uint64(nr)]; !ok || w != r.fast {
				t.Errorf("%s: plain unless a signal mask is given, but its mask is not in that register", name)
			}
		case plainPoll, plainSelect:
			// The entry code reads poll's array of pollfds (RDI, RSI) or select's nfds
			// (RDI) for golos's own descriptors.
			if w := map[uint64]fastClass{unix.SYS_POLL: plainPoll, unix.SYS_SELECT: plainSelect}[uint64(nr)]; w != r.fast {
				t.Errorf("%s: the poll or select class on another syscall", name)
			}
		case plainArchPrctlFS:
			if nr != unix.SYS_ARCH_PRCTL {
				t.Errorf("%s: the arch_prctl class on another syscall", name)
			}
		}
		// A handler that shows /proc files as the application's may be plain only where
		// the entry code checks for /proc/.
		if r.procView && (r.fast == plain || r.fast == plainWithoutRoot) {
			t.Errorf("%s: plain without a /proc check, but its handler treats /proc paths apart", name)
		}
		if plainish && r.at != nil && r.at.dir[0] == 0 && r.at.dir[1] < 0 && r.fd {
			t.Errorf("%s: both a descriptor and a directory descriptor in its first argument", name)
		}
		if r.at != nil && r.paths == 0 {
			t.Errorf("%s: directory descriptors but no path", name)
		}
		if r.at != nil {
			for i, d := range r.at.dir {
				if d >= 0 && r.paths&(1<<r.at.path[i]) == 0 {
					t.Errorf("%s: directory argument %d, but argument %d is no path", name, d, r.at.path[i])
				}
			}
		}
		if r.sigpipe && !r.fd {
			t.Errorf("%s: SIGPIPE on EPIPE, but no descriptor to write to", name)
		}
		if r.noRestart && funcPC(r.fn) == funcPC(passthroughFast) {
			t.Errorf("%s: never restarted, but passed through as a call that never blocks", name)
		}
	}
	// The host's list of syscalls, and x/sys's, name each number as the table does.
	for name, nr := range hostSyscalls(t) {
		if nr >= len(syscalls) {
			t.Errorf("%s (%d): beyond the table", name, nr)
		} else if syscalls[nr].name != name {
			t.Errorf("%d: named %q, the host's header says %q", nr, syscalls[nr].name, name)
		}
	}
}

// hostSyscalls reads the syscall numbers of the host's uapi header and of the x/sys module
// golos is built with (zsysnum_linux_amd64.go), where they can be found.
func hostSyscalls(t *testing.T) map[string]int {
	got := map[string]int{}
	read := func(path string, re *regexp.Regexp, lower bool) {
		f, err := os.Open(path)
		if err != nil {
			t.Logf("%v: not checked", err)
			return
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				nr, _ := strconv.Atoi(m[2])
				name := m[1]
				if lower {
					name = strings.ToLower(name)
				}
				if o, ok := got[name]; ok && o != nr {
					t.Errorf("%s: %d in one list, %d in another", name, o, nr)
				}
				got[name] = nr
			}
		}
	}
	read("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", regexp.MustCompile(`^#define __NR_(\w+) (\d+)$`), false)
	if dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output(); err == nil {
		read(filepath.Join(strings.TrimSpace(string(dir)), "unix", "zsysnum_linux_amd64.go"),
			regexp.MustCompile(`^\s+SYS_(\w+)\s+= (\d+)$`), true)
	} else {
		t.Logf("go list golang.org/x/sys: %v: x/sys's numbers not checked", err)
	}
	return got
}

// TestSyscallTableWalk walks every syscall number Linux defines on x86-64, as the host's
// <asm/unistd_64.h> lists them, up to the largest there (and those x/sys's list adds, when
// the header is older than the kernels golos knows): each has a row, of that name,
// and no row is refused with ENOSYS by omission: such a row says that Linux itself has no
// such call ("ENOSYS there too", "on Linux too"), why golos does not implement it ("not
// implemented: …") or why it refuses it ("refused on purpose: …"). The numbers no syscall has, below the largest, are ENOSYS as on Linux.
// The rows golos does not implement are logged.
func TestSyscallTableWalk(t *testing.T) {
	const header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
	f, err := os.Open(header)
	if err != nil {
		t.Fatalf("the host's syscall numbers: %v (install linux-libc-dev)", err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^#define __NR_(\w+) (\d+)$`)
	defined := map[int]string{}
	last := -1
	for s := bufio.NewScanner(f); s.Scan(); {
		if m := re.FindStringSubmatch(s.Text()); m != nil {
			nr, _ := strconv.Atoi(m[2])
			defined[nr] = m[1]
			last = max(last, nr)
		}
	}
	if last < unix.SYS_CLONE3 {
		t.Fatalf("%s lists syscalls up to %d only", header, last)
	}
	for name, nr := range hostSyscalls(t) {
		if _, ok := defined[nr]; !ok {
			defined[nr] = name // newer than the header (uretprobe and uprobe take old numbers)
		}
	}
	top := 0
	for nr := range defined {
		top = max(top, nr)
	}
	var missing []string
	for nr := 0; nr <= top; nr++ {
		name, isDefined := defined[nr]
		if nr >= len(syscalls) {
			t.Errorf("%d (%s): beyond golos's table", nr, name)
			continue
		}
		r := &syscalls[nr]
		switch {
		case r.fn == nil && r.errno == 0:
			t.Errorf("%d (%s): no row", nr, name)
		case isDefined && r.name != name:
			t.Errorf("%d: the row is %q, Linux's is %q", nr, r.name, name)
		case !isDefined && nr <= last && (r.fn != nil || r.errno != unix.ENOSYS):
			t.Errorf("%d: no syscall has this number on x86-64, but the row is not an ENOSYS refusal", nr)
		case r.fn == nil && r.errno == unix.ENOSYS:
			linuxLacks := strings.Contains(r.why, "ENOSYS there too") || strings.Contains(r.why, "on Linux too")
			notImpl := strings.HasPrefix(r.why, "not implemented: ") && len(r.why) > len("not implemented: ")+10
			// ENOSYS on purpose, as from a kernel built without the call (io_uring).
			deliberate := strings.HasPrefix(r.why, "refused on purpose: ") && len(r.why) > len("refused on purpose: ")+10
			if !linuxLacks && !notImpl && !deliberate {
				t.Errorf("%d (%s): ENOSYS, but the reason says neither that Linux lacks it, nor why golos does not implement it, nor why it refuses it: %q", nr, name, r.why)
			}
			if notImpl && isDefined {
				missing = append(missing, name)
			}
			if !isDefined && !linuxLacks {
				t.Errorf("%d: no syscall has this number, but the reason says otherwise: %q", nr, r.why)
			}
		}
	}
	t.Logf("not implemented by golos (%d): %s", len(missing), strings.Join(missing, " "))
}
