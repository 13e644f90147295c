//go:build unix

package storage

import (
	"errors"
	"syscall"
)

// ProcessAlive reports whether a process with this id runs on this host
// (one owned by another user counts as running).
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
