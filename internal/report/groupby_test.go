package report

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// A group-by with a budget of 3 groups spills on almost every new key and
// merges its runs when there are too many, and still sums every key
// exactly; the run files are gone afterwards.
func TestGroupBySpillsAndMerges(t *testing.T) {
	dir := t.TempDir()
	g := newGroupBy(2, 2, 3, dir)
	r := rand.New(rand.NewPCG(1, 2))
	type sums struct{ a, an, b int64 }
	want := map[[2]string]*sums{}
	for range 20000 {
		k := [2]string{fmt.Sprint(r.IntN(500)), ""}
		keys := []cell{{str: k[0], valid: true}, {}}
		if r.IntN(3) == 0 {
			k[1] = "x"
			keys[1] = cell{str: "x", valid: true}
		}
		v := r.Int64N(1000)
		aValid := r.IntN(4) > 0
		require.NoError(t, g.add(keys, []cell{{num: v, valid: aValid}, {num: 1, valid: true}}))
		require.LessOrEqual(t, len(g.runs), maxRuns+1)
		w := want[k]
		if w == nil {
			w = &sums{}
			want[k] = w
		}
		if aValid {
			w.a += v
			w.an++
		}
		w.b++
	}
	require.Greater(t, g.spills, 1000)
	got := map[[2]string]sums{}
	require.NoError(t, g.each(func(keys []cell, vals []value) error {
		k := [2]string{keys[0].str, keys[1].str}
		require.NotContains(t, got, k, "a key twice")
		got[k] = sums{a: vals[0].sum, an: vals[0].n, b: vals[1].sum}
		return nil
	}))
	require.Len(t, got, len(want))
	for k, w := range want {
		require.Equal(t, *w, got[k], k)
	}
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left)
}
