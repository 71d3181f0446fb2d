//go:build !golosbuild

package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// A plain `go build ./cmd/golos` or `go install ./cmd/golos` cannot make a working golos:
// the binary must be linked high and then rewritten so that the Go runtime keeps its TLS
// on GS (internal/tlsmove), and hostfd_unsafe.go reaches runtime variables that only link
// with -checklinkname=0. internal/build does all of that and sets the golosbuild tag;
// without the tag this file stands in for hostfd_unsafe.go, so that the plain build
// succeeds and its binary says what to run instead of failing in the linker.

func init() {
	fmt.Fprintln(os.Stderr, "golos must be built with ./golos (or go run ./cmd/golos-build); see README")
	os.Exit(125)
}

var errPlainBuild = errors.New("golos was not built by internal/build")

func placeRuntimeFDs() ([]int, error) { return nil, errPlainBuild }

func appNofile() unix.Rlimit { return unix.Rlimit{} }

func startIgnored() uint64 { return 0 }

func pauseVDSO() func(delta int64) { return func(int64) {} }

func entryVDSOMoved() (bool, error) { return false, nil }
