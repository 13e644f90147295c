package s3access

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"convert/internal/bench"
	"convert/internal/gen"
	"convert/internal/parquettest"
)

// The columns that repeat carry value numbers (reader.Indexed): two non-null
// rows of a batch have equal numbers exactly when their values are equal,
// also for a second reader that takes the first one's pooled columns; the
// columns that vary per request carry none.
func TestReaderNumbersRepeatingValues(t *testing.T) {
	dir := t.TempDir()
	_, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: dir, Bytes: 2 << 20, Seed: 3, Days: 1, Files: 2})
	require.NoError(t, err)
	files, err := bench.ListFiles(dir)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		rd, err := NewReader(bytes.NewReader(text), Config{Object: path, ChunkRows: 1000})
		require.NoError(t, err)
		batches, numbered := 0, 0
		for rd.Next() {
			rec := rd.RecordBatch()
			b, ok := rec.(*Batch)
			require.True(t, ok)
			ix := b.Indexed
			for i := range NumFields {
				nums, bound := ix.ValueNumbers(i)
				if !numberedFields[i] {
					require.Nil(t, nums, "column %d", i)
					continue
				}
				if nums == nil {
					continue // more distinct values than a dictionary numbers
				}
				numbered++
				parquettest.RequireNumbersMatchValues(t, fmt.Sprint("column ", i), rec.Column(i).(*array.String), nums, bound)
			}
			batches++
		}
		require.NoError(t, rd.Err())
		require.Positive(t, batches)
		require.GreaterOrEqual(t, numbered, 10*batches, "most repeating columns are numbered")
		rd.Release()
	}
}
