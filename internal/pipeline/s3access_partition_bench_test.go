package pipeline

import (
	"bytes"
	"os"
	"testing"

	"convert/internal/bench"
	"convert/internal/gen"
	"convert/internal/reader/s3access"
)

// BenchmarkS3AccessPartition partitions the reader's batches of 8 MiB of
// access logs by the times the reader parsed (reader) and by parsing the
// requestdatetime column (column, a batch without them).
func BenchmarkS3AccessPartition(b *testing.B) {
	dir := b.TempDir()
	if _, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: dir, Bytes: 8 << 20, Seed: 1, Days: 3, Files: 1}); err != nil {
		b.Fatal(err)
	}
	files, err := bench.ListFiles(dir)
	if err != nil || len(files) != 1 {
		b.Fatal(files, err)
	}
	text, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	rd, err := s3access.NewReader(bytes.NewReader(text), s3access.Config{Object: files[0]})
	if err != nil {
		b.Fatal(err)
	}
	var batches []*s3access.Batch
	for rd.Next() {
		rec := rd.RecordBatch()
		rec.Retain()
		batches = append(batches, rec.(*s3access.Batch))
	}
	if rd.Err() != nil {
		b.Fatal(rd.Err())
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
		rd.Release()
	}()
	k, src := &S3Access{}, ObjectSource{Counts: &PartitionCounts{}}
	b.Run("reader", func(b *testing.B) {
		for b.Loop() {
			for _, r := range batches {
				if _, err := k.Partition(r, src); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("column", func(b *testing.B) {
		for b.Loop() {
			for _, r := range batches {
				if _, err := k.Partition(r.Indexed.RecordBatch, src); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
