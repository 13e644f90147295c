package s3access

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
	"convert/internal/schema"
)

// DefaultChunkRows is the number of rows in a full record batch.
const DefaultChunkRows = 32 << 10

// Config configures a Reader. Only Object is required.
type Config struct {
	// Object names the input in errors and rejects (a key or a path).
	Object string
	// ChunkRows is the maximum number of rows per batch (DefaultChunkRows if 0).
	ChunkRows int
	// MaxLineBytes bounds a line (reader.DefaultMaxLineBytes if 0).
	MaxLineBytes int
	// Reject receives every line that does not become a row. Nil drops them
	// (they are still counted).
	Reject reader.RejectFunc
	// Mem allocates the batches (memory.DefaultAllocator if nil).
	Mem memory.Allocator
}

// Stats counts what a Reader has seen so far.
type Stats struct {
	Lines    int64 // every line, including blank ones
	Records  int64 // non-blank lines: Rows + Rejected
	Rows     int64 // rows emitted in batches
	Rejected int64 // lines rejected
	// ExtraFields counts rows whose line had fields after sourceregion. AWS
	// documents that it may append fields; they are not in the schema and
	// were dropped.
	ExtraFields int64
	// RepairedUTF8 counts records whose invalid UTF-8 bytes were replaced
	// by U+FFFD (Parquet strings must be valid UTF-8).
	RepairedUTF8 int64
}

// Reader is an array.RecordReader over one access-log object. The batch
// returned by RecordBatch is valid until the next call to Next; Retain it to
// keep it. The schema is always schema.S3AccessSchema.
type Reader struct {
	refs  atomic.Int64
	cfg   Config
	lines *reader.LineReader

	schema    *arrow.Schema
	cols      *columnSet               // nil once released
	strs      [NumFields]*stringColumn // into cols; nil at the bigint columns
	rows      int                      // rows in the batch being filled
	batchSize int64                    // line bytes in the batch being filled
	batchMax  int64                    // maxBatchBytes; lowered by tests

	rec   arrow.RecordBatch
	err   error
	eof   bool
	stats Stats

	f fields // the current line, split; reused

	// secs holds the Unix seconds of the request time of each row of the
	// batch being filled (parsed once, by parseLine); the batch takes it
	// over (Batch.RequestSeconds), so a new one is made for every batch.
	secs []int64
}

var _ array.RecordReader = (*Reader)(nil)

// NewReader starts reading an access-log object (already decompressed, see
// reader.Decode). It reads nothing until the first call to Next.
func NewReader(r io.Reader, cfg Config) (*Reader, error) {
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = DefaultChunkRows
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = reader.DefaultMaxLineBytes
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	sc := schema.S3AccessSchema()
	if len(sc.Fields()) != NumFields {
		return nil, fmt.Errorf("s3access: schema has %d columns, the tokenizer %d", len(sc.Fields()), NumFields)
	}
	rd := &Reader{cfg: cfg, lines: reader.NewLineReader(r, cfg.MaxLineBytes), schema: sc, batchMax: maxBatchBytes}
	for i, f := range sc.Fields() {
		ok := f.Type.ID() == arrow.STRING || f.Type.ID() == arrow.INT64 && (i == fieldBytesSent || i == fieldObjectSize)
		if !ok {
			return nil, fmt.Errorf("s3access: column %s: type %s does not fit the tokenizer", f.Name, f.Type)
		}
	}
	rd.refs.Store(1)
	rd.cols = columnSets.Get().(*columnSet)
	for i, f := range sc.Fields() {
		if f.Type.ID() == arrow.STRING {
			c := &rd.cols.strs[i]
			if numberedFields[i] {
				if c.dict == nil {
					c.dict = reader.NewStringDict()
				}
				c.dict.Reset()
			} else {
				c.dict = nil
			}
			c.numbered = c.dict != nil
			rd.strs[i] = c
		}
	}
	return rd, nil
}

// maxBatchBytes ends a batch early once its lines add up to this much, so
// that a batch of long lines stays bounded in memory (lines just under the
// 1 MiB limit make batches of 16 rows, not 64) and every column's values
// stay far below the 2 GiB that 32-bit string offsets can address. A full
// batch of usual lines (300-500 bytes) holds 10-16 MiB.
const maxBatchBytes = 16 << 20

// Stats returns the counts so far.
func (rd *Reader) Stats() Stats { return rd.stats }

// Counts returns the records seen and rejected so far.
func (rd *Reader) Counts() (records, rejected int64) { return rd.stats.Records, rd.stats.Rejected }

// Warnings returns notes for the run summary: lines with fields this reader
// does not know.
func (rd *Reader) Warnings() []string {
	var w []string
	if rd.stats.ExtraFields > 0 {
		w = append(w, fmt.Sprintf("%d access-log lines had fields after sourceregion (a newer log format?); the extra fields were dropped",
			rd.stats.ExtraFields))
	}
	if rd.stats.RepairedUTF8 > 0 {
		w = append(w, fmt.Sprintf("%d access-log lines held invalid UTF-8; those bytes were replaced by U+FFFD", rd.stats.RepairedUTF8))
	}
	return w
}

// Schema returns schema.S3AccessSchema.
func (rd *Reader) Schema() *arrow.Schema { return rd.schema }

// RecordBatch returns the current batch, valid until the next call to Next.
func (rd *Reader) RecordBatch() arrow.RecordBatch { return rd.rec }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (rd *Reader) Record() arrow.RecordBatch { return rd.rec }

// Err returns the error that ended the iteration, if any.
func (rd *Reader) Err() error { return rd.err }

// Retain increases the reference count.
func (rd *Reader) Retain() { rd.refs.Add(1) }

// Release decreases the reference count and frees the batch at zero; the
// reader returns no more batches then.
func (rd *Reader) Release() {
	if rd.refs.Add(-1) != 0 {
		return
	}
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	// Hand the batch slices to the next reader; a released reader holds no
	// memory.
	if rd.cols != nil {
		rd.strs = [NumFields]*stringColumn{}
		columnSets.Put(rd.cols)
		rd.cols = nil
	}
}

// Next reads the next batch of up to ChunkRows rows.
func (rd *Reader) Next() bool {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	if rd.err != nil || rd.cols == nil {
		return false
	}
	rd.cols.reset()
	rd.rows, rd.batchSize = 0, 0
	rd.secs = make([]int64, 0, cap(rd.secs))
	for !rd.eof && rd.rows < rd.cfg.ChunkRows && rd.batchSize < rd.batchMax {
		line, err := rd.lines.Next()
		switch {
		case err == io.EOF:
			rd.eof = true
			continue
		case errors.Is(err, reader.ErrLineTooLong):
			rd.stats.Lines++
			rd.stats.Records++
			rd.reject(line, true, fmt.Sprintf("%v (limit %d bytes)", err, rd.cfg.MaxLineBytes))
			continue
		case err != nil:
			rd.err = &reader.ParseError{Object: rd.cfg.Object, Line: rd.lines.Line() + 1, Err: err}
			return false
		}
		rd.stats.Lines++
		if rd.handleLine(line) {
			rd.rows++
			rd.batchSize += int64(len(line))
		}
	}
	if rd.rows == 0 {
		return false
	}
	rd.rec = rd.buildBatch()
	return true
}

// buildBatch turns the filled columns into a record batch.
func (rd *Reader) buildBatch() arrow.RecordBatch {
	cols := make([]arrow.Array, NumFields)
	for i, c := range rd.strs {
		switch {
		case c != nil:
			cols[i] = c.array(rd.cfg.Mem)
		case i == fieldBytesSent:
			cols[i] = rd.cols.bytesSent.array(rd.cfg.Mem)
		default:
			cols[i] = rd.cols.objSz.array(rd.cfg.Mem)
		}
	}
	rec := array.NewRecordBatch(rd.schema, cols, int64(rd.rows))
	for _, c := range cols {
		c.Release()
	}
	var idx [][]int32
	var distinct []int
	for i, c := range rd.strs {
		if c == nil {
			continue
		}
		if nums := c.numbers(); nums != nil {
			if idx == nil {
				idx, distinct = make([][]int32, NumFields), make([]int, NumFields)
			}
			idx[i], distinct[i] = nums, c.dict.Len()
		}
	}
	// An Indexed without numbers (idx nil) reports none for every column,
	// as a plain batch would.
	return &Batch{Indexed: reader.NewIndexed(rec, idx, distinct), secs: rd.secs}
}

// Batch is a record batch of the Reader: the value numbers of its string
// columns (reader.Indexed) and the request times the Reader parsed while
// checking each line. A batch that is sliced, taken from or rebuilt is an
// ordinary record batch again, without either.
type Batch struct {
	*reader.Indexed
	secs []int64
}

// RequestSeconds returns the Unix seconds of each row's requestdatetime, as
// RequestTime would parse it (one per row; every row has a valid time).
// The slice belongs to the batch: do not modify it.
func (b *Batch) RequestSeconds() []int64 { return b.secs }

// handleLine turns one line into a row or a reject; it reports whether a row
// was appended.
func (rd *Reader) handleLine(line []byte) bool {
	raw := line
	// AWS never ends a line with a space; an editor or a concatenation might,
	// and a trailing space must not count as an empty extra field.
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 {
		return false
	}
	rd.stats.Records++
	if !utf8.Valid(line) {
		// Parquet strings must be UTF-8: invalid bytes (a hostile user
		// agent, say) become U+FFFD, the record is kept, and it is counted.
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
		rd.stats.RepairedUTF8++
	}
	sent, size, reason := parseLine(line, &rd.f)
	if reason != "" {
		rd.reject(raw, false, reason)
		return false
	}
	rd.appendRow(sent, size)
	rd.stats.Rows++
	if rd.f.extra > 0 {
		rd.stats.ExtraFields++
	}
	return true
}

// Integer values of the two bigint columns; noInt marks NULL.
const noInt = -1

// parseLine splits line into f and checks every field the schema constrains.
// It returns bytessent and objectsize (noInt for NULL), or a reason the line
// must be rejected; then f must not be appended.
func parseLine(line []byte, f *fields) (sent, size int64, reason string) {
	if err := splitLine(line, f); err != nil {
		return 0, 0, fmt.Sprintf("%v: %v", reader.ErrFieldCount, err)
	}
	if f.n < MandatoryFields {
		return 0, 0, fmt.Sprintf("%v: got %d, need at least %d (through versionid)", reader.ErrFieldCount, f.n, MandatoryFields)
	}
	var ok bool
	if f.sec, ok = parseRequestTime(f.v[fieldTime]); !ok {
		return 0, 0, fmt.Sprintf("column requestdatetime: %v: %q", ErrBadTime, f.v[fieldTime])
	}
	if sent, ok = parseCount(f.v[fieldBytesSent]); !ok {
		return 0, 0, fmt.Sprintf("column bytessent: %v: %q", reader.ErrBadInt, f.v[fieldBytesSent])
	}
	if size, ok = parseCount(f.v[fieldObjectSize]); !ok {
		return 0, 0, fmt.Sprintf("column objectsize: %v: %q", reader.ErrBadInt, f.v[fieldObjectSize])
	}
	return sent, size, ""
}

// parseCount parses a byte count: "-" is NULL (noInt), otherwise decimal
// digits that fit an int64.
func parseCount(b []byte) (int64, bool) {
	if isNull(b) {
		return noInt, true
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

func isNull(b []byte) bool { return len(b) == 1 && b[0] == '-' }

// appendRow appends the split line to the columns. It cannot fail.
func (rd *Reader) appendRow(sent, size int64) {
	f := &rd.f
	for i, c := range rd.strs {
		if c == nil {
			continue
		}
		if i >= f.n || isNull(f.v[i]) {
			c.appendNull()
			continue
		}
		c.append(f.v[i])
	}
	rd.cols.bytesSent.appendCount(sent)
	rd.cols.objSz.appendCount(size)
	rd.secs = append(rd.secs, f.sec)
}

func (rd *Reader) reject(raw []byte, truncated bool, reason string) {
	rd.stats.Rejected++
	if rd.cfg.Reject != nil {
		rd.cfg.Reject(reader.Reject{Object: rd.cfg.Object, Line: rd.lines.Line(), Reason: reason, Raw: raw, Truncated: truncated})
	}
}
