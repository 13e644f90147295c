package writer

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// These tests watch the two arrow-go statistics bugs of
// docs/upstream/arrow-go-statistics.md with arrow-go alone (no workaround of
// ours in the way), so that an upgrade shows which workarounds are still
// needed.

// footerMinMax writes the batches with pqarrow into one row group and
// returns the footer min and max of column 0.
func footerMinMax(t *testing.T, sc *arrow.Schema, props *parquet.WriterProperties, recs ...arrow.RecordBatch) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	for _, rec := range recs {
		require.NoError(t, w.WriteBuffered(rec))
	}
	require.NoError(t, w.Close())
	r, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer r.Close()
	cc, err := r.MetaData().RowGroup(0).ColumnChunk(0)
	require.NoError(t, err)
	st, err := cc.Statistics()
	require.NoError(t, err)
	s := st.(*metadata.ByteArrayStatistics)
	require.True(t, s.HasMinMax())
	return string(s.Min()), string(s.Max())
}

// Bug B, fixed in v18.9.0: a dictionary-encoded list<string> leaf whose
// write batch holds as many missing lists as values ([NULL, ["a"]]) kept the
// batch's values out of min/max (v18.8.0 wrote min "b" here). Since it is
// fixed, list and map string leaves are dictionary-encoded again
// (NewWriterProperties).
func TestUpstreamNestedLeafStatistics(t *testing.T) {
	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true}}, nil)
	batch := func(fill func(*array.ListBuilder, *array.StringBuilder)) arrow.RecordBatch {
		b := array.NewListBuilder(mem, arrow.BinaryTypes.String)
		defer b.Release()
		fill(b, b.ValueBuilder().(*array.StringBuilder))
		arr := b.NewArray()
		defer arr.Release()
		return array.NewRecordBatch(sc, []arrow.Array{arr}, int64(arr.Len()))
	}
	first := batch(func(l *array.ListBuilder, s *array.StringBuilder) {
		l.AppendNull()
		l.Append(true)
		s.Append("a")
	})
	second := batch(func(l *array.ListBuilder, s *array.StringBuilder) {
		l.Append(true)
		s.Append("b")
	})
	props := parquet.NewWriterProperties(parquet.WithStats(true), parquet.WithDictionaryDefault(true))
	lo, hi := footerMinMax(t, sc, props, first, second)
	require.Equal(t, "a", lo, "bug B is back: nested leaves lose min/max")
	require.Equal(t, "b", hi)
}

// Bug A, still in v18.9.0: a batch of ""s whose value buffer has nil bytes
// (what compute.Take of all-"" rows returns) is left out of min/max. While
// this test passes, reader.CopyBuffer and withValueBytes stay; when it
// fails, arrow-go has fixed bug A and they can go.
func TestUpstreamEmptyStringStatistics(t *testing.T) {
	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	strs := func(vals ...string) arrow.RecordBatch {
		offsets := []int32{0}
		var text []byte
		for _, v := range vals {
			text = append(text, v...)
			offsets = append(offsets, int32(len(text)))
		}
		data := memory.NewResizableBuffer(mem)
		data.Resize(len(text)) // Resize(0): Bytes() == nil
		copy(data.Bytes(), text)
		arr := array.MakeFromData(array.NewData(arrow.BinaryTypes.String, len(vals),
			[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)), data}, nil, 0, 0))
		defer arr.Release()
		return array.NewRecordBatch(sc, []arrow.Array{arr}, int64(len(vals)))
	}
	props := parquet.NewWriterProperties(parquet.WithStats(true))
	lo, _ := footerMinMax(t, sc, props, strs("", ""), strs("a", "b"))
	require.Equal(t, "a", lo, "arrow-go now counts \"\" from a nil buffer (bug A fixed?): drop the workarounds")
}
