package writer

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/storage"
)

// stringBatch builds a one-row-per-value batch of a nullable string column
// "s" and of the same strings as a list "l" of structs {"a": string}, the way
// the readers build them: offsets and bytes straight into buffers. With
// nilBytes, a batch without text gets a data buffer whose Bytes() is nil (what
// a zero-sized memory.NewResizableBuffer or compute.Take gives).
func stringBatch(mem memory.Allocator, nilBytes bool, vals ...*string) arrow.RecordBatch {
	elem := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "l", Type: arrow.ListOf(elem), Nullable: true},
	}, nil)
	offsets := []int32{0}
	var text []byte
	valid := make([]byte, (len(vals)+7)/8)
	nulls := 0
	for i, v := range vals {
		if v == nil {
			nulls++
		} else {
			valid[i/8] |= 1 << (i % 8)
			text = append(text, *v...)
		}
		offsets = append(offsets, int32(len(text)))
	}
	data := func() *memory.Buffer {
		if len(text) == 0 && nilBytes {
			b := memory.NewResizableBuffer(mem)
			b.Resize(0)
			return b
		}
		b := memory.NewResizableBuffer(mem)
		b.Resize(len(text))
		copy(b.Bytes(), text)
		return b
	}
	bufs := []*memory.Buffer{memory.NewBufferBytes(valid), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), data()}
	str := array.NewData(arrow.BinaryTypes.String, len(vals), bufs, nil, nulls, 0)
	bufs[2].Release()
	s := array.MakeFromData(str)
	// The list: one element per row, the element's field is the string.
	listOffsets := make([]int32, len(vals)+1)
	for i := range listOffsets {
		listOffsets[i] = int32(i)
	}
	st := array.NewData(elem, len(vals), []*memory.Buffer{nil}, []arrow.ArrayData{str}, 0, 0)
	ld := array.NewData(sc.Field(1).Type, len(vals), []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(listOffsets))},
		[]arrow.ArrayData{st}, 0, 0)
	l := array.MakeFromData(ld)
	str.Release()
	st.Release()
	ld.Release()
	rec := array.NewRecordBatch(sc, []arrow.Array{s, l}, int64(len(vals)))
	s.Release()
	l.Release()
	return rec
}

func strs(vals ...string) []*string {
	out := make([]*string, len(vals))
	for i := range vals {
		out[i] = &vals[i]
	}
	return out
}

// A batch of only "" (and NULL) followed by batches with text, in one row
// group: the footer's and the pages' min must be "". Issue 16: arrow-go left
// the ""s out when the first batch's data buffer had nil bytes, so Athena
// pruning by min = "Access Denied" dropped the rows where the column is "".
func TestEmptyStringsKeepTheirStatistics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	root := t.TempDir()
	empty := append(strs("", "", ""), nil)
	var paths []string
	for _, nilBytes := range []bool{true, false} {
		rel := "f.parquet"
		if nilBytes {
			rel = "nil.parquet"
		}
		var sc *arrow.Schema
		var f *File
		for _, vals := range [][]*string{empty, strs("Access Denied", "Access Denied"), empty} {
			rec := stringBatch(mem, nilBytes, vals...)
			if f == nil {
				sc = rec.Schema()
				var err error
				f, err = NewFile(context.Background(), &storage.LocalSink{Root: root}, rel, "", sc, Options{Mem: mem})
				require.NoError(t, err)
			}
			require.NoError(t, f.Write(rec))
			rec.Release()
		}
		_, err := f.Finish()
		require.NoError(t, err)
		require.NoError(t, f.Commit())
		paths = append(paths, filepath.Join(root, rel))
	}
	for _, p := range paths {
		rep := parquettest.CheckStatistics(t, p)
		require.EqualValues(t, 12, rep.EmptyStrings, "both columns, both files")
		parquettest.CheckStatisticsParquetGo(t, p)
	}
}

// A list's and a map's string leaves keep every value in min/max when some
// rows have no list or an empty one (events without resources). arrow-go's
// dictionary path (v18.8.0) counts the non-null values of a write batch as
// leaf slots minus levels minus values, and skips min/max when that comes to
// zero: here when a batch holds as many missing or empty lists as values. The
// first batch's "a" was then left out and the footer said min = "b": a
// reader pruning by it misses the row (issue 16, item 2).
func TestListLeavesKeepTheirStatistics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	elem := arrow.StructOf(arrow.Field{Name: "arn", Type: arrow.BinaryTypes.String, Nullable: true})
	sc := arrow.NewSchema([]arrow.Field{{Name: "resources", Type: arrow.ListOf(elem), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true}}, nil)
	batch := func(rows ...string) arrow.RecordBatch { // "" is a missing list, "[]" an empty one
		lb := array.NewListBuilder(mem, elem)
		defer lb.Release()
		sb := lb.ValueBuilder().(*array.StructBuilder)
		arn := sb.FieldBuilder(0).(*array.StringBuilder)
		mb := array.NewMapBuilder(mem, arrow.BinaryTypes.String, arrow.BinaryTypes.String, false)
		defer mb.Release()
		for _, r := range rows {
			switch r {
			case "":
				lb.AppendNull()
				mb.AppendNull()
			case "[]":
				lb.AppendEmptyValue()
				mb.AppendEmptyValue()
			default:
				lb.Append(true)
				sb.Append(true)
				arn.Append(r)
				mb.Append(true)
				mb.KeyBuilder().(*array.StringBuilder).Append(r)
				mb.ItemBuilder().(*array.StringBuilder).Append(r)
			}
		}
		l, m := lb.NewArray(), mb.NewArray()
		defer l.Release()
		defer m.Release()
		return array.NewRecordBatch(sc, []arrow.Array{l, m}, int64(len(rows)))
	}
	root := t.TempDir()
	f, err := NewFile(context.Background(), &storage.LocalSink{Root: root}, "l.parquet", "", sc, Options{Mem: mem})
	require.NoError(t, err)
	for _, rows := range [][]string{{"", "a"}, {"[]", "c", "", "d"}, {"b"}} {
		rec := batch(rows...)
		require.NoError(t, f.Write(rec))
		rec.Release()
	}
	_, err = f.Finish()
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	p := filepath.Join(root, "l.parquet")
	rep := parquettest.CheckStatistics(t, p)
	require.EqualValues(t, 3*4, rep.Values, "4 arns, keys and values")
	parquettest.CheckStatisticsParquetGo(t, p)
}
