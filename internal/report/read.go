package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/storage"
)

// readBatchRows is the number of rows per Arrow batch read.
const readBatchRows = 32 << 10

// readFile reads the columns of paths (dotted leaf paths such as
// "useridentity.arn") of one Parquet file, calling fn for each batch. A
// column the file lacks is NULL in every row, as Athena reads it.
func readFile(ctx context.Context, sink storage.Sink, obj storage.Object, paths []string, fn func(*batch) error) error {
	r, err := openReaderAt(ctx, sink, obj)
	if err != nil {
		return fmt.Errorf("%s: %w", obj.Key, err)
	}
	defer r.Close()
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	pf, err := file.NewParquetReader(r, file.WithReadProps(props))
	if err != nil {
		return fmt.Errorf("%s: %w", obj.Key, err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	var leaves []int
	for _, p := range paths {
		if i := sc.ColumnIndexByName(p); i >= 0 {
			leaves = append(leaves, i)
		}
	}
	if len(leaves) == 0 {
		// None of the columns: every row is NULL in all of them.
		return fn(&batch{rows: int(pf.NumRows())})
	}
	// Not a checked allocator: arrow-go's DELTA_BINARY_PACKED decoder keeps
	// a small buffer per column (see internal/parquettest).
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%s: %w", obj.Key, err)
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", obj.Key, err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		if err := fn(&batch{rec: rec, rows: int(rec.NumRows())}); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", obj.Key, err)
	}
	return nil
}

// readerAt is what the Parquet reader needs of a file.
type readerAt interface {
	parquet.ReaderAtSeeker
	io.Closer
}

// openReaderAt opens a committed object for random access: a local file
// directly, anything else (S3) by ranged reads.
func openReaderAt(ctx context.Context, sink storage.Sink, obj storage.Object) (readerAt, error) {
	if ls, ok := sink.(*storage.LocalSink); ok {
		c, err := storage.CleanRel(obj.Key)
		if err != nil {
			return nil, err
		}
		return os.Open(filepath.Join(ls.Root, filepath.FromSlash(c)))
	}
	rr, ok := sink.(storage.RangeReader)
	if !ok {
		return nil, fmt.Errorf("report: %s cannot read ranges of its objects", sink)
	}
	return storage.NewRangeFile(ctx, rr, obj.Key, obj.Size), nil
}

// batch is one Arrow batch of a file, with NULL for the columns it lacks.
type batch struct {
	rec  arrow.RecordBatch
	rows int
}

// column finds a column by a dotted path (struct children by name).
func (b *batch) column(path string) arrow.Array {
	if b.rec == nil {
		return nil
	}
	parts := strings.Split(path, ".")
	idx := b.rec.Schema().FieldIndices(parts[0])
	if len(idx) == 0 {
		return nil
	}
	arr := b.rec.Column(idx[0])
	for _, p := range parts[1:] {
		st, ok := arr.(*array.Struct)
		if !ok {
			return nil
		}
		i, ok := st.DataType().(*arrow.StructType).FieldIdx(p)
		if !ok {
			return nil
		}
		child := st.Field(i)
		if st.NullN() > 0 {
			// A NULL struct makes its children NULL.
			child = &nullMasked{Array: child, parent: st}
		}
		arr = child
	}
	return arr
}

// nullMasked is a struct child whose rows are NULL where the struct is.
type nullMasked struct {
	arrow.Array
	parent arrow.Array
}

func (m *nullMasked) IsNull(i int) bool { return m.parent.IsNull(i) || m.Array.IsNull(i) }

// strCol reads a string column: plain, large, binary or dictionary-encoded.
type strCol struct {
	arr  arrow.Array
	get  func(int) string
	dict *array.Dictionary
}

func (b *batch) strs(path string) strCol {
	arr := b.column(path)
	c := strCol{arr: arr}
	if arr == nil {
		return c
	}
	inner := arr
	if m, ok := arr.(*nullMasked); ok {
		inner = m.Array
	}
	if d, ok := inner.(*array.Dictionary); ok {
		c.dict = d
		inner = d.Dictionary()
	}
	switch a := inner.(type) {
	case *array.String:
		c.get = a.Value
	case *array.LargeString:
		c.get = a.Value
	case *array.Binary:
		c.get = a.ValueString
	default:
		c.arr = nil // not a string column: read as NULL
	}
	return c
}

func (c strCol) at(i int) cell {
	if c.arr == nil || c.arr.IsNull(i) {
		return cell{}
	}
	if c.dict != nil {
		return cell{str: c.get(c.dict.GetValueIndex(i)), valid: true}
	}
	return cell{str: c.get(i), valid: true}
}

// intCol reads an integer column (int32 or int64).
type intCol struct {
	arr arrow.Array
	get func(int) int64
}

func (b *batch) ints(path string) intCol {
	arr := b.column(path)
	c := intCol{arr: arr}
	inner := arr
	if m, ok := arr.(*nullMasked); ok {
		inner = m.Array
	}
	switch a := inner.(type) {
	case *array.Int64:
		c.get = a.Value
	case *array.Int32:
		c.get = func(i int) int64 { return int64(a.Value(i)) }
	default:
		c.arr = nil
	}
	return c
}

func (c intCol) at(i int) cell {
	if c.arr == nil || c.arr.IsNull(i) {
		return cell{}
	}
	return cell{num: c.get(i), valid: true}
}

// boolCol reads a boolean column: 0 false, 1 true, -1 NULL.
type boolCol struct{ arr *array.Boolean }

func (b *batch) bools(path string) boolCol {
	a, _ := b.column(path).(*array.Boolean)
	return boolCol{a}
}

func (c boolCol) at(i int) int {
	switch {
	case c.arr == nil || c.arr.IsNull(i):
		return -1
	case c.arr.Value(i):
		return 1
	}
	return 0
}
