package pipeline

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPartitionValue(t *testing.T) {
	for _, tc := range []struct{ in, fallback, want string }{
		{"123456789012", "999", "123456789012"},
		{"", "210987654321", "210987654321"},
		{"", "", "unknown"},
		{"cn-north-1", "", "cn-north-1"},
		{"../etc", "", ".._etc"},
		{"..", "", "unknown"},
		{"a/b c", "", "a_b_c"},
	} {
		require.Equal(t, tc.want, partitionValue(tc.in, tc.fallback), tc.in)
	}

	long := strings.Repeat("1", 300)
	got := partitionValue(long, "")
	require.Len(t, got, maxPartitionValue)
	require.True(t, strings.HasPrefix(got, strings.Repeat("1", maxPartitionValue-17)+"_"))
	require.Equal(t, got, partitionValue(long, ""), "deterministic")
	require.NotEqual(t, got, partitionValue(long+"2", ""), "distinct values stay distinct")
}
