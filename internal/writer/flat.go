package writer

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
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

// flatWriter writes batches column by column into arrow-go's buffered row
// group writer: top-level primitive and string columns through
// pqarrow.WriteArrowToColumn, as pqarrow's FileWriter does, and the
// dictionary-encoded string columns of a batch that numbers their values
// through the column writer's WriteDictIndices, so that each value is hashed
// once per batch and not once per row (see dictColumn); nested top-level
// fields (structs, lists, maps) leaf by leaf with levels of their own (see
// nestedField). The file's bytes are those of pqarrow's FileWriter for the
// same batches without numbers, but for the string chunks of nearly unique
// values that dictColumn.probe writes plain from the start.
type flatWriter struct {
	wr     *file.Writer
	rgw    file.BufferedRowGroupWriter
	ctx    context.Context
	schema *arrow.Schema
	mem    memory.Allocator
	levels []int16 // definition levels with NULLs, reused
	ones   []int16 // definition levels of rows without NULLs: all 1
	dicts  []*dictColumn
	// rowIndices is the dictColumns' scratch of dictionary indices.
	rowIndices []int32
	// leaf is the Parquet column of each top-level field's first leaf, and
	// nested the leaves of a nested field (nil for a primitive one).
	leaf   []int
	nested []*nestedField
	closed bool
}

// leafNumbers is implemented by batches that also number the values of
// string leaves of nested columns reached through structs only (one value
// slot per row): leaf is the leaf's Parquet column index.
type leafNumbers interface {
	LeafNumbers(leaf int) (nums []int32, bound int)
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

func (s slicedNumbers) LeafNumbers(leaf int) ([]int32, int) {
	ln, ok := s.parent.(leafNumbers)
	if !ok {
		return nil, 0
	}
	nums, bound := ln.LeafNumbers(leaf)
	if nums == nil {
		return nil, 0
	}
	return nums[s.off : s.off+int(s.NumRows())], bound
}

// SliceBatch is rec.NewSlice(i, j), keeping the value numbers of a batch
// that has them (reader.Indexed), so that the slice's numbered columns are
// still written as dictionary indices.
func SliceBatch(rec arrow.RecordBatch, i, j int64) arrow.RecordBatch {
	part := rec.NewSlice(i, j)
	if vn, ok := rec.(valueNumbers); ok {
		return slicedNumbers{RecordBatch: part, parent: vn, off: int(i)}
	}
	return part
}

// newFlatWriter starts a file as pqarrow.NewFileWriter does, with the Arrow
// schema stored in the footer, its list elements named as pqarrow names
// them. sc must be writable.
func newFlatWriter(sc *arrow.Schema, w io.Writer, props *parquet.WriterProperties, arrProps pqarrow.ArrowWriterProperties) (*flatWriter, error) {
	ps, err := pqarrow.ToParquet(sc, props, arrProps)
	if err != nil {
		return nil, err
	}
	fw := &flatWriter{ctx: pqarrow.NewArrowWriteContext(context.Background(), &arrProps), schema: sc, mem: props.Allocator(),
		dicts: make([]*dictColumn, sc.NumFields()), leaf: make([]int, sc.NumFields()), nested: make([]*nestedField, sc.NumFields())}
	leaves := 0
	for i, f := range sc.Fields() {
		fw.leaf[i] = leaves
		if !flatType(f.Type) {
			paths, ok := leafPaths(f.Type, f.Nullable, nil, nil)
			if !ok {
				return nil, fmt.Errorf("writer: column %s: type %s not supported", f.Name, f.Type)
			}
			nf := &nestedField{leaves: paths, dicts: make([]*dictColumn, len(paths))}
			for k, p := range paths {
				if structLeaf(p) && (leafType(f.Type, p).ID() == arrow.STRING || leafType(f.Type, p).ID() == arrow.BINARY) {
					nf.dicts[k] = &dictColumn{rowIndices: &fw.rowIndices}
				}
			}
			fw.nested[i] = nf
			leaves += len(paths)
			continue
		}
		leaves++
		if f.Type.ID() == arrow.STRING || f.Type.ID() == arrow.BINARY {
			fw.dicts[i] = &dictColumn{rowIndices: &fw.rowIndices}
		}
	}
	if leaves != ps.NumColumns() {
		return nil, fmt.Errorf("writer: %d leaves for %d Parquet columns", leaves, ps.NumColumns())
	}
	meta := make(metadata.KeyValueMetadata, 0)
	for i, k := range sc.Metadata().Keys() {
		meta.Append(k, sc.Metadata().Values()[i])
	}
	meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(normalizeForParquet(sc), props.Allocator())))
	fw.wr, err = file.NewParquetWriterWithError(w, ps.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, err
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
	leafNums, _ := rec.(leafNumbers)
	for i, col := range rec.Columns() {
		if nf := fw.nested[i]; nf != nil {
			if err := fw.writeNested(nf, fw.leaf[i], col, leafNums); err != nil {
				return fmt.Errorf("column %s (%d rows): %w", fw.schema.Field(i).Name, col.Len(), err)
			}
			continue
		}
		cw, err := fw.rgw.Column(fw.leaf[i])
		if err != nil {
			return err
		}
		nullable := fw.schema.Field(i).Nullable
		var levels []int16
		if nullable {
			levels = fw.defLevels(col)
		}
		writeDense := func(a arrow.Array, lv []int16) error {
			reservePlain(cw, a)
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

// writeNested writes the leaves of a nested top-level column, the first
// one to Parquet column first, as pqarrow's FileWriter does: one write of
// each leaf's values with its levels. A string leaf reached through structs
// only whose values the batch numbers (leafNumbers) is written through its
// dictColumn, as a top-level one is.
func (fw *flatWriter) writeNested(nf *nestedField, first int, col arrow.Array, numbers leafNumbers) error {
	if col.Len() == 0 {
		return nil
	}
	defer nf.levels.forget()
	for k, path := range nf.leaves {
		cw, err := fw.rgw.Column(first + k)
		if err != nil {
			return err
		}
		lv, err := nf.levels.build(col, path, fw.mem)
		if err != nil {
			return err
		}
		writeDense := func(a arrow.Array, def []int16) error {
			reservePlain(cw, a)
			return pqarrow.WriteArrowToColumn(fw.ctx, cw, a, def, lv.rep, lv.nullable)
		}
		var nums []int32
		var bound int
		d := nf.dicts[k]
		if d != nil && numbers != nil {
			nums, bound = numbers.LeafNumbers(first + k)
		}
		switch {
		case nums != nil && lv.nullsAtLevels():
			err = d.write(cw, lv.values, nums, bound, lv.def, writeDense)
		case d != nil && lv.rep == nil && (lv.def == nil || len(lv.def) == lv.values.Len()):
			// As values, as a top-level column without numbers is (one
			// slot and level per row, so that the probe can split the
			// write at a row): arrow-go's dictionary gets entries the
			// mirror reads back when numbers come again, and a leaf of
			// nearly unique values (principal ids) falls back to plain.
			err = d.writeValues(cw, lv.values, lv.def, writeDense)
		case d != nil:
			d.start(cw)
			d.stale = true
			d.written += presentValues(lv.values, lv.def, cw.Descr().MaxDefinitionLevel())
			err = writeDense(lv.values, lv.def)
		default:
			err = writeDense(lv.values, lv.def)
		}
		lv.values.Release()
		if err != nil {
			return fmt.Errorf("leaf %d: %w", k, err)
		}
	}
	return nil
}

// reserver is arrow-go's encoder, as far as reservePlain uses it.
type reserver interface{ ReserveForWrite(n int) }

// reservePlain makes room in a PLAIN string column's page buffer for the
// values of a, as far as the page takes them, before they are written.
// arrow-go reserves per write of 1024 values, doubling its buffer each time
// it is short (a copy of the page so far, and a zeroed allocation, several
// times per page); one reservation per batch slice replaces that chain. Only
// the buffer's capacity changes, not what is written.
func reservePlain(cw file.ColumnChunkWriter, a arrow.Array) {
	enc := cw.CurrentEncoder()
	if enc == nil || enc.Encoding() != parquet.Encodings.Plain || cw.Type() != parquet.Types.ByteArray || a.Len() == 0 {
		return
	}
	r, ok := enc.(reserver)
	if !ok {
		return
	}
	valid := int64(a.Len() - a.NullN())
	n := arrayBytes(a) + 4*valid
	// The page ends at the first write of WriteBatchSize values that takes
	// it to the page size: room for what is left of it and one such write.
	left := cw.Properties().DataPageSize() - enc.EstimatedDataEncodedSize()
	batch := int64(cw.Properties().WriteBatchSize())
	step := n * min(batch, valid) / max(valid, 1)
	r.ReserveForWrite(int(min(n, max(left, 0)+step)))
}

// defLevels returns the definition levels of a flat nullable column: 1 for
// a value, 0 for a NULL. The slice is valid until the next call and must
// not be written to: a column without NULLs gets a prefix of fw.ones, and
// one with NULLs a copy of it with the NULLs cleared, a byte of its bitmap
// at a time.
func (fw *flatWriter) defLevels(col arrow.Array) []int16 {
	n := col.Len()
	if len(fw.ones) < n {
		fw.ones = make([]int16, n)
		for i := range fw.ones {
			fw.ones[i] = 1
		}
	}
	if col.NullN() == 0 {
		return fw.ones[:n:n]
	}
	if cap(fw.levels) < n {
		fw.levels = make([]int16, n)
	}
	lv := fw.levels[:n]
	copy(lv, fw.ones)
	bits, off := col.NullBitmapBytes(), col.Data().Offset()
	i := 0
	for ; i < n && (off+i)%8 != 0; i++ {
		if !bitutil.BitIsSet(bits, off+i) {
			lv[i] = 0
		}
	}
	for ; i+8 <= n; i += 8 {
		if b := bits[(off+i)/8]; b != 0xff {
			for j := range 8 {
				lv[i+j] = int16(b >> j & 1)
			}
		}
	}
	for ; i < n; i++ {
		if !bitutil.BitIsSet(bits, off+i) {
			lv[i] = 0
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
