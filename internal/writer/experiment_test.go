package writer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"

	"convert/internal/reader"
	"convert/internal/reader/vpcflow"
	"convert/internal/storage"
)

// TestEncodingExperiment compares per-column encodings on real-shaped data:
// CPU per row and file size. It informed the Encodings of each kind.
// Manual: EXPERIMENT_DIR=/path/to/flowlogs go test -run EncodingExperiment -v ./internal/writer
func TestEncodingExperiment(t *testing.T) {
	dir := os.Getenv("EXPERIMENT_DIR")
	if dir == "" {
		t.Skip("EXPERIMENT_DIR not set")
	}
	var recs []arrow.RecordBatch
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || len(recs) > 40 {
			return nil
		}
		f, _ := os.Open(p)
		d, _ := reader.Decode(f)
		rd, err := vpcflow.NewReader(d, vpcflow.Config{Object: p})
		if err != nil {
			t.Fatal(err)
		}
		for rd.Next() {
			r := rd.RecordBatch()
			r.Retain()
			recs = append(recs, r)
		}
		d.Close()
		return nil
	})
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	run := func(name string, props func(*arrow.Schema) []parquet.WriterProperty) {
		out := t.TempDir()
		sink := &storage.LocalSink{Root: out}
		start := time.Now()
		cpu0 := cpuTime()
		f, err := newFileWithExtra(sink, "x.parquet", recs[0].Schema(), props(recs[0].Schema()))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := f.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		info, err := f.Finish()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-28s %6.0f ns/row cpu %6.0f ns/row wall  %7.2f MB  (%d rows)", name,
			float64(cpuTime()-cpu0)/float64(rows), float64(time.Since(start))/float64(rows), float64(info.Bytes)/1e6, rows)
	}
	if os.Getenv("EXPERIMENT_ONLY") == "nodict" {
		for i := 0; i < 3; i++ {
			run("no dict at all, delta ints", func(sc *arrow.Schema) []parquet.WriterProperty {
				var names []string
				for _, f := range sc.Fields() {
					if f.Type.ID() != arrow.STRING {
						names = append(names, f.Name)
					}
				}
				return append(deltaFor(names...), parquet.WithDictionaryDefault(false))
			})
		}
		return
	}
	run("all dict (arrow default)", func(*arrow.Schema) []parquet.WriterProperty { return nil })
	run("dict, delta int64", func(*arrow.Schema) []parquet.WriterProperty {
		return deltaFor("packets", "bytes", "start", "end")
	})
	run("dict strings, delta all ints", func(sc *arrow.Schema) []parquet.WriterProperty {
		var names []string
		for _, f := range sc.Fields() {
			if f.Type.ID() != arrow.STRING {
				names = append(names, f.Name)
			}
		}
		return deltaFor(names...)
	})
	run("plain addrs, delta ints", func(sc *arrow.Schema) []parquet.WriterProperty {
		var names []string
		for _, f := range sc.Fields() {
			if f.Type.ID() != arrow.STRING {
				names = append(names, f.Name)
			}
		}
		return append(deltaFor(names...), parquet.WithDictionaryFor("srcaddr", false), parquet.WithDictionaryFor("dstaddr", false))
	})
	run("no dict at all, delta ints", func(sc *arrow.Schema) []parquet.WriterProperty {
		var names []string
		for _, f := range sc.Fields() {
			if f.Type.ID() != arrow.STRING {
				names = append(names, f.Name)
			}
		}
		return append(deltaFor(names...), parquet.WithDictionaryDefault(false))
	})
	run("dict, delta int64, no stats", func(*arrow.Schema) []parquet.WriterProperty {
		return append(deltaFor("packets", "bytes", "start", "end"), parquet.WithStats(false))
	})
	for _, r := range recs {
		r.Release()
	}
}

func deltaFor(names ...string) []parquet.WriterProperty {
	var p []parquet.WriterProperty
	for _, n := range names {
		p = append(p, parquet.WithDictionaryFor(n, false), parquet.WithEncodingFor(n, parquet.Encodings.DeltaBinaryPacked))
	}
	return p
}
