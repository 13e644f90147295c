package pipeline

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/bench"
	"convert/internal/gen"
	"convert/internal/reader/s3access"
	"convert/internal/schema"
)

// secondsBatch is a batch carrying request times beside it, as
// s3access.Batch does.
type secondsBatch struct {
	arrow.RecordBatch
	secs []int64
}

func (b secondsBatch) RequestSeconds() []int64 { return b.secs }

// s3AccessTimes is a batch of the s3access schema whose requestdatetime
// column holds times (the other columns are NULL).
func s3AccessTimes(t *testing.T, times ...string) arrow.RecordBatch {
	t.Helper()
	sc := schema.S3AccessSchema()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, f := range sc.Fields() {
		for _, v := range times {
			if f.Name == "requestdatetime" {
				b.Field(i).(*array.StringBuilder).Append(v)
			} else {
				b.Field(i).AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	return rec
}

// Partition takes the days from the times the reader parsed, not from the
// column: here the two disagree, and the reader's win.
func TestS3AccessPartitionUsesReaderTimes(t *testing.T) {
	rec := s3AccessTimes(t, "01/May/2024:10:00:00 +0000", "01/May/2024:11:00:00 +0000", "02/May/2024:00:00:01 +0000")
	k := &S3Access{}
	src := ObjectSource{Counts: &PartitionCounts{}}

	spans, err := k.Partition(rec, src)
	require.NoError(t, err)
	require.Equal(t, []Span{{Partition: "year=2024/month=05/day=01", Start: 0, End: 2}, {Partition: "year=2024/month=05/day=02", Start: 2, End: 3}}, spans)

	day := func(s string) int64 { d, _ := time.Parse(time.DateOnly, s); return d.Unix() + 3600 }
	spans, err = k.Partition(secondsBatch{rec, []int64{day("2023-12-31"), day("2024-01-01"), day("2024-01-01")}}, src)
	require.NoError(t, err)
	require.Equal(t, []Span{{Partition: "year=2023/month=12/day=31", Start: 0, End: 1}, {Partition: "year=2024/month=01/day=01", Start: 1, End: 3}}, spans)

	// Times that do not cover the batch are not used.
	spans, err = k.Partition(secondsBatch{rec, []int64{day("2023-12-31")}}, src)
	require.NoError(t, err)
	require.Equal(t, "year=2024/month=05/day=01", spans[0].Partition)

	// --partition-by delivery ignores them.
	fallback := time.Date(2024, 6, 7, 0, 0, 0, 0, time.UTC)
	spans, err = (&S3Access{ByDelivery: true}).Partition(secondsBatch{rec, []int64{day("2023-12-31"), 0, 0}}, ObjectSource{Fallback: fallback, Counts: &PartitionCounts{}})
	require.NoError(t, err)
	require.Equal(t, []Span{{Partition: "year=2024/month=06/day=07", Start: 0, End: 3}}, spans)
}

// The reader's batches carry the times, and partitioning by them gives the
// spans of parsing the column, for every object of the test data (a +0200
// offset included) and of a generated data set.
func TestS3AccessReaderTimesPartitionAsColumn(t *testing.T) {
	dir := t.TempDir()
	_, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: dir, Bytes: 1 << 20, Seed: 5, Days: 3, Files: 2})
	require.NoError(t, err)
	var files []string
	for _, d := range []string{"../../testdata/s3access", dir} {
		f, err := bench.ListFiles(d)
		require.NoError(t, err)
		require.NotEmpty(t, f, d)
		files = append(files, f...)
	}
	k := &S3Access{}
	batches := 0
	for _, path := range files {
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		rd, err := s3access.NewReader(bytes.NewReader(text), s3access.Config{Object: path, ChunkRows: 7})
		require.NoError(t, err)
		for rd.Next() {
			rec := rd.RecordBatch()
			b, ok := rec.(*s3access.Batch)
			require.True(t, ok, "%T", rec)
			require.Len(t, b.RequestSeconds(), int(rec.NumRows()))
			src := ObjectSource{Counts: &PartitionCounts{}}
			got, err := k.Partition(rec, src)
			require.NoError(t, err)
			want, err := k.Partition(b.Indexed.RecordBatch, src) // the column, parsed
			require.NoError(t, err)
			require.Equal(t, want, got, path)
			batches++
		}
		require.NoError(t, rd.Err())
		rd.Release()
	}
	require.Positive(t, batches)
}
