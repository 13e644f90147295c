package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/storage"
	"convert/internal/writer"
)

// compactBatchRows is the batch size compaction reads committed files in.
const compactBatchRows = 32 << 10

// compactStreamBytes is the read buffer of a column chunk: on S3 every fill
// is one ranged GET.
const compactStreamBytes = 1 << 20

// openCommitted opens a committed output file for reading.
func openCommitted(ctx context.Context, sink storage.Sink, f writer.FileInfo, mem memory.Allocator) (*pqarrow.FileReader, func(), error) {
	rr, ok := sink.(storage.RangeReader)
	if !ok {
		return nil, nil, fmt.Errorf("%s cannot be read by range", sink)
	}
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = compactStreamBytes
	pf, err := file.NewParquetReader(storage.NewRangeFile(ctx, rr, f.Path, f.Bytes), file.WithReadProps(props))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: compactBatchRows}, mem)
	if err != nil {
		pf.Close()
		return nil, nil, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	if pf.NumRows() != f.Rows {
		pf.Close()
		return nil, nil, fmt.Errorf("%s has %d rows, the ledger says %d; run convert verify", f.Path, pf.NumRows(), f.Rows)
	}
	return fr, func() { pf.Close() }, nil
}

// committedSchema reads the Arrow schema of a committed file from its footer.
func committedSchema(ctx context.Context, sink storage.Sink, f writer.FileInfo, mem memory.Allocator) (*arrow.Schema, error) {
	fr, done, err := openCommitted(ctx, sink, f, mem)
	if err != nil {
		return nil, err
	}
	defer done()
	sc, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("reading the schema of %s: %w", f.Path, err)
	}
	return sc, nil
}

// streamCommitted calls fn with every batch of a committed file, row group by
// row group; a batch is valid during the call.
func streamCommitted(ctx context.Context, sink storage.Sink, f writer.FileInfo, mem memory.Allocator, fn func(arrow.RecordBatch) error) (int64, error) {
	fr, done, err := openCommitted(ctx, sink, f, mem)
	if err != nil {
		return 0, err
	}
	defer done()
	var rows int64
	for rg := 0; rg < fr.ParquetReader().NumRowGroups(); rg++ {
		rr, err := fr.GetRecordReader(ctx, nil, []int{rg})
		if err != nil {
			return rows, fmt.Errorf("reading %s, row group %d: %w", f.Path, rg, err)
		}
		for rr.Next() {
			rec := rr.RecordBatch()
			rows += rec.NumRows()
			if err := fn(rec); err != nil {
				rr.Release()
				return rows, err
			}
		}
		err = rr.Err()
		rr.Release()
		if err != nil && !errors.Is(err, io.EOF) {
			return rows, fmt.Errorf("reading %s, row group %d: %w", f.Path, rg, err)
		}
	}
	return rows, nil
}

// unionSchema merges schemas by column name into order; a column of two
// types is an error (a file convert did not write, or a schema change
// between versions that compaction must not paper over).
func unionSchema(schemas []*arrow.Schema, order func([]arrow.Field) []arrow.Field) (*arrow.Schema, error) {
	var fields []arrow.Field
	byName := map[string]arrow.DataType{}
	for _, sc := range schemas {
		for _, f := range sc.Fields() {
			t, ok := byName[f.Name]
			if !ok {
				byName[f.Name] = f.Type
				f.Metadata = arrow.Metadata{}
				fields = append(fields, f)
				continue
			}
			if !arrow.TypeEqual(t, f.Type) {
				return nil, fmt.Errorf("column %s is %s in one file and %s in another", f.Name, t, f.Type)
			}
		}
	}
	return arrow.NewSchema(order(fields), nil), nil
}

// conformTo returns rec with the columns of sc in sc's order; columns rec
// lacks are NULL. The result must be released.
func conformTo(rec arrow.RecordBatch, sc *arrow.Schema, mem memory.Allocator) arrow.RecordBatch {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, sc.NumFields())
	for i, f := range sc.Fields() {
		if idx := rec.Schema().FieldIndices(f.Name); len(idx) > 0 {
			cols[i] = rec.Column(idx[0])
			cols[i].Retain()
		} else {
			cols[i] = array.MakeArrayOfNull(mem, f.Type, n)
		}
	}
	out := array.NewRecordBatch(sc, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out
}
