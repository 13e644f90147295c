package writer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// A batch whose largest column is over a page is written in slices of about
// a page of it; a usual batch is written whole.
func TestSliceRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	batch := func(rows, width int) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, sc)
		defer b.Release()
		long := strings.Repeat("x", width)
		for i := range rows {
			b.Field(0).(*array.StringBuilder).Append(long)
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
		return b.NewRecordBatch()
	}
	const page = 1 << 20
	usual := batch(32<<10, 20) // 640 KiB of strings, 256 KiB of integers
	defer usual.Release()
	require.Equal(t, int64(32<<10), sliceRows(usual, page))

	long := batch(8, 1<<20-200) // eight lines just under 1 MiB
	defer long.Release()
	require.Equal(t, int64(1), sliceRows(long, page))

	half := batch(64, 256<<10) // 16 MiB: four rows to a page
	defer half.Release()
	require.Equal(t, int64(4), sliceRows(half, page))
	sl := half.NewSlice(8, 16) // a slice counts its own rows only
	defer sl.Release()
	require.Equal(t, int64(2<<20), arrayBytes(sl.Column(0)))
	require.Equal(t, int64(4), sliceRows(sl, page))
}
