package writer

import (
	"context"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/storage"
)

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func newFileWithExtra(sink storage.Sink, rel string, sc *arrow.Schema, extra []parquet.WriterProperty) (*File, error) {
	o := Options{}.withDefaults()
	opts := append([]parquet.WriterProperty{
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithCompression(mustCodec("snappy")),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(maxRowGroupRows),
	}, extra...)
	props := parquet.NewWriterProperties(opts...)
	out, err := sink.Create(context.Background(), rel)
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: out}
	fw, err := pqarrow.NewFileWriter(sc, cw, props, arrowWriterProperties(o.Mem))
	if err != nil {
		return nil, err
	}
	return &File{info: FileInfo{Path: rel}, schema: sc, out: out, counter: cw, fw: fw, opts: o}, nil
}

func mustCodec(n string) compress.Compression {
	c, _ := ParseCompression(n)
	return c
}
