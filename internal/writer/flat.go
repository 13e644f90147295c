package writer

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// arrowFileWriter is what File needs of a Parquet writer: pqarrow's
// FileWriter, or flatWriter for flat schemas.
type arrowFileWriter interface {
	WriteBuffered(rec arrow.RecordBatch) error
	NewBufferedRowGroupChecked() error
	RowGroupTotalBytesWritten() int64
	RowGroupNumRows() (int, error)
	Close() error
}

// valueNumbers is implemented by batches that carry the numbers of the
// values of some string columns (reader.Indexed): equal numbers, equal
// values, each number below bound.
type valueNumbers interface {
	ValueNumbers(col int) (nums []int32, bound int)
}

// flatWriter writes batches of a flat schema (no lists, maps or structs)
// column by column into arrow-go's buffered row group writer: dense columns
// through pqarrow.WriteArrowToColumn, as pqarrow's FileWriter does, and the
// dictionary-encoded string columns of a batch that numbers their values
// through the column writer's WriteDictIndices, so that each value is hashed
// once per batch and not once per row (see dictColumn). The file's bytes are
// those of pqarrow's FileWriter for the same dense batches.
type flatWriter struct {
	wr     *file.Writer
	rgw    file.BufferedRowGroupWriter
	ctx    context.Context
	schema *arrow.Schema
	levels []int16 // definition levels, reused
	dicts  []*dictColumn
	closed bool
}

// slicedNumbers is a slice of a batch with numbered values, with the
// numbers of its rows.
type slicedNumbers struct {
	arrow.RecordBatch
	parent valueNumbers
	off    int
}

func (s slicedNumbers) ValueNumbers(col int) ([]int32, int) {
	nums, bound := s.parent.ValueNumbers(col)
	if nums == nil {
		return nil, 0
	}
	return nums[s.off : s.off+int(s.NumRows())], bound
}

// sliceBatch is rec.NewSlice(i, j), keeping the value numbers.
func sliceBatch(rec arrow.RecordBatch, i, j int64) arrow.RecordBatch {
	part := rec.NewSlice(i, j)
	if vn, ok := rec.(valueNumbers); ok {
		return slicedNumbers{RecordBatch: part, parent: vn, off: int(i)}
	}
	return part
}

// isFlat reports whether every field of sc is a primitive, string or dictionary column.
func isFlat(sc *arrow.Schema) bool {
	for _, f := range sc.Fields() {
		switch f.Type.ID() {
		case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.STRUCT, arrow.MAP,
			arrow.EXTENSION, arrow.RUN_END_ENCODED, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW,
			arrow.SPARSE_UNION, arrow.DENSE_UNION:
			return false
		}
	}
	return true
}

// newFlatWriter starts a file as pqarrow.NewFileWriter does, with the Arrow
// schema stored in the footer (a flat schema needs no renaming of list
// elements).
func newFlatWriter(sc *arrow.Schema, w io.Writer, props *parquet.WriterProperties, arrProps pqarrow.ArrowWriterProperties) (*flatWriter, error) {
	ps, err := pqarrow.ToParquet(sc, props, arrProps)
	if err != nil {
		return nil, err
	}
	meta := make(metadata.KeyValueMetadata, 0)
	for i, k := range sc.Metadata().Keys() {
		meta.Append(k, sc.Metadata().Values()[i])
	}
	meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(sc, props.Allocator())))
	wr, err := file.NewParquetWriterWithError(w, ps.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, err
	}
	fw := &flatWriter{wr: wr, ctx: pqarrow.NewArrowWriteContext(context.Background(), &arrProps), schema: sc,
		dicts: make([]*dictColumn, sc.NumFields())}
	for i, f := range sc.Fields() {
		if f.Type.ID() == arrow.STRING || f.Type.ID() == arrow.BINARY {
			fw.dicts[i] = &dictColumn{}
		}
	}
	return fw, nil
}

func (fw *flatWriter) NewBufferedRowGroupChecked() error {
	if fw.rgw != nil {
		if err := fw.rgw.Close(); err != nil {
			return err
		}
	}
	rgw, err := fw.wr.AppendBufferedRowGroupChecked()
	if err != nil {
		return err
	}
	fw.rgw = rgw
	return nil
}

func (fw *flatWriter) WriteBuffered(rec arrow.RecordBatch) error {
	if fw.rgw == nil {
		if err := fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
	}
	numbers, _ := rec.(valueNumbers)
	for i, col := range rec.Columns() {
		cw, err := fw.rgw.Column(i)
		if err != nil {
			return err
		}
		nullable := fw.schema.Field(i).Nullable
		var levels []int16
		if nullable {
			levels = fw.defLevels(col)
		}
		writeDense := func(a arrow.Array, lv []int16) error {
			return pqarrow.WriteArrowToColumn(fw.ctx, cw, a, lv, nil, nullable)
		}
		if d := fw.dicts[i]; d != nil && numbers != nil {
			if nums, bound := numbers.ValueNumbers(i); nums != nil {
				if err := d.write(cw, col, nums, bound, levels, writeDense); err != nil {
					return fmt.Errorf("column %s (%d rows, %d NULL, numbered): %w", fw.schema.Field(i).Name, col.Len(), col.NullN(), err)
				}
				continue
			}
		}
		if d := fw.dicts[i]; d != nil {
			err = d.writeValues(cw, col, levels, writeDense)
		} else {
			err = writeDense(col, levels)
		}
		if err != nil {
			return fmt.Errorf("column %s (%d rows, %d NULL): %w", fw.schema.Field(i).Name, col.Len(), col.NullN(), err)
		}
	}
	return nil
}

// defLevels returns the definition levels of a flat nullable column: 1 for
// a value, 0 for a NULL. The slice is reused by the next call.
func (fw *flatWriter) defLevels(col arrow.Array) []int16 {
	n := col.Len()
	if cap(fw.levels) < n {
		fw.levels = make([]int16, n)
	}
	lv := fw.levels[:n]
	for i := range lv {
		lv[i] = 1
	}
	if col.NullN() > 0 {
		bits, off := col.NullBitmapBytes(), col.Data().Offset()
		for i := range lv {
			if !bitutil.BitIsSet(bits, off+i) {
				lv[i] = 0
			}
		}
	}
	return lv
}

func (fw *flatWriter) RowGroupTotalBytesWritten() int64 {
	if fw.rgw == nil {
		return 0
	}
	return fw.rgw.TotalBytesWritten()
}

func (fw *flatWriter) RowGroupNumRows() (int, error) {
	if fw.rgw == nil {
		return 0, nil
	}
	return fw.rgw.NumRows()
}

func (fw *flatWriter) Close() error {
	if fw.closed {
		return nil
	}
	fw.closed = true
	var rgErr error
	if fw.rgw != nil {
		rgErr = fw.rgw.Close()
		fw.rgw = nil
	}
	err := fw.wr.Close()
	if rgErr != nil {
		return rgErr
	}
	return err
}
