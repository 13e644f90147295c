package writer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Small row groups get small pages, so that the pages still open when a
// row group is cut are small against it.
func TestDataPageBytes(t *testing.T) {
	require.Equal(t, int64(1<<20), dataPageBytes(DefaultRowGroupBytes))
	require.Equal(t, int64(1<<20), dataPageBytes(16<<20))
	require.Equal(t, int64(64<<10), dataPageBytes(1<<20))
	require.Equal(t, int64(8<<10), dataPageBytes(1<<10))
}
