//go:build linux || darwin || freebsd || netbsd || openbsd

package storage

import (
	"fmt"
	"io/fs"
	"syscall"
)

// statTag is the part of a local file's ETag that a user cannot set back:
// its change time and inode.
func statTag(info fs.FileInfo) string {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	sec, nsec := ctime(st)
	return fmt.Sprintf("-%x-%x", sec*1_000_000_000+nsec, uint64(st.Ino))
}
