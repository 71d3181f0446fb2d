package kernel

import (
	"golos/internal/loader"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/vfs"
)

// TestForkWire: a fork state with every field set makes the trip to the child whole, and
// a cut one is refused. Every field of forkState, forkThread, forkMapping and Options
// must be set here (checked by reflection), so that a field added without its place in
// the layout fails this test.
func TestForkWire(t *testing.T) {
	st := &forkState{
		Opts: Options{Quiet: true, Debug: true, DebugSyscalls: true, Root: "/r", RootReadOnly: true,
			Volumes: []vfs.Mount{{Guest: "/g", Host: "/h", ReadOnly: true}, {Guest: "/g2", Host: "/h2"}},
			Workdir: "/w", Chroot: "/jail", NoRewrite: true, Stats: true, NoFSGSBase: true, Pid1: true, TaskLimit: 4096,
			Nofile: &unix.Rlimit{Cur: 7, Max: 9}, SigMask: 1, SigIgnored: 2, SigPending: 3, Seccomp: []byte{1}, OwnUTS: true,
			AS: &unix.Rlimit{Cur: 10, Max: 11}, Data: &unix.Rlimit{Cur: 12, Max: 13},
			Sigpending: &unix.Rlimit{Cur: 14, Max: 15}},
		ExePath: "/bin/x", ExeGuestPath: "/x", Args: [2]uint64{26, 27}, Env: [2]uint64{27, 28},
		Auxv: []byte{1, 2, 3}, Stack: [2]uint64{4, 5}, StartStack: 6, Layout: loader.Layout{StartCode: 60, EndCode: 61, StartData: 62, EndData: 63},
		BrkStart: 10, BrkCur: 11, BrkMapped: 12, Cwd: "/c", Comm: "comm", VforkStack: [2]uint64{13, 14},
		Thread: forkThread{Regs: entry.Regs{R8: 1, RIP: 2, RFLAGS: 3}, Xsave: []byte{9, 8}, AppGS: 15,
			HasAppGS: true, FS: 16, Sigmask: 17, Altstack: [3]uint64{18, 19, 20}, ClearChildTid: 21,
			SetChildTid: 22, Rseq: [3]uint64{23, 24, 25}, Seccomp: []byte{2, 1, 0, 6, 0, 0, 0, 0, 0, 0xff, 0x7f}},
		Maps: []forkMapping{{Lo: 1, Hi: 2, Prot: 3, Shared: true, Path: "/p", Dev: 4, Ino: 5, Offset: 6,
			SharedFD: 7, Copy: true, Huge: true, Wipe: true, Grows: true}},
		Code:       [][2]uint64{{1, 2}, {3, 4}},
		Stubs:      []forkStub{{Addr: 1, Used: 2, Data: []byte{3}}},
		Sites:      []forkSite{{Code: []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05}, Start: 0}, {Code: []byte{0x0f, 0x05}, Start: -1}},
		VDSO:       []forkMapping{{Lo: 8, Hi: 9, Path: "[vdso]"}},
		CloexecFDs: []int{3, 4},
		SharedFDs:  1,
		Signalfds:  []forkSignalfd{{Mask: 1, FDs: []int{5, 6}}, {Mask: 2, FDs: []int{7}}},
		OwnUTS:     true, VforkWrites: true, InheritStderr: true, Lazy: true, VforkLazy: true, StackSoft: 8192,
	}
	st.Actions[1] = [4]uint64{1, 2, 3, 4}
	st.Actions[64] = [4]uint64{5, 6, 7, 8}
	for _, v := range []any{*st, st.Thread, st.Maps[0], st.Opts} {
		rv := reflect.ValueOf(v)
		for i := 0; i < rv.NumField(); i++ {
			name := rv.Type().Field(i).Name
			// Stderr, HostFDs and NSInit are the golos's own, never sent (fork.go).
			if rv.Field(i).IsZero() && name != "Stderr" && name != "HostFDs" && name != "NSInit" {
				t.Errorf("%s.%s is not set in the test: give it a value and a place in forkwire.go", rv.Type().Name(), name)
			}
		}
	}
	b := st.encode()
	got, err := decodeForkState(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, st)
	}
	for _, n := range []int{0, 1, len(b) / 2, len(b) - 1} {
		if _, err := decodeForkState(b[:n]); err == nil {
			t.Errorf("a state cut to %d of %d bytes was taken", n, len(b))
		}
	}
	if _, err := decodeForkState(append(b, 0)); err == nil {
		t.Errorf("a state with a byte too many was taken")
	}
}
