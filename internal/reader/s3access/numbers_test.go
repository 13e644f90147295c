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

// A reader that takes the pooled columns of one that numbered values must
// number its own from nothing, "" included: the dictionary's memory of the
// value numbered last must not answer for "" (it once did, with a number
// that in the new object belonged to another value).
func TestReaderNumbersEmptyValueAfterPooledReader(t *testing.T) {
	line := func(agent string) string {
		return `a1b2c3d4e5f6 my-bucket [05/Jan/2024:23:58:01 +0000] 198.51.100.7 arn:aws:iam::111122223333:user/alice 7D3F1A2B3C4D5E01 REST.GET.OBJECT photos/cat.jpg "GET /photos/cat.jpg HTTP/1.1" 200 - 5120 5120 12 9 "-" "` +
			agent + `" - Zm9v SigV4 TLS_AES_128_GCM_SHA256 AuthHeader my-bucket.s3.eu-west-1.amazonaws.com TLSv1.3 - - eu-west-1` + "\n"
	}
	read := func(agents ...string) {
		var text bytes.Buffer
		for _, a := range agents {
			text.WriteString(line(a))
		}
		rd, err := NewReader(bytes.NewReader(text.Bytes()), Config{Object: "o"})
		require.NoError(t, err)
		defer rd.Release()
		require.True(t, rd.Next())
		rec := rd.RecordBatch()
		col := rec.Column(fieldUserAgent).(*array.String)
		require.Equal(t, len(agents), col.Len())
		for r, a := range agents {
			require.Equal(t, a, col.Value(r))
		}
		nums, bound := rec.(*Batch).ValueNumbers(fieldUserAgent)
		require.NotNil(t, nums)
		parquettest.RequireNumbersMatchValues(t, "useragent", col, nums, bound)
		require.False(t, rd.Next())
		require.NoError(t, rd.Err())
	}
	read("a", "b", "c", "d")
	for range 4 { // the pool may hand out another set; one of these takes it
		read("", "x", "y", "z")
	}
}
