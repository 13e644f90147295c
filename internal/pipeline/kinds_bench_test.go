package pipeline

import (
	"context"
	"os"
	"testing"

	"convert/internal/bench"
	"convert/internal/gen"
	"convert/internal/storage"
)

// BenchmarkS3AccessPipeline converts 32 MiB of generated access logs (three
// days) end to end to local Parquet; MB/s is of the input text.
//
//	go test -run '^$' -bench 'CloudTrail|S3Access' -benchtime 2x ./internal/pipeline/
func BenchmarkS3AccessPipeline(b *testing.B) {
	in := b.TempDir()
	if _, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: in, Bytes: 32 << 20, Seed: 1, Days: 3}); err != nil {
		b.Fatal(err)
	}
	benchKindPipeline(b, &S3Access{}, in)
}

// BenchmarkCloudTrailPipeline is BenchmarkS3AccessPipeline for 32 MiB of
// generated CloudTrail JSON.
func BenchmarkCloudTrailPipeline(b *testing.B) {
	in := b.TempDir()
	if _, err := gen.GenerateCloudTrail(gen.CloudTrailConfig{Dir: in, Bytes: 32 << 20, Seed: 1, Days: 3}); err != nil {
		b.Fatal(err)
	}
	benchKindPipeline(b, &CloudTrail{}, in)
}

func benchKindPipeline(b *testing.B, kind Kind, in string) {
	b.ReportAllocs()
	cpu := bench.ProcessCPU()
	var s Summary
	for b.Loop() {
		out := b.TempDir()
		var err error
		s, err = Run(context.Background(), Config{Kind: kind, Source: &storage.LocalSource{Root: in},
			Sink: &storage.LocalSink{Root: out}, Workers: 2})
		if err != nil || !s.Balanced {
			b.Fatal(err)
		}
		os.RemoveAll(out)
	}
	b.SetBytes(s.BytesUncompressed)
	b.ReportMetric((bench.ProcessCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}
