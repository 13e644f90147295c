//go:build !unix

package bench

import (
	"errors"
	"fmt"
)

// maxRSS is not available without getrusage.
func maxRSS() (int64, error) {
	return 0, fmt.Errorf("bench: peak RSS: %w", errors.ErrUnsupported)
}
