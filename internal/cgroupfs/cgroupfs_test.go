package cgroupfs

import (
	"reflect"
	"testing"
)

// A hybrid host's mountinfo (this project's test machines: v1 controllers and an unused
// unified hierarchy), and a container's, whose mounts show only its own cgroup.
const hybrid = `24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
29 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
30 29 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
31 29 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
35 29 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
36 29 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
37 29 0:32 / /mnt/pids\040again rw,relatime shared:15 - cgroup cgroup rw,pids
`

const container = `50 40 0:40 /libpod_parent/libpod-1 /sys/fs/cgroup/pids ro,relatime - cgroup cgroup rw,pids
`

func TestParseMountinfo(t *testing.T) {
	got := parseMountinfo(hybrid, func(string) []string { return []string{"memory", "pids"} })
	want := []Hierarchy{
		{Mount: "/sys/fs/cgroup/unified", Root: "/", V2: true, Controllers: []string{"memory", "pids"}},
		{Mount: "/sys/fs/cgroup/systemd", Root: "/", Controllers: []string{"name=systemd"}},
		{Mount: "/sys/fs/cgroup/pids", Root: "/", Controllers: []string{"pids"}},
		{Mount: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Controllers: []string{"cpu", "cpuacct"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMountinfo:\n got %+v\nwant %+v", got, want)
	}
	if u := unescape(`/mnt/pids\040again`); u != "/mnt/pids again" {
		t.Errorf("unescape: %q", u)
	}
}

func TestOwn(t *testing.T) {
	hs := parseMountinfo(hybrid, func(string) []string { return []string{"pids"} })
	cg := "12:pids:/user.slice/u.scope\n1:name=systemd:/user.slice/u.scope\n0::/user.slice/u.scope\n"
	if d, h, err := own(cg, hs, "pids"); err != nil || d != "/sys/fs/cgroup/pids/user.slice/u.scope" || h.V2 {
		t.Errorf("v1 pids: %q %+v %v", d, h, err)
	}
	// No v1 hierarchy with the controller: the unified one's.
	if d, h, err := own("0::/a/b\n", hs, "pids"); err != nil || d != "/sys/fs/cgroup/unified/a/b" || !h.V2 {
		t.Errorf("v2 pids: %q %+v %v", d, h, err)
	}
	if _, _, err := own("0::/a\n", hs, "rdma"); err == nil {
		t.Errorf("a controller no hierarchy has: no error")
	}
	// A container's mount shows its cgroup, not the hierarchy's root.
	ch := parseMountinfo(container, nil)
	if d, _, err := own("3:pids:/libpod_parent/libpod-1\n", ch, "pids"); err != nil || d != "/sys/fs/cgroup/pids" {
		t.Errorf("container: %q %v", d, err)
	}
	if d := ch[0].Dir("/libpod_parent/libpod-10"); d != "" {
		t.Errorf("a cgroup beside the mount's root: %q, want none", d)
	}
}
