package kernel

import (
	"encoding/binary"
	"errors"
	"math"

	"golang.org/x/sys/unix"

	"golos/internal/loader"
	"golos/internal/vfs"
)

// The fork state goes to the child in a plain layout written field by field: a reflective
// encoder (encoding/gob) cost the child's golos a quarter of a millisecond to start and as
// much to decode, on every fork. TestForkWire checks that every field makes the trip.

type wireWriter struct{ b []byte }

func (w *wireWriter) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *wireWriter) int(v int)    { w.u64(uint64(int64(v))) }
func (w *wireWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *wireWriter) bytes(v []byte) { w.int(len(v)); w.b = append(w.b, v...) }
func (w *wireWriter) str(v string)   { w.int(len(v)); w.b = append(w.b, v...) }

type wireReader struct {
	b   []byte
	err error
}

var errWire = errors.New("the fork state is cut short")

func (r *wireReader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errWire
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
func (r *wireReader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}
func (r *wireReader) int() int {
	v := int64(r.u64())
	if v < 0 || v > math.MaxInt32 {
		if r.err == nil {
			r.err = errWire
		}
		return 0
	}
	return int(v)
}
func (r *wireReader) bool() bool {
	v := r.take(1)
	return v != nil && v[0] != 0
}
func (r *wireReader) bytes() []byte {
	n := r.int()
	return append([]byte(nil), r.take(n)...)
}
func (r *wireReader) str() string { return string(r.take(r.int())) }

func (w *wireWriter) pair(v [2]uint64)   { w.u64(v[0]); w.u64(v[1]) }
func (r *wireReader) pair() [2]uint64    { return [2]uint64{r.u64(), r.u64()} }
func (w *wireWriter) triple(v [3]uint64) { w.u64(v[0]); w.u64(v[1]); w.u64(v[2]) }
func (r *wireReader) triple() [3]uint64  { return [3]uint64{r.u64(), r.u64(), r.u64()} }

func (w *wireWriter) options(o *Options) {
	w.bool(o.Quiet)
	w.bool(o.Debug)
	w.bool(o.DebugSyscalls)
	w.str(o.Root)
	w.bool(o.RootReadOnly)
	w.int(len(o.Volumes))
	for _, v := range o.Volumes {
		w.str(v.Guest)
		w.str(v.Host)
		w.bool(v.ReadOnly)
	}
	w.str(o.Workdir)
	w.str(o.Chroot)
	w.bool(o.NoRewrite)
	w.bool(o.Stats)
	w.bool(o.NoFSGSBase)
	w.bool(o.Pid1)
	w.int(o.TaskLimit)
	w.bool(o.Nofile != nil)
	if o.Nofile != nil {
		w.u64(o.Nofile.Cur)
		w.u64(o.Nofile.Max)
	}
	w.u64(o.SigMask)
	w.u64(o.SigIgnored)
	w.u64(o.SigPending)
	w.bytes(o.Seccomp)
	w.bool(o.OwnUTS)
	for _, l := range []*unix.Rlimit{o.AS, o.Data, o.Sigpending} {
		w.bool(l != nil)
		if l != nil {
			w.u64(l.Cur)
			w.u64(l.Max)
		}
	}
}

func (r *wireReader) options(o *Options) {
	o.Quiet = r.bool()
	o.Debug = r.bool()
	o.DebugSyscalls = r.bool()
	o.Root = r.str()
	o.RootReadOnly = r.bool()
	n := r.int()
	for i := 0; i < n && r.err == nil; i++ {
		o.Volumes = append(o.Volumes, vfs.Mount{Guest: r.str(), Host: r.str(), ReadOnly: r.bool()})
	}
	o.Workdir = r.str()
	o.Chroot = r.str()
	o.NoRewrite = r.bool()
	o.Stats = r.bool()
	o.NoFSGSBase = r.bool()
	o.Pid1 = r.bool()
	o.TaskLimit = r.int()
	if r.bool() {
		o.Nofile = &unix.Rlimit{Cur: r.u64(), Max: r.u64()}
	}
	o.SigMask = r.u64()
	o.SigIgnored = r.u64()
	o.SigPending = r.u64()
	o.Seccomp = r.bytes()
	o.OwnUTS = r.bool()
	for _, l := range []**unix.Rlimit{&o.AS, &o.Data, &o.Sigpending} {
		if r.bool() {
			*l = &unix.Rlimit{Cur: r.u64(), Max: r.u64()}
		}
	}
}

func (w *wireWriter) mapping(m *forkMapping) {
	w.u64(m.Lo)
	w.u64(m.Hi)
	w.int(m.Prot)
	w.bool(m.Shared)
	w.str(m.Path)
	w.u64(m.Dev)
	w.u64(m.Ino)
	w.u64(m.Offset)
	w.int(m.SharedFD)
	w.bool(m.Copy)
	w.bool(m.Huge)
	w.bool(m.Wipe)
	w.bool(m.Grows)
}

func (r *wireReader) mapping() forkMapping {
	return forkMapping{Lo: r.u64(), Hi: r.u64(), Prot: r.int(), Shared: r.bool(), Path: r.str(),
		Dev: r.u64(), Ino: r.u64(), Offset: r.u64(), SharedFD: r.int(), Copy: r.bool(), Huge: r.bool(), Wipe: r.bool(),
		Grows: r.bool()}
}

func (w *wireWriter) mappings(ms []forkMapping) {
	w.int(len(ms))
	for i := range ms {
		w.mapping(&ms[i])
	}
}

func (r *wireReader) mappings() []forkMapping {
	n := r.int()
	var ms []forkMapping
	for i := 0; i < n && r.err == nil; i++ {
		ms = append(ms, r.mapping())
	}
	return ms
}

// encode lays the state out for the child.
func (st *forkState) encode() []byte {
	w := &wireWriter{}
	w.options(&st.Opts)
	w.str(st.ExePath)
	w.str(st.ExeGuestPath)
	w.pair(st.Args)
	w.pair(st.Env)
	w.bytes(st.Auxv)
	w.pair(st.Stack)
	w.u64(st.StartStack)
	w.u64(st.Layout.StartCode)
	w.u64(st.Layout.EndCode)
	w.u64(st.Layout.StartData)
	w.u64(st.Layout.EndData)
	w.u64(st.BrkStart)
	w.u64(st.BrkCur)
	w.u64(st.BrkMapped)
	w.str(st.Cwd)
	w.str(st.Comm)
	w.pair(st.VforkStack)
	for _, a := range st.Actions {
		w.u64(a[0])
		w.u64(a[1])
		w.u64(a[2])
		w.u64(a[3])
	}
	th := &st.Thread
	regs := regsWords(&th.Regs)
	for _, v := range regs {
		w.u64(v)
	}
	w.bytes(th.Xsave)
	w.u64(th.AppGS)
	w.bool(th.HasAppGS)
	w.u64(th.FS)
	w.u64(th.Sigmask)
	w.triple(th.Altstack)
	w.u64(th.ClearChildTid)
	w.u64(th.SetChildTid)
	w.triple(th.Rseq)
	w.bytes(th.Seccomp)
	w.mappings(st.Maps)
	w.int(len(st.Code))
	for _, c := range st.Code {
		w.pair(c)
	}
	w.int(len(st.Stubs))
	for _, s := range st.Stubs {
		w.u64(s.Addr)
		w.int(s.Used)
		w.bytes(s.Data)
	}
	w.int(len(st.Sites))
	for _, s := range st.Sites {
		w.bytes(s.Code)
		w.u64(uint64(int64(s.Start)))
	}
	w.mappings(st.VDSO)
	w.int(len(st.CloexecFDs))
	for _, fd := range st.CloexecFDs {
		w.int(fd)
	}
	w.int(st.SharedFDs)
	w.int(len(st.Signalfds))
	for _, sfd := range st.Signalfds {
		w.u64(sfd.Mask)
		w.int(len(sfd.FDs))
		for _, fd := range sfd.FDs {
			w.int(fd)
		}
	}
	w.bool(st.OwnUTS)
	w.u64(st.StackSoft)
	w.bool(st.VforkWrites)
	w.bool(st.InheritStderr)
	w.bool(st.Lazy)
	w.bool(st.VforkLazy)
	return w.b
}

// decodeForkState reads what encode wrote.
func decodeForkState(b []byte) (*forkState, error) {
	r := &wireReader{b: b}
	st := new(forkState)
	r.options(&st.Opts)
	st.ExePath = r.str()
	st.ExeGuestPath = r.str()
	st.Args = r.pair()
	st.Env = r.pair()
	st.Auxv = r.bytes()
	st.Stack = r.pair()
	st.StartStack = r.u64()
	st.Layout = loader.Layout{StartCode: r.u64(), EndCode: r.u64(), StartData: r.u64(), EndData: r.u64()}
	st.BrkStart = r.u64()
	st.BrkCur = r.u64()
	st.BrkMapped = r.u64()
	st.Cwd = r.str()
	st.Comm = r.str()
	st.VforkStack = r.pair()
	for i := range st.Actions {
		st.Actions[i] = [4]uint64{r.u64(), r.u64(), r.u64(), r.u64()}
	}
	th := &st.Thread
	regs := regsWords(&th.Regs)
	for i := range regs {
		regs[i] = r.u64()
	}
	th.Xsave = r.bytes()
	th.AppGS = r.u64()
	th.HasAppGS = r.bool()
	th.FS = r.u64()
	th.Sigmask = r.u64()
	th.Altstack = r.triple()
	th.ClearChildTid = r.u64()
	th.SetChildTid = r.u64()
	th.Rseq = r.triple()
	th.Seccomp = r.bytes()
	st.Maps = r.mappings()
	n := r.int()
	for i := 0; i < n && r.err == nil; i++ {
		st.Code = append(st.Code, r.pair())
	}
	n = r.int()
	for i := 0; i < n && r.err == nil; i++ {
		st.Stubs = append(st.Stubs, forkStub{Addr: r.u64(), Used: r.int(), Data: r.bytes()})
	}
	n = r.int()
	for i := 0; i < n && r.err == nil; i++ {
		st.Sites = append(st.Sites, forkSite{Code: r.bytes(), Start: int(int64(r.u64()))})
	}
	st.VDSO = r.mappings()
	n = r.int()
	for i := 0; i < n && r.err == nil; i++ {
		st.CloexecFDs = append(st.CloexecFDs, r.int())
	}
	st.SharedFDs = r.int()
	n = r.int()
	for i := 0; i < n && r.err == nil; i++ {
		sfd := forkSignalfd{Mask: r.u64()}
		m := r.int()
		for j := 0; j < m && r.err == nil; j++ {
			sfd.FDs = append(sfd.FDs, r.int())
		}
		st.Signalfds = append(st.Signalfds, sfd)
	}
	st.OwnUTS = r.bool()
	st.StackSoft = r.u64()
	st.VforkWrites = r.bool()
	st.InheritStderr = r.bool()
	st.Lazy = r.bool()
	st.VforkLazy = r.bool()
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("the fork state has bytes left over")
	}
	return st, r.err
}
