// Package parquettest reads Parquet files back in tests, with arrow-go's
// pqarrow and, independently, with parquet-go, and turns them into plain Go
// values that tests compare.
package parquettest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

// Column is a column's name and types as stored.
type Column struct {
	Name     string
	Physical string // parquet physical type: INT32, INT64, BYTE_ARRAY, …
	Logical  string // logical type annotation, e.g. String, or ""
}

// File is a Parquet file read back.
type File struct {
	Schema    *arrow.Schema
	Columns   []Column // leaf columns, from the Parquet schema
	Rows      []map[string]any
	NumRows   int64
	RowGroups int
	CreatedBy string
	Codecs    []string // compression codec of every column chunk of the first row group
}

// Read reads a file with pqarrow. Values: nil for NULL, int64 for integers
// (int32 widened), string, bool, float64, []any for lists, map[string]any
// for structs, and [][2]any for maps.
func Read(t testing.TB, path string) File {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	require.NoError(t, err, path)
	defer pf.Close()
	meta := pf.MetaData()
	out := File{NumRows: pf.NumRows(), RowGroups: pf.NumRowGroups(), CreatedBy: meta.GetCreatedBy()}
	sc := meta.Schema
	for i := 0; i < sc.NumColumns(); i++ {
		col := sc.Column(i)
		lt := ""
		if l := col.LogicalType(); l != nil && !l.IsNone() {
			lt = l.String()
		}
		out.Columns = append(out.Columns, Column{Name: col.Path(), Physical: col.PhysicalType().String(), Logical: lt})
	}
	if pf.NumRowGroups() > 0 {
		rg := meta.RowGroup(0)
		for i := 0; i < rg.NumColumns(); i++ {
			cc, err := rg.ColumnChunk(i)
			require.NoError(t, err)
			out.Codecs = append(out.Codecs, cc.Compression().String())
		}
	}
	// Not a checked allocator: arrow-go v18.8.0's DELTA_BINARY_PACKED decoder
	// does not release a small buffer per column. Tests of the writer check
	// their own allocations.
	rdr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
	require.NoError(t, err)
	tbl, err := rdr.ReadTable(context.Background())
	require.NoError(t, err, path)
	out.Schema = tbl.Schema()
	tr := array.NewTableReader(tbl, 4096)
	for tr.Next() {
		out.Rows = append(out.Rows, Rows(tr.RecordBatch())...)
	}
	tr.Release()
	tbl.Release()
	return out
}

// Rows turns a record batch into rows keyed by column name.
func Rows(rec arrow.RecordBatch) []map[string]any {
	rows := make([]map[string]any, rec.NumRows())
	for i := range rows {
		row := make(map[string]any, rec.NumCols())
		for c, f := range rec.Schema().Fields() {
			row[f.Name] = Value(rec.Column(c), i)
		}
		rows[i] = row
	}
	return rows
}

// Value converts one element of an Arrow array.
func Value(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.String:
		// Copies: a reader's batch buffers may be reused once released.
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.Boolean:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Dictionary:
		return Value(a.Dictionary(), a.GetValueIndex(i))
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		var kv [][2]any
		for j := int(start); j < int(end); j++ {
			kv = append(kv, [2]any{Value(keys, j), Value(items, j)})
		}
		return kv
	case *array.List:
		start, end := a.ValueOffsets(i)
		var out []any
		for j := int(start); j < int(end); j++ {
			out = append(out, Value(a.ListValues(), j))
		}
		return out
	case *array.Struct:
		out := map[string]any{}
		st := a.DataType().(*arrow.StructType)
		for f := 0; f < a.NumField(); f++ {
			out[st.Field(f).Name] = Value(a.Field(f), i)
		}
		return out
	}
	panic(fmt.Sprintf("parquettest: unsupported type %s", a.DataType()))
}

// ReadParquetGo reads a file with parquet-go, an implementation independent
// of arrow-go. Rows are keyed by leaf column path (a.b.c); values are nil,
// int32, int64, string, bool or float64, and a repeated leaf gives []any.
func ReadParquetGo(t testing.TB, path string) (rows []map[string]any, numRows int64) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	pf, err := pq.OpenFile(f, st.Size())
	require.NoError(t, err, path)
	var leaves []string
	var repeated []bool
	for _, p := range pf.Schema().Columns() {
		leaves = append(leaves, strings.Join(p, "."))
		leaf, _ := pf.Schema().Lookup(p...)
		repeated = append(repeated, leaf.MaxRepetitionLevel > 0)
	}
	r := pq.NewReader(pf)
	defer r.Close()
	buf := make([]pq.Row, 128)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			m := map[string]any{}
			for _, v := range row {
				name := leaves[v.Column()]
				val := goValue(v)
				if repeated[v.Column()] {
					list, _ := m[name].([]any)
					if !v.IsNull() {
						list = append(list, val)
					}
					m[name] = list
					continue
				}
				m[name] = val
			}
			rows = append(rows, m)
		}
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	return rows, pf.NumRows()
}

func goValue(v pq.Value) any {
	if v.IsNull() {
		return nil
	}
	switch v.Kind() {
	case pq.Boolean:
		return v.Boolean()
	case pq.Int32:
		return v.Int32()
	case pq.Int64:
		return v.Int64()
	case pq.Double:
		return v.Double()
	case pq.ByteArray:
		return string(v.ByteArray())
	}
	return v.String()
}

// Files lists the files under dir with the given suffix, sorted, relative to dir.
func Files(t testing.TB, dir, suffix string) []string {
	t.Helper()
	var out []string
	require.NoError(t, walk(dir, "", suffix, &out))
	sort.Strings(out)
	return out
}

func walk(root, rel, suffix string, out *[]string) error {
	entries, err := os.ReadDir(root + "/" + rel)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := e.Name()
		if rel != "" {
			p = rel + "/" + e.Name()
		}
		if e.IsDir() {
			if err := walk(root, p, suffix, out); err != nil {
				return err
			}
			continue
		}
		if len(p) >= len(suffix) && p[len(p)-len(suffix):] == suffix {
			*out = append(*out, p)
		}
	}
	return nil
}

// Digest returns a file's row count and an order-independent sum of row
// hashes: two files (or trees) hold the same multiset of rows exactly when
// their digests match (up to hash collisions). Much cheaper than Read.
func Digest(t testing.TB, path string) (rows int64, sum uint64) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	require.NoError(t, err, path)
	defer pf.Close()
	rdr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 16384}, memory.DefaultAllocator)
	require.NoError(t, err)
	rr, err := rdr.GetRecordReader(context.Background(), nil, nil)
	require.NoError(t, err)
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		n := int(rec.NumRows())
		hashes := make([]uint64, n)
		for c, col := range rec.Columns() {
			name := rec.Schema().Field(c).Name
			for i := 0; i < n; i++ {
				hashes[i] = mix(hashes[i], hashString(name))
				hashes[i] = mix(hashes[i], hashValue(col, i))
			}
		}
		for _, h := range hashes {
			sum += h
		}
		rows += int64(n)
	}
	require.NoError(t, rr.Err())
	return rows, sum
}

func mix(h, v uint64) uint64 {
	h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
	return h
}

func hashString(s string) uint64 {
	h := uint64(1469598103934665603)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func hashValue(a arrow.Array, i int) uint64 {
	if a.IsNull(i) {
		return 0x5bd1e995
	}
	switch a := a.(type) {
	case *array.Int32:
		return uint64(a.Value(i))*0x9e3779b97f4a7c15 + 1
	case *array.Int64:
		return uint64(a.Value(i))*0x9e3779b97f4a7c15 + 2
	case *array.String:
		return hashString(a.Value(i))
	}
	b, _ := json.Marshal(Value(a, i))
	return hashString(string(b))
}
