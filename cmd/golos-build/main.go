// Command golos-build builds the golos binary (go build, then the TLS move to GS).
// The ./golos entry point at the repository root runs it when a source changed.
//
// usage: golos-build [-o OUT] [-tags TAG,…]   (run from the repository root)
//
// -tags lockorder builds a golos that checks the lock order of internal/kernel's package
// comment at every lock it takes (internal/kernel/lockorder.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"golos/internal/build"
)

func main() {
	out := flag.String("o", ".build/golos", "where to write the golos binary")
	tags := flag.String("tags", "", "build tags besides golosbuild, comma-separated (lockorder)")
	flag.Parse()
	var extra []string
	if *tags != "" {
		extra = strings.Split(*tags, ",")
	}
	if err := build.Golos(".", *out, extra...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
