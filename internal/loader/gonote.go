package loader

import (
	"encoding/binary"
	"io"
)

// goNoteBuildID is the type of the note the Go linker puts in every ELF executable it
// links, owner "Go", holding the build ID (cmd/link, ELF_NOTE_GOBUILDID_TAG).
const goNoteBuildID = 4

// goProgram reports whether the executable f, read through r, is a Go program: one of its
// PT_NOTE segments holds the Go linker's build ID note. Its runtime makes three or four
// threads before the program's main runs, which golos can have ready for it.
func goProgram(r io.ReaderAt, f *File) bool {
	le := binary.LittleEndian
	for _, n := range f.Notes {
		off, size := n[0], n[1]
		if size < 12 || size > 4096 {
			continue
		}
		b := make([]byte, size)
		if _, err := r.ReadAt(b, int64(off)); err != nil {
			continue
		}
		// Elf64_Nhdr: namesz, descsz, type, then the name and the description, each
		// padded to 4 bytes (the gABI's note section; Linux's notes are 4-aligned).
		for len(b) >= 12 {
			namesz, descsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
			name := (namesz + 3) &^ 3
			desc := (descsz + 3) &^ 3
			if 12+name+desc > uint64(len(b)) {
				break
			}
			if typ == goNoteBuildID && (namesz == 3 || namesz == 4) && string(b[12:15]) == "Go\x00" {
				return true
			}
			b = b[12+name+desc:]
		}
	}
	return false
}
