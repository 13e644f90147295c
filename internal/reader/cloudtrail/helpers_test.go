package cloudtrail

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/schema"
)

// result is everything a Reader produced from one input.
type result struct {
	rows     []map[string]any
	rejects  []reader.Reject
	batches  int
	stats    Stats
	shape    Shape
	err      error
	warnings []string
}

// readAll reads input to the end with a checked allocator and returns the
// rows as Go values (see rowValue).
func readAll(t testing.TB, in io.Reader, cfg Config) result {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg.Mem = mem
	if cfg.Object == "" {
		cfg.Object = "test.json"
	}
	var res result
	cfg.Reject = func(r reader.Reject) {
		r.Raw = bytes.Clone(r.Raw)
		res.rejects = append(res.rejects, r)
	}
	rd, err := NewReader(in, cfg)
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
		rec := rd.RecordBatch()
		require.True(t, rec.Schema().Equal(schema.CloudTrailSchema()))
		for _, col := range rec.Columns() {
			require.NoError(t, col.(interface{ ValidateFull() error }).ValidateFull())
		}
		res.rows = append(res.rows, recordRows(rec)...)
		res.batches++
	}
	res.err, res.stats, res.shape, res.warnings = rd.Err(), rd.Stats(), rd.Shape(), rd.Warnings()
	require.Equal(t, res.stats.Rows+res.stats.Rejected, res.stats.Records, "records = rows + rejected")
	require.EqualValues(t, len(res.rows), res.stats.Rows)
	require.EqualValues(t, len(res.rejects), res.stats.Rejected)
	return res
}

func readString(t testing.TB, in string) result {
	t.Helper()
	return readAll(t, bytes.NewReader([]byte(in)), Config{})
}

// recordRows turns a batch into one map per row, column name → rowValue.
func recordRows(rec arrow.RecordBatch) []map[string]any {
	rows := make([]map[string]any, rec.NumRows())
	for i := range rows {
		row := map[string]any{}
		for c, f := range rec.Schema().Fields() {
			row[f.Name] = rowValue(rec.Column(c), i)
		}
		rows[i] = row
	}
	return rows
}

// rowValue is the value at i as Go values: nil for NULL, string, map[string]any
// for a struct, []any for a list, map[string]string... for a map (as
// map[string]any whose values are string or nil).
func rowValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		m := map[string]any{}
		for k, f := range st.Fields() {
			m[f.Name] = rowValue(a.Field(k), i)
		}
		return m
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys().(*array.String), a.Items()
		m := map[string]any{}
		for j := int(start); j < int(end); j++ {
			m[keys.Value(j)] = rowValue(items, j)
		}
		return m
	case *array.List:
		start, end := a.ValueOffsets(i)
		out := []any{}
		for j := int(start); j < int(end); j++ {
			out = append(out, rowValue(a.ListValues(), j))
		}
		return out
	}
	panic("unexpected array type " + arr.DataType().String())
}

// get walks a row by column and struct field names.
func get(row map[string]any, path ...string) any {
	var v any = row
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
