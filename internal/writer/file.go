package writer

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/storage"
)

// FileInfo describes a finished output file.
type FileInfo struct {
	Path      string `json:"path"`      // relative to the output root
	Partition string `json:"partition"` // Hive partition path
	Rows      int64  `json:"rows"`
	Bytes     int64  `json:"bytes"`
	RowGroups int    `json:"row_groups"`
}

// Budget bounds the bytes buffered in unfinished row groups across all files
// that share it. A file whose write takes the total over the limit flushes
// its own row group, so memory stays bounded however many files are open.
type Budget struct {
	limit   int64
	used    atomic.Int64
	holders atomic.Int64 // files with bytes in an unfinished row group
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit returns the budget's limit in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used returns the bytes currently buffered.
func (b *Budget) Used() int64 { return b.used.Load() }

// minBudgetFlush keeps a crowded budget from cutting tiny row groups.
const minBudgetFlush = 4 << 20

// minCrowdedFlush is the smallest row group a very crowded budget cuts.
const minCrowdedFlush = 256 << 10

// flushFloor is the least a file must buffer to cut its row group for the
// budget: minBudgetFlush, or the budget's share per file holding bytes when
// that is smaller (at least minCrowdedFlush). Without the share, 32 files of
// interleaved days could each hold minBudgetFlush: 128 MiB per unit, far
// over a unit's share of the budget.
func (b *Budget) flushFloor() int64 {
	return min(minBudgetFlush, max(b.limit/max(b.holders.Load(), 1), minCrowdedFlush))
}

// File is one Parquet file being written.
type File struct {
	info     FileInfo
	schema   *arrow.Schema
	out      storage.File
	counter  *countingWriter
	fw       arrowFileWriter
	opts     Options
	buffered int64 // what this file counts against the budget
	// cutPending asks for a new row group before the next write. The cut is
	// lazy because a row group opened and never written would be written to
	// the file as an empty row group.
	cutPending bool
	finished   bool
	committed  bool
}

type countingWriter struct {
	w storage.File
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewFile creates a Parquet file at rel with schema sc.
func NewFile(ctx context.Context, sink storage.Sink, rel, partition string, sc *arrow.Schema, o Options) (*File, error) {
	o = o.withDefaults()
	props, err := NewWriterProperties(sc, o)
	if err != nil {
		return nil, err
	}
	out, err := sink.Create(ctx, rel)
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: out}
	var fw arrowFileWriter
	if writable(sc) {
		fw, err = newFlatWriter(sc, cw, props, arrowWriterProperties(o.Mem))
	} else {
		fw, err = pqarrow.NewFileWriter(sc, cw, props, arrowWriterProperties(o.Mem))
	}
	if err != nil {
		out.Abort()
		return nil, fmt.Errorf("creating %s: %w", rel, err)
	}
	return &File{info: FileInfo{Path: rel, Partition: partition}, schema: sc, out: out, counter: cw, fw: fw, opts: o}, nil
}

// Schema returns the file's schema.
func (f *File) Schema() *arrow.Schema { return f.schema }

// Size estimates the file's size so far: bytes written plus the compressed
// pages of the unfinished row group.
func (f *File) Size() int64 { return f.counter.n + f.fw.RowGroupTotalBytesWritten() }

// Rows returns the rows written so far.
func (f *File) Rows() int64 { return f.info.Rows }

// Write appends rec, whose schema must equal the file's. A row group ends
// once it reaches Options.RowGroupBytes or the shared budget is full.
//
// A batch with a column larger than a data page (rows of long lines) is
// written in slices of about a page of that column: arrow-go checks the page
// size only after each write, so a whole batch would become one page, held
// uncompressed, compressed and copied at once in every open file.
func (f *File) Write(rec arrow.RecordBatch) error {
	n := rec.NumRows()
	step := sliceRows(rec, f.opts.pageBytes())
	if step >= n {
		return f.write(rec)
	}
	for off := int64(0); off < n; off += step {
		part := SliceBatch(rec, off, min(off+step, n))
		err := f.write(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// sliceRows returns how many rows of rec hold about pageBytes of its
// largest column (all of them if that column is smaller).
func sliceRows(rec arrow.RecordBatch, pageBytes int64) int64 {
	n := rec.NumRows()
	var largest int64
	for _, c := range rec.Columns() {
		largest = max(largest, arrayBytes(c))
	}
	if largest <= pageBytes || n <= 1 {
		return n
	}
	return max(1, n*pageBytes/largest)
}

// arrayBytes estimates the bytes of a's values: exact for strings and
// fixed-width types, the buffers of the whole (unsliced) data otherwise.
func arrayBytes(a arrow.Array) int64 {
	var offs []int32
	switch a := a.(type) {
	case *array.String:
		offs = a.ValueOffsets()
	case *array.Binary:
		offs = a.ValueOffsets()
	}
	if len(offs) > 0 {
		return int64(offs[len(offs)-1] - offs[0])
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
		return int64(a.Len()) * int64(max(fw.BitWidth()/8, 1))
	}
	return BufferBytes(a.Data())
}

// HeldBytes adds up the capacities of the buffers of d, of its children
// and of its dictionary: the memory an array keeps from being reused, which
// for pooled buffers (reader.BufferPool hands out up to twice what was
// asked for) and for batches cut short by their text (integer buffers
// sized for a full batch) is more than their lengths.
func HeldBytes(d arrow.ArrayData) int64 {
	return sumBuffers(d, func(b *memory.Buffer) int { return max(cap(b.Buf()), b.Len()) })
}

// BufferBytes adds up the lengths of the buffers of d, of its children and
// of its dictionary.
func BufferBytes(d arrow.ArrayData) int64 {
	return sumBuffers(d, (*memory.Buffer).Len)
}

// sumBuffers adds up size of every buffer of d, of its children and of its
// dictionary.
func sumBuffers(d arrow.ArrayData, size func(*memory.Buffer) int) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(size(b))
		}
	}
	for _, c := range d.Children() {
		n += sumBuffers(c, size)
	}
	if d.DataType().ID() == arrow.DICTIONARY && d.Dictionary() != nil {
		n += sumBuffers(d.Dictionary(), size)
	}
	return n
}

func (f *File) write(rec arrow.RecordBatch) error {
	if f.cutPending {
		if err := f.fw.NewBufferedRowGroupChecked(); err != nil {
			return fmt.Errorf("writing %s: %w", f.info.Path, err)
		}
		f.info.RowGroups++
		f.account(0)
		f.cutPending = false
	}
	rec = withValueBytes(rec)
	defer rec.Release()
	if err := f.fw.WriteBuffered(rec); err != nil {
		return fmt.Errorf("writing %s: %w", f.info.Path, err)
	}
	f.info.Rows += rec.NumRows()
	buffered := f.fw.RowGroupTotalBytesWritten()
	f.account(buffered)
	over := f.opts.Budget != nil && f.opts.Budget.used.Load() > f.opts.Budget.limit && buffered >= f.opts.Budget.flushFloor()
	f.cutPending = buffered >= f.opts.RowGroupBytes || over
	return nil
}

// account records the bytes this file holds in its unfinished row group.
func (f *File) account(buffered int64) {
	if b := f.opts.Budget; b != nil {
		b.used.Add(buffered - f.buffered)
		switch {
		case f.buffered == 0 && buffered > 0:
			b.holders.Add(1)
		case f.buffered > 0 && buffered == 0:
			b.holders.Add(-1)
		}
	}
	f.buffered = buffered
}

// Finish writes the footer. The file is complete but not yet visible.
func (f *File) Finish() (FileInfo, error) {
	if f.finished {
		return f.info, nil
	}
	f.finished = true
	rows, _ := f.fw.RowGroupNumRows()
	if rows > 0 {
		f.info.RowGroups++
	}
	err := f.fw.Close()
	// A unit can hold many finished files until its commit: they keep only
	// their name and sizes, not the writer's buffers and metadata.
	f.fw = nil
	f.account(0)
	if err != nil {
		f.out.Abort()
		return f.info, fmt.Errorf("finishing %s: %w", f.info.Path, err)
	}
	if s, ok := f.out.(storage.Sealer); ok {
		if err := s.Seal(); err != nil {
			f.out.Abort()
			return f.info, fmt.Errorf("finishing %s: %w", f.info.Path, err)
		}
	}
	f.info.Bytes = f.counter.n
	return f.info, nil
}

// Commit publishes a finished file under its name.
func (f *File) Commit() error {
	if !f.finished {
		return errors.New("writer: commit before finish")
	}
	if err := f.out.Commit(); err != nil {
		return err
	}
	f.committed = true
	return nil
}

// Abort discards the file. It is safe at any point and after Commit does
// nothing.
func (f *File) Abort() {
	if f.committed {
		return
	}
	if !f.finished {
		f.finished = true
		_ = f.fw.Close() // releases buffers; the bytes are discarded below
		f.account(0)
	}
	_ = f.out.Abort()
}
