// Command golos-build builds the golos binary (go build, then the TLS move to GS).
// The ./golos entry point at the repository root runs it when a source changed.
//
// usage: golos-build [-o OUT]   (run from the repository root)
package main

import (
	"flag"
	"fmt"
	"os"

	"golos/internal/build"
)

func main() {
	out := flag.String("o", ".build/golos", "where to write the golos binary")
	flag.Parse()
	if err := build.Golos(".", *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
