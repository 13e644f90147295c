package pipeline

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"convert/internal/gen"
	"convert/internal/reader/cloudtrail"
)

// BenchmarkCloudTrailPartition partitions the reader's batches of 8 MiB of
// generated CloudTrail JSON (one log file: one account and region, two days).
func BenchmarkCloudTrailPartition(b *testing.B) {
	rd, err := cloudtrail.NewReader(bytes.NewReader(gen.CloudTrailSample(1, 8<<20)), cloudtrail.Config{Object: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Release()
	var batches []arrow.RecordBatch
	var rows int64
	for rd.Next() {
		rec := rd.RecordBatch()
		rec.Retain()
		batches = append(batches, rec)
		rows += rec.NumRows()
	}
	if rd.Err() != nil {
		b.Fatal(rd.Err())
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	k, src := &CloudTrail{}, ObjectSource{Counts: &PartitionCounts{}}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range batches {
			if _, err := k.Partition(r, src); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*rows), "ns/row")
}
