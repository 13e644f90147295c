package writer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/storage"
)

// rowsSchema is the schema of rowsBatch: an integer, a string and a
// nullable string column.
var rowsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "maybe", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// rowsBatch builds rows first … first+count-1 of a deterministic data set
// that compresses little (random strings), and returns them as the values
// parquettest.Read gives back.
func rowsBatch(mem memory.Allocator, first, count int) (arrow.RecordBatch, []map[string]any) {
	rng := rand.New(rand.NewPCG(uint64(first), 1))
	nb, sb, mb := array.NewInt64Builder(mem), array.NewStringBuilder(mem), array.NewStringBuilder(mem)
	defer nb.Release()
	defer sb.Release()
	defer mb.Release()
	want := make([]map[string]any, 0, count)
	for i := first; i < first+count; i++ {
		n := int64(i) - 500 // negative values too
		s := fmt.Sprintf("%016x-%d", rng.Uint64(), i)
		row := map[string]any{"n": n, "s": s, "maybe": nil}
		nb.Append(n)
		sb.Append(s)
		switch i % 3 {
		case 0:
			mb.AppendNull()
		case 1:
			mb.Append("") // a value, not NULL
			row["maybe"] = ""
		default:
			mb.Append(s[:4])
			row["maybe"] = s[:4]
		}
		want = append(want, row)
	}
	cols := []arrow.Array{nb.NewArray(), sb.NewArray(), mb.NewArray()}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	return array.NewRecordBatch(rowsSchema, cols, int64(count)), want
}

// rowsEncodings encode the unique columns of rowsBatch as the kinds encode
// theirs: a dictionary of unique values would only grow until it falls back.
var rowsEncodings = map[string]Encoding{"n": Delta, "s": Plain}

// rowGroupSizes returns the compressed size of each row group of a file.
func rowGroupSizes(t *testing.T, path string) []int64 {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer r.Close()
	var out []int64
	for i := 0; i < r.NumRowGroups(); i++ {
		out = append(out, r.MetaData().RowGroup(i).TotalCompressedSize())
	}
	return out
}

// writeRows writes batches of batchRows rows of rowsBatch to rel under root
// and commits the file. It returns its info, the rows written and the largest
// growth of Size over one batch.
func writeRows(t *testing.T, mem memory.Allocator, root, rel string, o Options, batches, batchRows int) (FileInfo, []map[string]any, int64) {
	t.Helper()
	o.Mem = mem
	partition := path.Dir(rel)
	if partition == "." {
		partition = ""
	}
	f, err := NewFile(context.Background(), &storage.LocalSink{Root: root}, rel, partition, rowsSchema, o.withDefaults())
	require.NoError(t, err)
	var want []map[string]any
	var batchBytes int64
	for b := range batches {
		rec, rows := rowsBatch(mem, b*batchRows, batchRows)
		before := f.Size()
		require.NoError(t, f.Write(rec))
		batchBytes = max(batchBytes, f.Size()-before)
		rec.Release()
		want = append(want, rows...)
	}
	info, err := f.Finish()
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	return info, want, batchBytes
}

// TestRowGroupsCutAtRowGroupBytes: a file cuts a row group once its pages
// reach RowGroupBytes, so every row group but the last holds at least that
// much and at most about one more batch; the rows read back are the rows
// written, in order; FileInfo counts what the file holds.
func TestRowGroupsCutAtRowGroupBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	root := t.TempDir()
	const limit = 64 << 10
	const batchRows, batches = 500, 40
	info, want, batchBytes := writeRows(t, mem, root, "p/f.parquet", Options{RowGroupBytes: limit, Encodings: rowsEncodings}, batches, batchRows)

	path := filepath.Join(root, "p", "f.parquet")
	got := parquettest.Read(t, path)
	require.Equal(t, want, got.Rows)
	require.Equal(t, int64(batchRows*batches), info.Rows)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, st.Size(), info.Bytes)

	sizes := rowGroupSizes(t, path)
	require.Equal(t, len(sizes), info.RowGroups)
	require.Greater(t, len(sizes), 3, "%d batches of about %d bytes make several row groups of %d", batches, batchBytes, limit)
	for i, n := range sizes[:len(sizes)-1] {
		require.GreaterOrEqual(t, n, int64(limit)*9/10, "row group %d of %v: cut before the limit", i, sizes)
		require.LessOrEqual(t, n, int64(limit)+2*batchBytes, "row group %d of %v: not cut at the limit", i, sizes)
	}
}

// TestRowGroupsOneWhenUnderTheLimit: input smaller than RowGroupBytes is one
// row group.
func TestRowGroupsOneWhenUnderTheLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	root := t.TempDir()
	info, _, _ := writeRows(t, mem, root, "f.parquet", Options{}, 5, 100)
	require.Equal(t, 1, info.RowGroups)
	require.Len(t, rowGroupSizes(t, filepath.Join(root, "f.parquet")), 1)
}

// TestPartitionedRollsFilesAtTargetSize: a partition's file is finished once
// it reaches TargetFileBytes and the next rows go to the next file of the
// sequence; the files, in name order, hold the rows in the order written,
// and their FileInfos add up.
func TestPartitionedRollsFilesAtTargetSize(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	root := t.TempDir()
	const target = 256 << 10
	p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: root}, Stem: "u",
		Order:   func(f []arrow.Field) []arrow.Field { return f },
		Options: Options{TargetFileBytes: target, RowGroupBytes: 64 << 10, Encodings: rowsEncodings, Mem: mem}})
	var want []map[string]any
	for b := range 60 {
		rec, rows := rowsBatch(mem, b*500, 500)
		require.NoError(t, p.Write(context.Background(), "day=1", rec))
		rec.Release()
		want = append(want, rows...)
	}
	files, err := p.Finish()
	require.NoError(t, err)
	require.NoError(t, p.Commit())

	require.Greater(t, len(files), 2, "about %d bytes per file", target)
	var got []map[string]any
	var rows int64
	for i, fi := range files {
		require.Equal(t, fmt.Sprintf("day=1/part-u-%05d.snappy.parquet", i), fi.Path)
		require.Equal(t, "day=1", fi.Partition)
		st, err := os.Stat(filepath.Join(root, filepath.FromSlash(fi.Path)))
		require.NoError(t, err)
		require.Equal(t, st.Size(), fi.Bytes)
		if i < len(files)-1 {
			require.GreaterOrEqual(t, fi.Bytes, int64(target), "file %d rolled before the target", i)
		}
		f := parquettest.Read(t, filepath.Join(root, filepath.FromSlash(fi.Path)))
		require.Equal(t, fi.Rows, f.NumRows)
		require.Equal(t, fi.RowGroups, f.RowGroups)
		got = append(got, f.Rows...)
		rows += fi.Rows
	}
	require.Equal(t, int64(len(want)), rows)
	require.Equal(t, want, got)
}

// TestStatisticsOfAFile: every column chunk's statistics are right (two
// independent readers check them against the values), with NULLs and ""
// strings among the values, and the integer column's min and max are its
// smallest and largest value.
func TestStatisticsOfAFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	root := t.TempDir()
	const total = 6000
	writeRows(t, mem, root, "f.parquet", Options{RowGroupBytes: 32 << 10, Encodings: rowsEncodings}, total/1000, 1000)
	path := filepath.Join(root, "f.parquet")

	rep := parquettest.CheckStatistics(t, path)
	require.Equal(t, rep, parquettest.CheckStatisticsParquetGo(t, path))
	require.Positive(t, rep.Nulls)
	require.Positive(t, rep.EmptyStrings)
	require.Greater(t, rep.Chunks, 3, "several row groups")

	r, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer r.Close()
	lo, hi := int64(1<<62), int64(-1<<62)
	for i := 0; i < r.NumRowGroups(); i++ {
		cc, err := r.MetaData().RowGroup(i).ColumnChunk(0)
		require.NoError(t, err)
		st, err := cc.Statistics()
		require.NoError(t, err)
		is, ok := st.(*metadata.Int64Statistics)
		require.True(t, ok, "%T", st)
		require.True(t, is.HasMinMax())
		lo, hi = min(lo, is.Min()), max(hi, is.Max())
	}
	require.Equal(t, int64(-500), lo)
	require.Equal(t, int64(total-1-500), hi)
}
