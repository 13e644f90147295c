package cloudtrail

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/reader"
)

// addValue copies and numbers short values by words read and written past
// their ends. Values of every length around wordsBytes, equal or differing
// in one byte (or only in the bytes past their ends), from sources with and
// without room past them, into data with and without room (so that the
// word path and the general one alternate), keep exactly their bytes and
// offsets, and their numbers are the dictionary's: equal values, equal
// numbers.
func TestAddValueWords(t *testing.T) {
	// Values are cut from src at varying offsets: the bytes past a value
	// are never 0 and differ from value to value.
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte('a' + i%7)
	}
	for _, dataCap := range []int{0, 5, 30, 1 << 12} {
		for _, tight := range []int{0, 1, 3} { // every how many values has no room past it (0: none)
			t.Run(fmt.Sprintf("cap%d-tight%d", dataCap, tight), func(t *testing.T) {
				n := &node{kind: opString, data: make([]byte, 0, dataCap), offsets: []int32{0}, dict: reader.NewStringDict()}
				n.reset()
				require.True(t, n.numbering)
				var want []byte
				wantOffs := []int32{0}
				var vals [][]byte
				for k := range 3000 {
					if k%13 == 6 {
						n.addNullString()
						wantOffs = append(wantOffs, int32(len(want))|nullOffset)
						vals = append(vals, nil)
						continue
					}
					l := (k / 3) % (wordsBytes + 6)
					// Runs of the same value, the same bytes at
					// another offset (other bytes past it), and
					// the same length with one byte changed.
					start := (k / 5) % 7 * 7 // a multiple of 7: the same bytes
					if k%4 == 3 {
						start++ // other bytes
					}
					v := bytes.Clone(src[start : start+l+8])[:l]
					if k%9 == 4 && l > 0 {
						v[l-1] = '#'
					}
					if tight > 0 && k%tight == 0 {
						v = v[:l:l]
					}
					n.addValue(v)
					want = append(want, v...)
					wantOffs = append(wantOffs, int32(len(want)))
					vals = append(vals, v)
				}
				require.Equal(t, want, n.data)
				require.Equal(t, wantOffs, n.offsets)
				require.True(t, n.numbering)
				require.Len(t, n.idx, len(vals))
				for r, v := range vals {
					if v == nil {
						require.Zero(t, n.idx[r], "row %d", r)
						continue
					}
					k, ok := n.dict.Number(v)
					require.True(t, ok)
					require.Equal(t, k, n.idx[r], "row %d %q", r, v)
				}
			})
		}
	}
}
