package vpcflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/reader"
	"convert/internal/schema"
)

// ParquetMagic starts and ends every Parquet file.
var ParquetMagic = []byte("PAR1")

// IsParquet reports whether the first bytes of an object are the Parquet
// magic bytes.
func IsParquet(head []byte) bool { return bytes.HasPrefix(head, ParquetMagic) }

// ErrParquetColumn means a column of a Parquet object has a type that cannot
// be mapped onto its flow-log column (a list, a struct, a float where an
// integer is documented).
var ErrParquetColumn = errors.New("unsupported Parquet column")

// parquetStreamBytes is the read buffer of a column chunk: pages are read
// through it, so that a row group costs its decoded batch, not its bytes.
const parquetStreamBytes = 1 << 20

// ParquetConfig configures a ParquetReader. Only Object is required.
type ParquetConfig struct {
	// Object names the input in errors and rejects.
	Object string
	// ChunkRows is the maximum number of rows per batch (DefaultChunkRows if 0).
	ChunkRows int
	// Reject receives every row that does not become a row of the output.
	Reject reader.RejectFunc
	// Mem allocates the batches (memory.DefaultAllocator if nil).
	Mem memory.Allocator
}

// ParquetReader is an array.RecordReader over one flow-log object that AWS
// delivered as Parquet (FileFormat parquet). It maps the object's columns by
// name onto the columns and types of the text path (schema.VPCColumn), so
// that text and Parquet deliveries make the same rows:
//
//   - names: AWS's underscore names (account_id) and the hyphenated field
//     names (account-id) are both accepted, in any case;
//   - integers of any width are written at the width the schema declares:
//     AWS's INT_32 protocol becomes the seed's bigint, INT_64 values of an
//     int column (transit-gateway logs) are kept when they fit and rejected
//     with the row when they do not;
//   - a string in an integer column is parsed as the text path parses it, an
//     integer in a string column is written in decimal;
//   - NULL and "-" are NULL in every column, as in text;
//   - unknown columns become string columns, as unknown header fields do;
//   - invalid UTF-8 in strings is replaced by U+FFFD (counted).
//
// It reads row group by row group, through a buffered stream of each column
// chunk: memory is one batch of decoded values and a page buffer per column,
// whatever the size of the object. The batch returned by RecordBatch is
// valid until the next call to Next.
type ParquetReader struct {
	refs    atomic.Int64
	cfg     ParquetConfig
	pf      *file.Reader
	fr      *pqarrow.FileReader
	closer  func() error // closes what the reader was opened on, if it owns it
	inputs  []parquetInput
	colIdx  []int // leaf column indices to read
	schema  *arrow.Schema
	unknown []string

	rg   int                  // next row group
	rr   pqarrow.RecordReader // reader of the current row group
	row  int64                // rows of the object before the current input batch
	rec  arrow.RecordBatch
	err  error
	done bool

	stats Stats
	line  []byte // a rejected row rendered as text; reused
}

var _ array.RecordReader = (*ParquetReader)(nil)

// parquetInput is one top-level column of the object and the output column it
// becomes.
type parquetInput struct {
	source string // the column name in the object
	out    arrow.Field
	kind   columnKind
}

// NewParquetReader opens a Parquet flow-log object for reading. The object
// must support random access (Parquet keeps its schema in a footer); see
// SpillParquet for a stream.
func NewParquetReader(ra parquet.ReaderAtSeeker, cfg ParquetConfig) (*ParquetReader, error) {
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = DefaultChunkRows
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	props := parquet.NewReaderProperties(cfg.Mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = parquetStreamBytes
	pf, err := file.NewParquetReader(ra, file.WithReadProps(props))
	if err != nil {
		return nil, &reader.ParseError{Object: cfg.Object, Err: fmt.Errorf("%w: Parquet footer: %w", reader.ErrCorruptObject, err)}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(cfg.ChunkRows)}, cfg.Mem)
	if err != nil {
		pf.Close()
		return nil, &reader.ParseError{Object: cfg.Object, Err: fmt.Errorf("%w: Parquet schema: %w", reader.ErrCorruptObject, err)}
	}
	rd := &ParquetReader{cfg: cfg, pf: pf, fr: fr}
	rd.refs.Store(1)
	if err := rd.mapColumns(); err != nil {
		pf.Close()
		return nil, err
	}
	return rd, nil
}

// mapColumns resolves the object's top-level columns to output columns.
func (rd *ParquetReader) mapColumns() error {
	seen := map[string]int{}
	var fields []arrow.Field
	for _, sf := range rd.fr.Manifest.Fields {
		name := sf.Field.Name
		if !sf.IsLeaf() {
			return &reader.ParseError{Object: rd.cfg.Object, Column: name,
				Err: fmt.Errorf("%w: nested type %s", ErrParquetColumn, sf.Field.Type)}
		}
		f, known := schema.VPCColumn(strings.ToLower(name))
		if !known {
			rd.unknown = append(rd.unknown, name)
		}
		if !convertible(sf.Field.Type, f.Type) {
			return &reader.ParseError{Object: rd.cfg.Object, Column: name,
				Err: fmt.Errorf("%w: %s cannot become %s", ErrParquetColumn, sf.Field.Type, f.Type)}
		}
		if n := seen[f.Name]; n > 0 {
			f.Name = fmt.Sprintf("%s_%d", f.Name, n+1)
		}
		seen[f.Name]++
		in := parquetInput{source: name, out: f, kind: kindString}
		switch f.Type.ID() {
		case arrow.INT32:
			in.kind = kindInt32
		case arrow.INT64:
			in.kind = kindInt64
		}
		rd.inputs = append(rd.inputs, in)
		rd.colIdx = append(rd.colIdx, sf.ColIndex)
		fields = append(fields, f)
	}
	rd.schema = arrow.NewSchema(fields, nil)
	return nil
}

// convertible says whether values of Parquet-read type from can be written to
// an output column of type to.
func convertible(from, to arrow.DataType) bool {
	if d, ok := from.(*arrow.DictionaryType); ok {
		from = d.ValueType
	}
	switch from.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return true
	case arrow.BOOL, arrow.FLOAT32, arrow.FLOAT64:
		return to.ID() == arrow.STRING
	}
	return false
}

// Schema returns the layout of every batch.
func (rd *ParquetReader) Schema() *arrow.Schema { return rd.schema }

// RecordBatch returns the current batch, valid until the next call to Next.
func (rd *ParquetReader) RecordBatch() arrow.RecordBatch { return rd.rec }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (rd *ParquetReader) Record() arrow.RecordBatch { return rd.rec }

// Err returns the error that ended the iteration, if any.
func (rd *ParquetReader) Err() error { return rd.err }

// Stats returns the counts so far. Records and Rows count Parquet rows;
// Lines and Headers stay zero.
func (rd *ParquetReader) Stats() Stats { return rd.stats }

// UnknownFields returns the columns that are not documented flow-log fields;
// they were read as string columns.
func (rd *ParquetReader) UnknownFields() []string { return rd.unknown }

// NumRows is the number of rows the object's footer declares.
func (rd *ParquetReader) NumRows() int64 { return rd.pf.NumRows() }

// Retain increases the reference count.
func (rd *ParquetReader) Retain() { rd.refs.Add(1) }

// Release decreases the reference count and, at zero, frees the batch and
// closes the object.
func (rd *ParquetReader) Release() {
	if rd.refs.Add(-1) != 0 {
		return
	}
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	if rd.rr != nil {
		rd.rr.Release()
		rd.rr = nil
	}
	_ = rd.pf.Close()
	if rd.closer != nil {
		_ = rd.closer()
		rd.closer = nil
	}
}

// Next reads the next batch: the rows of up to ChunkRows rows of the object
// that map onto the schema (the others are rejected).
func (rd *ParquetReader) Next() bool {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	for rd.err == nil && !rd.done {
		in, ok := rd.nextInput()
		if !ok {
			return false
		}
		rec, err := rd.convert(in)
		rd.row += in.NumRows()
		if err != nil {
			rd.err = err
			return false
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		rd.rec = rec
		return true
	}
	return false
}

// nextInput returns the next batch of the object as pqarrow read it, moving
// to the next row group when one ends. The batch belongs to the row group's
// reader.
func (rd *ParquetReader) nextInput() (arrow.RecordBatch, bool) {
	for {
		if rd.rr != nil {
			if rd.rr.Next() {
				return rd.rr.RecordBatch(), true
			}
			err := rd.rr.Err()
			rd.rr.Release()
			rd.rr = nil
			if err != nil {
				rd.err = &reader.ParseError{Object: rd.cfg.Object, Record: rd.row + 1,
					Err: fmt.Errorf("%w: row group %d: %w", reader.ErrCorruptObject, rd.rg-1, err)}
				return nil, false
			}
		}
		if rd.rg >= rd.pf.NumRowGroups() || len(rd.colIdx) == 0 {
			rd.done = true
			return nil, false
		}
		rr, err := rd.fr.GetRecordReader(context.Background(), rd.colIdx, []int{rd.rg})
		rd.rg++
		if err != nil {
			rd.err = &reader.ParseError{Object: rd.cfg.Object,
				Err: fmt.Errorf("%w: row group %d: %w", reader.ErrCorruptObject, rd.rg-1, err)}
			return nil, false
		}
		rd.rr = rr
	}
}

// cell reads the values of one input column.
type cell struct {
	arr  arrow.Array
	dict *array.Dictionary // the column, when dictionary-encoded; arr is its dictionary then
}

func newCell(a arrow.Array) cell {
	if d, ok := a.(*array.Dictionary); ok {
		return cell{arr: d.Dictionary(), dict: d}
	}
	return cell{arr: a}
}

func (c cell) null(i int) bool {
	if c.dict != nil {
		return c.dict.IsNull(i) || c.arr.IsNull(c.dict.GetValueIndex(i))
	}
	return c.arr.IsNull(i)
}

func (c cell) index(i int) int {
	if c.dict != nil {
		return c.dict.GetValueIndex(i)
	}
	return i
}

// integer returns the value as an int64; ok is false when it is not an
// integer (a string that does not parse) or does not fit (a uint64 above the
// int64 range).
func (c cell) integer(i int) (int64, bool) { return c.integerAt(c.index(i)) }

// integerAt is integer at an index of c.arr.
func (c cell) integerAt(i int) (int64, bool) {
	switch a := c.arr.(type) {
	case *array.Int8:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int64:
		return a.Value(i), true
	case *array.Uint8:
		return int64(a.Value(i)), true
	case *array.Uint16:
		return int64(a.Value(i)), true
	case *array.Uint32:
		return int64(a.Value(i)), true
	case *array.Uint64:
		v := a.Value(i)
		return int64(v), v <= 1<<63-1
	}
	return parseInt(c.bytesAt(i, nil))
}

// bytes appends the value in its text form to buf (strings as they are).
func (c cell) bytes(i int, buf []byte) []byte { return c.bytesAt(c.index(i), buf) }

// bytesAt is bytes at an index of c.arr.
func (c cell) bytesAt(i int, buf []byte) []byte {
	switch a := c.arr.(type) {
	case *array.String:
		return append(buf, a.Value(i)...)
	case *array.LargeString:
		return append(buf, a.Value(i)...)
	case *array.Binary:
		return append(buf, a.Value(i)...)
	case *array.LargeBinary:
		return append(buf, a.Value(i)...)
	case *array.Boolean:
		return strconv.AppendBool(buf, a.Value(i))
	case *array.Float32:
		return strconv.AppendFloat(buf, float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.AppendFloat(buf, a.Value(i), 'g', -1, 64)
	case *array.Uint64:
		return strconv.AppendUint(buf, a.Value(i), 10)
	}
	v, _ := c.integerAt(i)
	return strconv.AppendInt(buf, v, 10)
}

func (c cell) isText() bool {
	switch c.arr.DataType().ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return true
	}
	return false
}

// isDash reports whether a text value is "-", the flow logs' NULL.
func (c cell) isDash(i int) bool {
	if !c.isText() {
		return false
	}
	i = c.index(i)
	switch a := c.arr.(type) {
	case *array.String:
		return a.Value(i) == "-"
	case *array.LargeString:
		return a.Value(i) == "-"
	case *array.Binary:
		v := a.Value(i)
		return len(v) == 1 && v[0] == '-'
	case *array.LargeBinary:
		v := a.Value(i)
		return len(v) == 1 && v[0] == '-'
	}
	return false
}

// outColumn builds one output column.
type outColumn struct {
	kind columnKind
	i32  *array.Int32Builder
	i64  *array.Int64Builder
	str  *array.StringBuilder
}

// convert maps one input batch onto the schema, rejecting the rows that do
// not fit.
func (rd *ParquetReader) convert(in arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(in.NumRows())
	cells := make([]cell, len(rd.inputs))
	for j := range rd.inputs {
		cells[j] = newCell(in.Column(j))
	}
	outs := make([]outColumn, len(rd.inputs))
	for j, inp := range rd.inputs {
		o := outColumn{kind: inp.kind}
		switch inp.kind {
		case kindInt32:
			o.i32 = array.NewInt32Builder(rd.cfg.Mem)
			o.i32.Reserve(n)
		case kindInt64:
			o.i64 = array.NewInt64Builder(rd.cfg.Mem)
			o.i64.Reserve(n)
		default:
			o.str = array.NewStringBuilder(rd.cfg.Mem)
			o.str.Reserve(n)
		}
		outs[j] = o
	}
	defer func() {
		for _, o := range outs {
			switch o.kind {
			case kindInt32:
				o.i32.Release()
			case kindInt64:
				o.i64.Release()
			default:
				o.str.Release()
			}
		}
	}()
	nums := make([]int64, len(rd.inputs))
	valid := make([]bool, len(rd.inputs))
	var text []byte
	rows := 0
	for i := 0; i < n; i++ {
		rd.stats.Records++
		if reason := rd.check(cells, i, nums, valid); reason != "" {
			rd.rejectRow(cells, i, reason)
			continue
		}
		repaired := false
		for j := range outs {
			o := &outs[j]
			switch {
			case !valid[j]:
				switch o.kind {
				case kindInt32:
					o.i32.AppendNull()
				case kindInt64:
					o.i64.AppendNull()
				default:
					o.str.AppendNull()
				}
			case o.kind == kindInt32:
				o.i32.Append(int32(nums[j]))
			case o.kind == kindInt64:
				o.i64.Append(nums[j])
			default:
				text = cells[j].bytes(i, text[:0])
				if !utf8.Valid(text) {
					text = bytes.ToValidUTF8(text, []byte("\uFFFD"))
					repaired = true
				}
				o.str.BinaryBuilder.Append(text)
			}
		}
		if repaired {
			rd.stats.RepairedUTF8++
		}
		rows++
		rd.stats.Rows++
	}
	cols := make([]arrow.Array, len(outs))
	for j, o := range outs {
		switch o.kind {
		case kindInt32:
			cols[j] = o.i32.NewArray()
		case kindInt64:
			cols[j] = o.i64.NewArray()
		default:
			cols[j] = o.str.NewArray()
		}
	}
	rec := array.NewRecordBatch(rd.schema, cols, int64(rows))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// check reads the integer values of row i into nums and which values are
// non-NULL into valid; it returns why the row must be rejected, or "".
func (rd *ParquetReader) check(cells []cell, i int, nums []int64, valid []bool) string {
	for j, inp := range rd.inputs {
		c := cells[j]
		if c.null(i) || c.isDash(i) {
			valid[j] = false
			continue
		}
		valid[j] = true
		if inp.kind == kindString {
			continue
		}
		v, ok := c.integer(i)
		if ok && inp.kind == kindInt32 && (v < -1<<31 || v > 1<<31-1) {
			ok = false
		}
		if !ok {
			return badInt(inp.out.Name, c.bytes(i, nil))
		}
		nums[j] = v
	}
	return ""
}

// rejectRow hands row i to Config.Reject as the text line it would have been
// in a text delivery (the object's columns in order, NULL as "-"), with its
// 1-based row number in the object as the line.
func (rd *ParquetReader) rejectRow(cells []cell, i int, reason string) {
	rd.stats.Rejected++
	if rd.cfg.Reject == nil {
		return
	}
	rd.line = rd.line[:0]
	for j, c := range cells {
		if j > 0 {
			rd.line = append(rd.line, ' ')
		}
		if c.null(i) {
			rd.line = append(rd.line, '-')
			continue
		}
		rd.line = c.bytes(i, rd.line)
	}
	raw, truncated := rd.line, false
	if len(raw) > reader.MaxRejectRawBytes {
		raw, truncated = raw[:reader.MaxRejectRawBytes], true
	}
	rd.cfg.Reject(reader.Reject{Object: rd.cfg.Object, Line: rd.row + int64(i) + 1,
		Reason: reason, Raw: raw, Truncated: truncated})
}
