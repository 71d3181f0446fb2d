package kernel

import (
	"debug/elf"
	"reflect"
	"testing"

	"golos/internal/syspatch"
)

// TestSiteMemo: the memo answers as syspatch.Before does, for every syscall instruction's
// bytes in the system's C library (sites and byte pairs that are none), the first time
// (decoded) and the second (remembered), and so does a child's memo loaded from it.
func TestSiteMemo(t *testing.T) {
	f, err := elf.Open("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		t.Fatalf("glibc (the README's test command installs it): %v", err)
	}
	defer f.Close()
	var text []byte
	var base uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			text = make([]byte, p.Filesz)
			if _, err := p.ReadAt(text, 0); err != nil {
				t.Fatal(err)
			}
			base = p.Vaddr
		}
	}
	var parent, child siteMemo
	sites, others := 0, 0
	check := func(m *siteMemo, code []byte, at uint64, want syspatch.Site, wantOK bool, what string) {
		t.Helper()
		got, ok := m.before(code, at)
		if ok != wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s at %#x: %+v, %v; Before says %+v, %v", what, at, got, ok, want, wantOK)
		}
	}
	var codes [][]byte
	var ats []uint64
	for sc := syspatch.Window; sc+2 <= len(text) && len(codes) < siteMemoMax; sc++ {
		if text[sc] != 0x0f || text[sc+1] != 0x05 {
			continue
		}
		code, at := text[sc-syspatch.Window:sc+2], base+uint64(sc-syspatch.Window)
		want, ok := syspatch.Before(code, syspatch.Window, at)
		if ok {
			sites++
		} else {
			others++
		}
		check(&parent, code, at, want, ok, "decoded")
		check(&parent, code, at, want, ok, "remembered")
		codes, ats = append(codes, code), append(ats, at)
	}
	if sites < 100 || others == 0 {
		t.Fatalf("%d sites and %d other syscall byte pairs in libc: expected hundreds and some", sites, others)
	}
	child.load(parent.all())
	if len(child.m) != len(parent.m) {
		t.Fatalf("the child's memo has %d answers, the parent's %d", len(child.m), len(parent.m))
	}
	for i, code := range codes {
		want, ok := syspatch.Before(code, syspatch.Window, ats[i])
		check(&child, code, ats[i], want, ok, "inherited")
	}
	// Answers that do not fit their bytes are not taken.
	var bad siteMemo
	bad.load([]forkSite{{Code: []byte{0x0f, 0x05}, Start: 0}, {Code: []byte{0x0f}, Start: -1}, {Code: []byte{1, 2, 0x0f, 0x05}, Start: -2}})
	if len(bad.m) != 0 {
		t.Errorf("answers that do not fit their bytes were loaded: %v", bad.m)
	}
}
