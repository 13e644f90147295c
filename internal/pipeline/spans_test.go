package pipeline

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
)

// TestSelectSpansKeepsValueNumbers: the rows of one partition taken from a
// batch that spans several keep the value numbers of their rows, so that
// the writer still writes the numbered columns as dictionary indices.
func TestSelectSpansKeepsValueNumbers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{{Name: "action", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewStringBuilder(mem)
	values := []string{"ACCEPT", "REJECT", "ACCEPT", "ACCEPT", "REJECT", "ACCEPT"}
	b.AppendValues(values, nil)
	col := b.NewArray()
	b.Release()
	rec := reader.NewIndexed(array.NewRecordBatch(sc, []arrow.Array{col}, int64(len(values))),
		[][]int32{{0, 1, 0, 0, 1, 0}}, []int{2})
	col.Release()
	defer rec.Release()

	part, err := selectSpans(context.Background(), rec, []Span{{Start: 3, End: 6}}, mem)
	require.NoError(t, err)
	defer part.Release()
	vn, ok := part.(interface{ ValueNumbers(int) ([]int32, int) })
	require.True(t, ok, "the slice lost its value numbers")
	nums, bound := vn.ValueNumbers(0)
	require.Equal(t, []int32{0, 1, 0}, nums)
	require.Equal(t, 2, bound)
	require.Equal(t, "ACCEPT", part.Column(0).(*array.String).Value(0))
}
