package writer

import (
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/bench"
	"convert/internal/schema"
)

// BenchmarkCloudTrailWrite encodes 8 MiB of generated CloudTrail JSON,
// read into batches beforehand, as one file: with pqarrow's FileWriter (the
// writer of nested schemas before), with flatWriter from batches without
// numbers, and with flatWriter from the reader's numbered batches. Batches
// are written in page-sized slices, as File.Write does.
func BenchmarkCloudTrailWrite(b *testing.B) {
	mem := memory.DefaultAllocator
	sc := schema.CloudTrailSchema()
	t := &testing.T{}
	numbered := cloudTrailBatches(t, mem, 3, 8<<20, 8<<10, true)
	defer releaseAll(numbered)
	var plain []arrow.RecordBatch
	var rows int64
	for _, rec := range numbered {
		plain = append(plain, withoutNumbers(rec))
		rows += rec.NumRows()
	}
	defer releaseAll(plain)
	o := Options{Mem: mem}.withDefaults()
	props, err := NewWriterProperties(sc, o)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		batches []arrow.RecordBatch
		pq      bool
	}{{"pqarrow", plain, true}, {"flat", plain, false}, {"numbered", numbered, false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(8 << 20)
			cpu := bench.ProcessCPU()
			for b.Loop() {
				var w arrowFileWriter
				var err error
				if bc.pq {
					w, err = pqarrow.NewFileWriter(sc, io.Discard, props, arrowWriterProperties(mem))
				} else {
					w, err = newFlatWriter(sc, io.Discard, props, arrowWriterProperties(mem))
				}
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range bc.batches {
					step := sliceRows(rec, o.pageBytes())
					for off := int64(0); off < rec.NumRows(); off += step {
						part := SliceBatch(rec, off, min(off+step, rec.NumRows()))
						if err := w.WriteBuffered(part); err != nil {
							b.Fatal(err)
						}
						part.Release()
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((bench.ProcessCPU()-cpu).Nanoseconds())/float64(int64(b.N)*rows), "cpu-ns/row")
		})
	}
}
