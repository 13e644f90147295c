package s3access

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/schema"
	"convert/internal/storage"
	"convert/internal/writer"
)

// TestParquetRoundTrip writes the hand-written logs through internal/writer
// and reads the files back with pqarrow and, independently, parquet-go: the
// same rows, the documented column types, Snappy.
func TestParquetRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out := t.TempDir()
	sink := &storage.LocalSink{Root: out}

	var want []map[string]any
	f, err := writer.NewFile(context.Background(), sink, "year=2024/month=01/day=06/part-0.snappy.parquet", "year=2024/month=01/day=06",
		schema.S3AccessSchema(), writer.Options{Mem: mem, Encodings: map[string]writer.Encoding{
			"bytessent": writer.Delta, "objectsize": writer.Delta, "requestid": writer.Plain, "hostid": writer.Plain}})
	require.NoError(t, err)
	for _, path := range []string{simpleLog, dateBasedLog} {
		in, err := os.Open(path)
		require.NoError(t, err)
		rd, err := NewReader(in, Config{Object: path, Mem: mem, ChunkRows: 4})
		require.NoError(t, err)
		for rd.Next() {
			rec := rd.RecordBatch()
			want = append(want, rowsOf(rec)...)
			require.NoError(t, f.Write(rec))
		}
		require.NoError(t, rd.Err())
		rd.Release()
		in.Close()
	}
	info, err := f.Finish()
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	require.Equal(t, int64(13), info.Rows)
	require.Len(t, want, 13)

	path := filepath.Join(out, filepath.FromSlash(info.Path))
	got := parquettest.Read(t, path)
	require.Equal(t, int64(13), got.NumRows)
	// Field metadata (PARQUET:field_id) differs; names, types and
	// nullability must not.
	wantFields := schema.S3AccessSchema().Fields()
	require.Len(t, got.Schema.Fields(), len(wantFields))
	for i, fld := range got.Schema.Fields() {
		require.Equal(t, wantFields[i].Name, fld.Name)
		require.True(t, arrow.TypeEqual(wantFields[i].Type, fld.Type), fld.Name)
		require.Equal(t, wantFields[i].Nullable, fld.Nullable, fld.Name)
	}
	require.Equal(t, want, got.Rows)
	for _, c := range got.Columns {
		switch c.Name {
		case "bytessent", "objectsize":
			require.Equal(t, "INT64", c.Physical, c.Name)
			require.Equal(t, "Int(bitWidth=64, isSigned=true)", c.Logical, c.Name)
		default:
			require.Equal(t, "BYTE_ARRAY", c.Physical, c.Name)
			require.Equal(t, "String", c.Logical, c.Name)
		}
	}
	for _, codec := range got.Codecs {
		require.Equal(t, "SNAPPY", codec)
	}

	independent, n := parquettest.ReadParquetGo(t, path)
	require.Equal(t, int64(13), n)
	require.Equal(t, want, independent)
}
