//go:build unix

package bench

import (
	"fmt"
	"runtime"
	"syscall"
)

// maxRSS returns getrusage's ru_maxrss in bytes.
func maxRSS() (int64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("bench: getrusage: %w", err)
	}
	// Darwin reports bytes; Linux and the BSDs report KiB.
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss), nil
	}
	return int64(ru.Maxrss) << 10, nil
}
