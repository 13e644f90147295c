package vpcflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The int32 and int64 columns are parsed by a loop each (parseInts); a
// reject still names the first bad column in column order, whichever width
// it is, and NULLs and values land in their own columns.
func TestBadIntegerNamedInColumnOrder(t *testing.T) {
	header := "packets srcport bytes dstport\n"
	for _, tc := range []struct{ line, column string }{
		{"x 80 1 y", "packets"},           // int64 before int32
		{"1 x y 443", "srcport"},          // int32 before int64
		{"1 80 y x", "bytes"},             // int64 before int32, later columns
		{"1 80 5 99999999999", "dstport"}, // past int32: the word path declines
	} {
		_, _, rejects, _ := readAll(t, header+tc.line+"\n", Config{Object: "o"})
		require.Len(t, rejects, 1, tc.line)
		require.True(t, strings.HasPrefix(rejects[0].Reason, "column "+tc.column+":"), "%s: %s", tc.line, rejects[0].Reason)
	}
	rows, _, rejects, _ := readAll(t, header+"- 80 - 443\n7 - 12345678901 -\n", Config{Object: "o"})
	require.Empty(t, rejects)
	require.Equal(t, [][]any{{nil, int64(80), nil, int64(443)}, {int64(7), nil, int64(12345678901), nil}}, rows)
}
