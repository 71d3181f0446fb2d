// Package tests is golos's integration test suite for static executables.
//
// TestMain builds golos (internal/build) and every test program: the C programs in
// testdata/*.c with gcc -static, gcc -static-pie and musl-gcc -static, and the Go program
// in testdata/goprog with CGO_ENABLED=0. Each test then runs a program natively and under
// `golos run` and compares stdout and exit status; the bad-input tests check golos's own
// errors (exit statuses 125, 126, 127 with one line on stderr).
//
// Needs gcc, musl-gcc and /bin/busybox (Debian: apt-get install gcc musl-tools
// busybox-static); a missing one is a test failure, never a skip.
//
//	go test ./tests/                                 # build golos and run everything
//	GOLOS_TEST_BINARY=/path/to/golos go test ./tests/ # use an already built golos
package tests
