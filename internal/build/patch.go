package build

import (
	"debug/elf"
	"fmt"
	"os"
)

// skipCgroupProcs makes the Go runtime's defaultGOMAXPROCSInit (runtime/cgroup_linux.go)
// return at once in the golos binary at path. golos turns cgroup-aware GOMAXPROCS off
// (cmd/golos: //go:debug containermaxprocs=0), yet at every start the runtime still reads
// /proc/self/cgroup and /proc/self/mountinfo and opens the CPU cgroup's limit file, only
// to count, for a runtime/metrics counter, whether the setting changed anything. That was
// about 3% of the CPU time of a loop of forks (each child is a new golos:
// docs/performance-analysis.md). Without it, nothing changes but the counter: the
// runtime starts with the CPUs of the affinity mask, as with the setting.
func skipCgroupProcs(path string) error {
	const sym = "runtime.defaultGOMAXPROCSInit"
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	syms, err := f.Symbols()
	var off int64 = -1
	if err == nil {
		for _, s := range syms {
			if s.Name != sym || s.Section == elf.SHN_UNDEF || int(s.Section) >= len(f.Sections) {
				continue
			}
			sec := f.Sections[s.Section]
			if sec.Type == elf.SHT_PROGBITS && s.Value >= sec.Addr && s.Value < sec.Addr+sec.Size {
				off = int64(sec.Offset + (s.Value - sec.Addr))
			}
		}
	}
	f.Close()
	if off < 0 {
		return fmt.Errorf("patch %s: no such function in %s (a Go release that inlines it or has none: see internal/build/patch.go)", sym, path)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	// Only over the instruction it was measured with (go1.26, which the TLS move pins):
	// the stack bound check a Go function without results begins with, cmp
	// 0x10(%r14),%rsp, nothing pushed before it, so that a ret there returns to the caller
	// with nothing to undo.
	want := []byte{0x49, 0x3b, 0x66, 0x10}
	got := make([]byte, len(want))
	if _, err := w.ReadAt(got, off); err != nil {
		w.Close()
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	if string(got) != string(want) {
		w.Close()
		return fmt.Errorf("patch %s: it begins with % x, not % x (cmp 0x10(%%r14),%%rsp): a Go runtime golos was not measured with (internal/build/patch.go)", sym, got, want)
	}
	if _, err := w.WriteAt([]byte{0xc3}, off); err != nil { // ret
		w.Close()
		return fmt.Errorf("patch %s: %w", sym, err)
	}
	return w.Close()
}
