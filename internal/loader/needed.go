package loader

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// ThreadSanitizer cannot run under golos: its fixed layout on x86-64 (GCC 12's libtsan;
// compiler-rt, lib/tsan/rtl/tsan_platform.h) wants every mapping of the process in its
// application ranges, [0x7e8000000000, 0x800000000000) for libraries, mmaps and the stack,
// and maps its shadow and metadata or makes inaccessible, with MAP_FIXED, everything else
// below 2^47 but the low 512 GiB, the PIE range and its own heap. golos's image (linked at
// 0x7e0000001000), the area where it places the program's mmaps (below the image) and
// its Go heap (below 2^46) all lie there, so TSan stops at once ("FATAL: ThreadSanitizer:
// unexpected memory mapping"). golos says why instead, before anything runs.

// tsanLib is the prefix of the name of GCC's ThreadSanitizer runtime (libtsan.so.2).
const tsanLib = "libtsan.so"

// errTSan is Load's error for a program linked with ThreadSanitizer's runtime.
type errTSan struct{ path string }

func (e errTSan) Error() string {
	return fmt.Sprintf("%s is built with ThreadSanitizer (it needs %s), which golos cannot run: TSan's fixed x86-64 memory layout takes the addresses where golos's own image and heap lie", e.path, tsanLib)
}

// needsLib reports whether the dynamic executable f (read through r) names a library
// whose name begins with prefix in a DT_NEEDED entry of its PT_DYNAMIC (f.Dynamic, found
// by Parse). Anything it cannot read (a file Parse accepted may still have a broken
// dynamic section, which ld.so then reports) answers false.
func needsLib(r io.ReaderAt, f *File, prefix string) bool {
	const dtNull, dtNeeded, dtStrtab, dtStrsz = 0, 1, 5, 10
	le := binary.LittleEndian
	dynOff, dynSize := f.Dynamic[0], f.Dynamic[1]
	if dynSize == 0 || dynSize > 1<<20 {
		return false
	}
	dyn := make([]byte, dynSize)
	if _, err := r.ReadAt(dyn, int64(dynOff)); err != nil {
		return false
	}
	var needed []uint64
	var strtab, strsz uint64
	for i := 0; i+16 <= len(dyn); i += 16 {
		tag, val := le.Uint64(dyn[i:]), le.Uint64(dyn[i+8:])
		switch tag {
		case dtNull:
			i = len(dyn)
		case dtNeeded:
			needed = append(needed, val)
		case dtStrtab:
			strtab = val
		case dtStrsz:
			strsz = val
		}
	}
	// DT_STRTAB is an address: the file offset is that of the PT_LOAD that holds it.
	var strOff uint64
	found := false
	for _, s := range f.Segments {
		if strtab >= s.Vaddr && strtab-s.Vaddr < s.Filesz {
			strOff, found = s.Offset+(strtab-s.Vaddr), true
			break
		}
	}
	if !found || strsz == 0 || strsz > 1<<20 {
		return false
	}
	strs := make([]byte, strsz)
	if _, err := r.ReadAt(strs, int64(strOff)); err != nil {
		return false
	}
	for _, n := range needed {
		if n >= strsz {
			continue
		}
		name := strs[n:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if strings.HasPrefix(string(name), prefix) {
			return true
		}
	}
	return false
}
