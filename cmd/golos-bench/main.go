// Command golos-bench is golos's benchmark suite: each workload runs natively, under
// golos and under gVisor (runsc), interleaved, several times each, and the report gives
// medians, ratios to native and the targets golos aims for, marked met or missed.
//
// usage (from the repository root):
//
//	go run ./cmd/golos-bench [-quick] [-runs N] [-md] [-write | -o FILE.md]
//	                         [-golos CMD] [-gvisor=false] [-platform ptrace|systrap]
//	                         [-only ID,…]
//
// It builds the workloads (bench/*.c with gcc, bench/goprog with Go) and golos itself
// (cmd/golos-build) into a temporary directory, so that a rebuild of .build/golos by
// someone else cannot change the binary in the middle of a run. When runsc is missing it
// installs the Debian package with apt-get; when that or runsc fails, the gVisor column
// shows the error and the suite goes on. Progress goes to stderr and the report to
// stdout; -o (or -write, for docs/performance.md) also writes the report as Markdown
// with a chart beside it (the same name ending in .svg).
//
// The report names the machine: its CPU model, the flags that move the figures
// (fsgsbase, pti, pcid), the kernel release and the core count. The Markdown file keeps
// the last run on each kind of machine (model and flags) in a section of its own; a run
// replaces the section of its kind and keeps the others, and the chart shows the run.
//
// Files: workloads.go says what is run and what the targets are, measure.go runs and
// times it, report.go prints the table and draws the chart, machines.go reads the
// machine and keeps the machines' sections of the file.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const defaultOut = "docs/performance.md"

type config struct {
	quick    bool
	runs     int      // timed runs per workload and side; 0 = each workload's own
	golos    []string // command prefix that runs a program under golos; nil = build one
	gvisor   bool
	platform string // runsc --platform
	md       bool
	only     []string // workload ids to run; nil = all
	out      string   // Markdown report to write, "" for none
	command  string   // how this run was invoked, for the report
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("golos-bench: ")
	quick := flag.Bool("quick", false, "a quick smoke run (under a minute): fewer runs, smaller sizes")
	runs := flag.Int("runs", 0, "timed runs per workload and side (default: 3 to 15, by workload)")
	golos := flag.String("golos", "", "command that runs a program under golos, split on spaces (default: build golos with cmd/golos-build and use BUILT run)")
	gvisor := flag.Bool("gvisor", true, "also run every workload under gVisor (runsc)")
	platform := flag.String("platform", "ptrace", "the gVisor platform: ptrace or systrap")
	md := flag.Bool("md", false, "print the report as Markdown")
	write := flag.Bool("write", false, "write the report to "+defaultOut+" (and the chart beside it), unless -o names another file")
	out := flag.String("o", "", "write the report as Markdown to this file and the chart to the same name ending in .svg")
	only := flag.String("only", "", "run only these workloads (ids, comma-separated: "+strings.Join(workloadIDs(), ",")+")")
	flag.Parse()
	if flag.NArg() > 0 || *runs < 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg := config{quick: *quick, runs: *runs, gvisor: *gvisor, platform: *platform, md: *md, out: *out,
		golos: strings.Fields(*golos), command: invocation()}
	if cfg.out == "" && *write {
		cfg.out = defaultOut
	}
	if *only != "" {
		cfg.only = strings.Split(*only, ",")
		for _, id := range cfg.only {
			if !slices.Contains(workloadIDs(), id) {
				log.Fatalf("-only: no workload %q (there are %s)", id, strings.Join(workloadIDs(), ", "))
			}
		}
		if cfg.out != "" {
			log.Fatal("-only: a partial run does not write the report (-write, -o)")
		}
	}
	if cfg.out != "" && !strings.HasSuffix(cfg.out, ".md") {
		log.Fatal("-o: the report file must end in .md (the chart goes beside it, in .svg)")
	}

	// The sources are found relative to the repository root, like every command here.
	if _, err := os.Stat(filepath.Join("bench", "hello.c")); err != nil {
		log.Fatal("run from the repository root (bench/hello.c not found)")
	}
	dir, err := os.MkdirTemp("", "golos-bench-")
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	s := runSuite(cfg, dir)
	os.RemoveAll(dir)
	s.elapsed = time.Since(start)
	report(os.Stdout, s, cfg.md)
	if cfg.out != "" {
		if err := writeFiles(cfg.out, s); err != nil {
			log.Fatal(err)
		}
		progress("wrote %s and %s", cfg.out, svgPath(cfg.out))
	}
}

// invocation is the command line as a user would type it again: under go run, os.Args[0]
// is a temporary binary.
func invocation() string {
	prog := filepath.Base(os.Args[0])
	if strings.Contains(os.Args[0], "go-build") {
		prog = "go run ./cmd/golos-bench"
	}
	return strings.Join(append([]string{prog}, os.Args[1:]...), " ")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "golos-bench: "+format+"\n", args...)
}
