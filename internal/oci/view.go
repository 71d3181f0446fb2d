package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// The container's processes run as its user (process.user), and golos, which runs as
// that user too, opens the root and the volumes by their host paths, again in each
// process it forks or execs. An engine keeps them where only root may look: podman's
// overlay root lies in /var/lib/containers/storage (0700), its /etc/hosts and
// /etc/hostname in a 0700 userdata directory. runc mounts them into the container
// before it drops to the user (pivot_root), so that the user needs only the permission
// of the files themselves. golos-oci does the like: in the init process's own mount
// namespace (made with a new pid namespace, newPidNS), as root, it binds each such path
// at a path under the container's state directory (0711, as the state root), which any
// user may reach, and golos is given that path instead (mount_namespaces(7): the binds
// are the namespace's, and go with it; exec joins it through nsenter).

// bindMount is a host path the init process binds at Target (a directory or an empty
// file made for it).
type bindMount struct {
	Source, Target string
}

// viewDir is the state directory's directory of bind targets.
const viewDir = "view"

// unreachable reports whether a user other than the owners may not reach p: one of the
// directories above it lacks the search permission for others (path_resolution(7)).
func unreachable(p string) bool {
	for d := filepath.Dir(filepath.Clean(p)); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return true
		}
		if d == "/" {
			return false
		}
	}
}

// viewBinds replaces the root's and the volumes' host paths that a user other than root
// could not reach with paths under dir's view directory, and returns the binds that
// make them: none if dir is itself out of reach.
func viewBinds(dir string, root *string, vols []volume) ([]bindMount, error) {
	view := filepath.Join(dir, viewDir)
	if !canReach(dir) {
		return nil, nil
	}
	var binds []bindMount
	add := func(host *string, file bool) error {
		if !unreachable(*host) {
			return nil
		}
		if len(binds) == 0 {
			if err := os.Mkdir(view, 0o711); err != nil {
				return fmt.Errorf("bind targets: %w", err)
			}
		}
		target := filepath.Join(view, strconv.Itoa(len(binds)))
		var err error
		if file {
			err = os.WriteFile(target, nil, 0o600)
		} else {
			err = os.Mkdir(target, 0o700)
		}
		if err != nil {
			return fmt.Errorf("bind target for %s: %w", *host, err)
		}
		binds = append(binds, bindMount{Source: *host, Target: target})
		*host = target
		return nil
	}
	if err := add(root, false); err != nil {
		return nil, err
	}
	for i := range vols {
		if err := add(&vols[i].Host, vols[i].File); err != nil {
			return nil, err
		}
	}
	return binds, nil
}

// canReach reports whether others may search dir and every directory above it.
func canReach(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.Mode().Perm()&0o001 != 0 && !unreachable(dir)
}

// bindAll makes the binds, in the init process's private mount namespace. MS_REC: a
// mount below a source is seen below its target too, as at the source (mount(2)).
func bindAll(binds []bindMount) error {
	for _, b := range binds {
		if err := unix.Mount(b.Source, b.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s at %s: %w", b.Source, b.Target, err)
		}
	}
	return nil
}
