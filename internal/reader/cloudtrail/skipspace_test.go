package cloudtrail

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// skipSpace's one-comparison test for a token byte skips exactly the four
// JSON whitespace bytes (RFC 8259), for every byte value, in runs and at
// the end of the input.
func TestSkipSpaceEveryByte(t *testing.T) {
	json := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for c := range 256 {
		b := []byte{' ', '\t', byte(c), '\r', '\n', byte(c)}
		want := 2
		if json(byte(c)) {
			want = len(b)
		}
		require.Equal(t, want, skipSpace(b, 0), "byte %#x", c)
		require.Equal(t, 6, skipSpace(b, 6), "at the end")
	}
}
