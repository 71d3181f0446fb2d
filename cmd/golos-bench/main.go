// Command golos-bench measures golos against the same programs run natively.
//
// usage (from the repository root):
//
//	go run ./cmd/golos-bench [-golos CMD] [-runs N] [-iters N] [-quick] [-md]
//
// It builds the C workloads in bench/*.c with gcc -static into a temporary directory,
// runs each one natively and under golos, interleaved, and prints medians, minimums and
// golos/native ratios beside the targets golos aims for. Progress goes to stderr, so
// stdout holds only the report (with -md, ready to paste into the README).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
)

const (
	defaultGolos = "./golos run"
	// builtGolos is the binary the ./golos script builds and then execs; running it
	// directly shows what the script's own work (sh, one find(1)) adds to a start.
	builtGolos = ".build/golos"
)

type config struct {
	golos      []string // command prefix that runs a program under golos
	extraGolos []string // a second prefix for start-to-exit, or nil
	startRuns  int      // timed runs per side of the start-to-exit workload
	loopRuns   int      // timed runs per side of each loop workload
	iters      int      // iterations per loop workload run
	md         bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("golos-bench: ")
	golos := flag.String("golos", defaultGolos, "command that runs a program under golos, split on spaces")
	runs := flag.Int("runs", 0, "timed runs per workload and side (default 15 for start-to-exit, 5 for loops)")
	iters := flag.Int("iters", 200000, "iterations per run of a loop workload")
	quick := flag.Bool("quick", false, "a quick smoke run: fewer runs and iterations")
	md := flag.Bool("md", false, "print the table as Markdown")
	flag.Parse()
	if flag.NArg() > 0 || *runs < 0 || *iters <= 0 {
		flag.Usage()
		os.Exit(2)
	}

	cfg := config{golos: strings.Fields(*golos), startRuns: 15, loopRuns: 5, iters: *iters, md: *md}
	if len(cfg.golos) == 0 {
		log.Fatal("-golos is empty")
	}
	if *quick {
		cfg.startRuns, cfg.loopRuns = 5, 3
		if !flagSet("iters") {
			cfg.iters = 20000
		}
	}
	if *runs > 0 {
		cfg.startRuns, cfg.loopRuns = *runs, *runs
	}
	if *golos == defaultGolos && isExecutable(builtGolos) {
		cfg.extraGolos = []string{builtGolos, "run"}
	}

	// The workload sources and the ./golos script are found relative to the repository
	// root, like every other command in this tree.
	if _, err := os.Stat(filepath.Join("bench", "hello.c")); err != nil {
		log.Fatal("run from the repository root (bench/hello.c not found)")
	}
	dir, err := os.MkdirTemp("", "golos-bench-")
	if err != nil {
		log.Fatal(err)
	}
	err = run(cfg, dir, os.Stdout)
	os.RemoveAll(dir)
	if err != nil {
		log.Fatal(err)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func run(cfg config, dir string, w io.Writer) error {
	progress("building bench/*.c into %s", dir)
	buildErrs, err := buildAll("bench", dir)
	if err != nil {
		return err
	}
	bin := func(name string) (string, error) {
		if err, ok := buildErrs[name]; ok {
			return "", err
		}
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("no workload bench/%s.c", name)
		}
		return path, nil
	}

	native := side{label: "native"}
	golos := side{label: strings.Join(cfg.golos, " "), prefix: cfg.golos}
	var rows []row

	// 1. Start to exit of a static hello, under each golos command.
	startSides := []side{native, golos}
	if cfg.extraGolos != nil {
		startSides = append(startSides, side{label: strings.Join(cfg.extraGolos, " "), prefix: cfg.extraGolos})
	}
	res := measureWorkload("hello", bin, startSides, cfg.startRuns, startProbe)
	for i, s := range startSides[1:] {
		rows = append(rows, row{
			name: "static hello, start to exit (" + s.label + ")", unit: "ms",
			native: res[0], golos: res[i+1], target: targetBelow(res[i+1], 5, "ms"),
		})
	}

	// 2-4. Loops that time themselves.
	loop := func(name string, sides []side) []result {
		return measureWorkload(name, bin, sides, cfg.loopRuns, loopProbe(cfg.iters))
	}
	getppid := loop("getppid", []side{native, golos})
	setfs := loop("arch_prctl", []side{native, golos})
	floor := loop("sud_floor", []side{native})[0]

	rows = append(rows,
		row{name: "getppid, passed through", unit: "ns/call", native: getppid[0], golos: getppid[1],
			target: targetFloor(getppid[1], floor, 1.3)},
		row{name: "arch_prctl(ARCH_SET_FS)", unit: "ns/call", native: setfs[0], golos: setfs[1], target: "-"},
		row{name: "SUD round trip (floor, native only)", unit: "ns/call", native: floor,
			golos: result{skipped: true}, target: "floor for trapped calls"},
	)

	report(w, cfg, rows)
	return nil
}

func measureWorkload(name string, bin func(string) (string, error), sides []side, runs int, p func(string) probe) []result {
	path, err := bin(name)
	if err != nil {
		res := make([]result, len(sides))
		for i := range res {
			res[i].err = err
		}
		return res
	}
	progress("measuring %s: %d runs per side, interleaved", name, runs)
	return measure(sides, runs, p(path))
}

// targetBelow judges "golos median < limit".
func targetBelow(golos result, limit float64, unit string) string {
	t := fmt.Sprintf("< %g %s", limit, unit)
	if m, ok := golos.median(); ok {
		return t + ": " + verdict(m < limit)
	}
	return t
}

// targetFloor judges "golos median <= factor x the SUD floor's median".
func targetFloor(golos, floor result, factor float64) string {
	t := fmt.Sprintf("≤ %g× SUD floor", factor)
	g, ok1 := golos.median()
	f, ok2 := floor.median()
	if ok1 && ok2 {
		return fmt.Sprintf("%s: %.2f×, %s", t, g/f, verdict(g <= factor*f))
	}
	return t
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "golos-bench: "+format+"\n", args...)
}
