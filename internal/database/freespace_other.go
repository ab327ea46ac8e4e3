//go:build !(linux || darwin || freebsd)

package database

// FreeSpace is not known on this platform.
func FreeSpace(string) (uint64, error) { return 0, ErrFreeSpaceUnknown }
