package oci

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestSyscallNames: the names seccomp profiles use resolve to the numbers of the host's
// <asm/unistd_64.h> (syscallNumbers is generated from golang.org/x/sys's table, which
// may know newer ones than the header).
func TestSyscallNames(t *testing.T) {
	const header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
	f, err := os.Open(header)
	if err != nil {
		t.Fatalf("%v (the linux-libc-dev package has it)", err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^#define __NR_(\w+) (\d+)$`)
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		m := re.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		n++
		nr, _ := strconv.Atoi(m[2])
		if got, ok := syscallNumbers[m[1]]; !ok || got != uint32(nr) {
			t.Errorf("%s: %d in the table (known %v), %d in %s", m[1], got, ok, nr, header)
		}
	}
	if n < 300 {
		t.Fatalf("%s has only %d syscalls", header, n)
	}
}

// TestSeccompBadProfile: a profile golos-oci cannot compile is an error that names
// the bad part, not a filter that lets everything through.
func TestSeccompBadProfile(t *testing.T) {
	errno := uint32(1)
	for _, c := range []struct {
		s    Seccomp
		want string
	}{
		{Seccomp{DefaultAction: "SCMP_ACT_NOPE"}, "defaultAction"},
		{Seccomp{DefaultAction: "SCMP_ACT_ALLOW", Architectures: []string{"SCMP_ARCH_VAX"}}, "architectures"},
		{Seccomp{DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []SeccompSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &errno,
			Args: []SeccompArg{{Index: 6, Op: "SCMP_CMP_EQ"}}}}}, "argument index 6"},
		{Seccomp{DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []SeccompSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_ERRNO",
			Args: []SeccompArg{{Index: 0, Op: "SCMP_CMP_LIKE"}}}}}, "SCMP_CMP_LIKE"},
		{Seccomp{DefaultAction: "SCMP_ACT_ALLOW", Syscalls: []SeccompSyscall{{Names: []string{"read"}, Action: "SCMP_ACT_NOTIFY"}}}, "notification"},
	} {
		_, err := c.s.Compile()
		if err == nil || !regexp.MustCompile(regexp.QuoteMeta(c.want)).MatchString(err.Error()) {
			t.Errorf("%+v: %v, want an error about %s", c.s, err, c.want)
		}
	}
}
