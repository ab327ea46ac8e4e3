//go:build linux || darwin || freebsd

package database

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// FreeSpace is the space left to unprivileged writers on the file system holding path (the
// database file), in bytes.
func FreeSpace(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return 0, fmt.Errorf("database: free space of %s: %w", filepath.Dir(path), err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
