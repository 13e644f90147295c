package writer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// defLevels shares one slice of 1s among the columns without NULLs and
// clears the NULLs of the others in a copy, a bitmap byte at a time:
// columns with and without NULLs, longer and shorter, sliced at odd offsets
// and in any order, get the levels their bitmaps say, and the 1s stay 1s.
func TestDefLevelsReused(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(7, 8))
	fw := &flatWriter{}
	for i := range 200 {
		n := 1 + rng.IntN(300)
		p := []float64{0, 0, 0.01, 0.3, 0.9, 1}[rng.IntN(6)]
		b := array.NewInt64Builder(mem)
		for r := range n + 20 {
			if rng.Float64() < p {
				b.AppendNull()
			} else {
				b.Append(int64(r))
			}
		}
		whole := b.NewArray()
		b.Release()
		off := int64(rng.IntN(20))
		col := array.NewSlice(whole, off, off+int64(n))
		got := fw.defLevels(col)
		require.Len(t, got, n)
		for r := range n {
			want := int16(1)
			if col.IsNull(r) {
				want = 0
			}
			require.Equal(t, want, got[r], "column %d (p %.2f, offset %d) row %d", i, p, off, r)
		}
		col.Release()
		whole.Release()
	}
	for i, v := range fw.ones {
		require.Equal(t, int16(1), v, "shared level %d", i)
	}
}

// Plain string columns are written to pqarrow's bytes, whatever room is
// reserved for their pages first (reservePlain): long and short values,
// NULLs, a struct leaf, pages of several sizes and batches larger than a
// page.
func TestPlainColumnsMatchPqarrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str := arrow.BinaryTypes.String
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: str},
		{Name: "note", Type: str, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "key", Type: str, Nullable: true}), Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	var batches []arrow.RecordBatch
	for k := range 5 {
		b := array.NewRecordBuilder(mem, sc)
		rows := 4500 + k*3000 // past probeRows, whose write is split at a page batch boundary
		for r := range rows {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("%08x-%d", rng.Uint32(), r))
			if rng.IntN(7) == 0 {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.StringBuilder).Append(strings.Repeat("n", rng.IntN(300)))
			}
			sb := b.Field(2).(*array.StructBuilder)
			sb.Append(true)
			sb.FieldBuilder(0).(*array.StringBuilder).Append(fmt.Sprintf("k%d", rng.Uint64()))
		}
		batches = append(batches, b.NewRecordBatch())
		b.Release()
	}
	defer releaseAll(batches)
	sliced := batches[3].NewSlice(77, 2900)
	defer sliced.Release()
	writes := []arrow.RecordBatch{batches[0], batches[1], sliced, nil, batches[2], batches[4]}
	enc := map[string]Encoding{"id": Plain, "note": Plain, "s.key": Plain}
	for _, o := range []Options{
		{Mem: mem, Encodings: enc},
		{Mem: mem, Encodings: enc, DataPageBytes: 8 << 10},
		{Mem: mem, Encodings: enc, DataPageBytes: 100 << 10},
	} {
		ours, theirs := writeBothWays(t, mem, sc, o, writes)
		requireSameFile(t, ours, theirs)
	}
}
