package reader

import (
	"fmt"
	"math/rand/v2"
	"strings"
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

// TestStringDictMatchesMap: the numbers are those of a plain map that
// numbers values in the order they first appear, as the cache grows with
// the values (minCacheSlots to maxCacheSlots) and thrashes: values that
// share length and first and last eight bytes (one slot at any size), ""
// and short values, runs and alternations, past MaxDictValues.
func TestStringDictMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	value := func(i int) string {
		switch i % 4 {
		case 0:
			return fmt.Sprintf("eni-%017x", i)
		case 1:
			return fmt.Sprintf("arn:aws:%03d:abcdefgh", i) // same first and last eight bytes, same length
		case 2:
			return strings.Repeat("x", i%9) // "" and short values
		default:
			return fmt.Sprint(i)
		}
	}
	for _, distinct := range []int{3, 17, 65, 300, 2000, MaxDictValues + 10} {
		d := NewStringDict()
		want := map[string]int32{}
		full := false
		for j := range 20_000 {
			v := value(rng.IntN(distinct))
			if j%7 == 0 {
				v = value(j % distinct) // every value, in order
			}
			k, ok := d.Number([]byte(v))
			w, seen := want[v]
			if !seen && !full {
				if len(want) == MaxDictValues {
					full = true
				} else {
					w = int32(len(want))
					want[v] = w
				}
			}
			if ok == full || ok && k != w {
				t.Fatalf("%d distinct, value %d %q: got %d, %v; want %d, %v", distinct, j, v, k, ok, w, !full)
			}
		}
		if !full {
			require.Equal(t, len(want), d.Len())
		}
		require.Equal(t, full, d.Full())
	}
}
