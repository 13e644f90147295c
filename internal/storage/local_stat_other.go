//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package storage

import "io/fs"

// statTag is empty where the change time and inode are not known: the ETag
// is then the size and modification time alone.
func statTag(fs.FileInfo) string { return "" }
