package loader

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// The test binary is a Go program; a C program and notes that only look like Go's are not.
func TestGoProgram(t *testing.T) {
	for _, c := range []struct {
		path string
		want bool
	}{
		{mustExecutable(t), true}, // the test binary, linked by Go's linker
		{"/bin/sh", false},        // dash, a C program with GNU notes
	} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if got := goProgram(bytes.NewReader(b), f); got != c.want {
			t.Errorf("goProgram(%s) = %v, want %v", c.path, got, c.want)
		}
	}
	note := func(name string, namesz, typ uint32) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, [3]uint32{namesz, 4, typ})
		n := make([]byte, (namesz+3)&^3)
		copy(n, name)
		b.Write(n)
		b.Write([]byte("desc"))
		return b.Bytes()
	}
	for _, c := range []struct {
		name string
		data []byte
		want bool
	}{
		{"Go build ID", note("Go\x00\x00", 4, goNoteBuildID), true},
		{"after a GNU note", append(note("GNU\x00", 4, 3), note("Go\x00\x00", 4, goNoteBuildID)...), true},
		{"another Go note", note("Go\x00\x00", 4, 1), false},
		{"GNU build ID", note("GNU\x00", 4, 3), false},
		{"Gopher", note("Gopher\x00", 7, goNoteBuildID), false},
		{"cut short", note("Go\x00\x00", 4, goNoteBuildID)[:14], false},
	} {
		f := &File{Notes: [][2]uint64{{0, uint64(len(c.data))}}}
		if got := goProgram(bytes.NewReader(c.data), f); got != c.want {
			t.Errorf("%s: goProgram = %v, want %v", c.name, got, c.want)
		}
	}
}

func mustExecutable(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
