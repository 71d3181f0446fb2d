package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The outputs in testdata are real runs of the clients: redis-benchmark -n 2000 -q -t
// set,get; ab -q -n 50 -c 2 of a 17-byte page; memcslap --concurrency=2
// --execute-number=100 --test=get, against a server and against a port where none
// listened (memcslap then still exits 0).
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestServerClientResults(t *testing.T) {
	// redis-benchmark: "SET: 8510.64 requests per second", "GET: 6993.01 requests per second".
	reqs, secs, err := parseRedisBenchmark(2000)(readTestdata(t, "redis-benchmark.txt"))
	if err != nil || reqs != 4000 || !near(secs, 2000/8510.64+2000/6993.01) {
		t.Errorf("redis-benchmark: %v requests in %v s, %v", reqs, secs, err)
	}
	if _, _, err := parseRedisBenchmark(2000)("SET: rps=0.0 (overall: -nan)\r"); err == nil {
		t.Error("redis-benchmark: progress lines alone make a result")
	}

	// ab: 50 complete requests of a 17-byte page in 0.030 s.
	ab := readTestdata(t, "ab.txt")
	reqs, secs, err = parseAB(50, 17)(ab)
	if err != nil || reqs != 50 || secs != 0.030 {
		t.Errorf("ab: %v requests in %v s, %v", reqs, secs, err)
	}
	if _, _, err := parseAB(5000, 17)(ab); err == nil {
		t.Error("ab: fewer requests than asked for make a result")
	}
	if _, _, err := parseAB(50, 35)(ab); err == nil {
		t.Error("ab: another page (an error page) makes a result")
	}
	if _, _, err := parseAB(50, 17)(strings.Replace(ab, "Complete requests:      50", "Complete requests:      50\nNon-2xx responses:      50", 1)); err == nil {
		t.Error("ab: non-2xx responses make a result")
	}

	// memcslap: 200 keys by 2 threads in 0.005 s; none when no server listened.
	reqs, secs, err = parseMemcslap(200)(readTestdata(t, "memcslap.txt"))
	if err != nil || reqs != 200 || secs != 0.005 {
		t.Errorf("memcslap: %v requests in %v s, %v", reqs, secs, err)
	}
	if _, _, err := parseMemcslap(200)(readTestdata(t, "memcslap-noserver.txt")); err == nil {
		t.Error("memcslap: a run without a server makes a result")
	}
}

func TestServerMissingTools(t *testing.T) {
	sv := &server{tools: []tool{{"sh", "dash"}, {"golos-bench-no-such-tool", "no-such-package"}}}
	if got, want := sv.missingTools(), "golos-bench-no-such-tool not installed (Debian: apt-get install no-such-package)"; got != want {
		t.Errorf("missingTools = %q, want %q", got, want)
	}
	sv.tools = sv.tools[:1]
	if got := sv.missingTools(); got != "" {
		t.Errorf("missingTools with sh only = %q", got)
	}
}
