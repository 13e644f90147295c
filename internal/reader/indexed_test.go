package reader

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStringDictAfterReset: a dictionary emptied for another object numbers
// from nothing again, "" included. The value numbered last before the
// reset must not answer for "" afterwards (a number the dictionary no
// longer holds, at or past its Len).
func TestStringDictAfterReset(t *testing.T) {
	d := NewStringDict()
	for _, v := range []string{"a", "b", "b", ""} {
		_, ok := d.Number([]byte(v))
		require.True(t, ok)
	}
	require.Equal(t, 3, d.Len())
	d.Reset()
	for i, v := range []string{"", "x", "", "x"} {
		k, ok := d.Number([]byte(v))
		require.True(t, ok)
		require.Less(t, int(k), d.Len(), "value %d (%q)", i, v)
		require.Equal(t, int32(i%2), k, "value %d (%q)", i, v)
	}
	require.Equal(t, 2, d.Len())
	d.Reset()
	k, ok := d.Number([]byte{})
	require.True(t, ok)
	require.Equal(t, int32(0), k)
	require.Equal(t, 1, d.Len())
}
