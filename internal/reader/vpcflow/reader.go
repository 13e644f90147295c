package vpcflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/goccy/go-json"

	"convert/internal/reader"
	"convert/internal/schema"
)

// DefaultChunkRows is the number of rows in a full record batch.
const DefaultChunkRows = 32 << 10

// Config configures a Reader. Only Object is required.
type Config struct {
	// Object names the input in errors and rejects (a key or a path).
	Object string
	// Fields is the field list for an object without a header line. A header
	// line in the object takes precedence.
	Fields []string
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
	Lines    int64 // every line, including headers and blank lines
	Records  int64 // data lines: Rows + Rejected
	Rows     int64 // rows emitted in batches
	Rejected int64 // data lines rejected
	Headers  int64 // header lines, including repeated ones
	// RepairedUTF8 counts records whose invalid UTF-8 bytes were replaced
	// by U+FFFD.
	RepairedUTF8 int64
}

// Reader is an array.RecordReader over one flow-log object. The batch returned
// by RecordBatch is valid until the next call to Next; Retain it to keep it.
// Its buffers go back to a pool for later batches once every holder of them
// (the batch, a column, a slice) released them, so a value read without a
// copy (array.String.Value) is valid only while something holds its column.
// Schema is the layout of the current batch: it changes only when the object
// holds a header line with a different field list.
type Reader struct {
	refs  atomic.Int64
	cfg   Config
	lines *reader.LineReader

	layout  *layout
	pending *layout // a new layout seen mid-batch, applied at the next Next
	cur     batch
	rec     arrow.RecordBatch
	err     error
	eof     bool
	stats   Stats
	unknown map[string]bool
	// assumedDefault records that the object had no header and no field list
	// was given, and its first line was read as the default format.
	assumedDefault bool

	firstLine   []byte // the first data line, read while looking for a header
	firstLineNo int64

	// bounds[i+1] is the end offset of field i of the current line, and
	// bounds[0] is -1: field i starts at bounds[i]+1. ends is bounds[1:].
	bounds []int32
	ends   []int32
	// nullInts lists the integer columns that are NULL ("-") in the line
	// parseRow parsed last; their values went to the batch as 0.
	nullInts []int
}

var _ array.RecordReader = (*Reader)(nil)

// layout is one field list resolved to typed columns.
type layout struct {
	header  []byte // the header line as it appears, to recognise repeats
	columns []column
	schema  *arrow.Schema
	ints    int // how many integer columns there are
}

type columnKind uint8

const (
	kindString columnKind = iota
	kindInt32
	kindInt64
)

type column struct {
	name string
	kind columnKind
}

// NewReader starts reading a flow-log object. It reads up to the first
// non-blank line to find the layout. An object without a header line and
// without Config.Fields fails with reader.ErrNoHeader, unless its first line
// is plainly the default format (14 fields, version 2).
func NewReader(r io.Reader, cfg Config) (*Reader, error) {
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = DefaultChunkRows
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	rd := &Reader{cfg: cfg, lines: reader.NewLineReader(r, cfg.MaxLineBytes), unknown: map[string]bool{}}
	rd.refs.Store(1)
	if len(cfg.Fields) > 0 {
		rd.setLayout(rd.newLayout(cfg.Fields, nil))
	}
	if err := rd.readFirstLine(); err != nil {
		return nil, err
	}
	return rd, nil
}

// readFirstLine finds the layout from the first non-blank line; a data line is
// pushed back by keeping it in rd.first.
func (rd *Reader) readFirstLine() error {
	for {
		line, err := rd.lines.Next()
		if err == io.EOF {
			rd.eof = true
			if rd.layout == nil {
				rd.setLayout(rd.newLayout(schema.VPCDefaultFormat, nil))
			}
			return nil
		}
		rd.stats.Lines++
		if errors.Is(err, reader.ErrLineTooLong) {
			if rd.layout == nil {
				return rd.errorf(reader.ErrNoHeader, "first line is over the line size limit; give --fields")
			}
			rd.stats.Records++
			rd.reject(line, true, err.Error())
			continue
		}
		if err != nil {
			return &reader.ParseError{Object: rd.cfg.Object, Line: rd.lines.Line(), Err: err}
		}
		line = reader.TrimBOM(line)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if fields, ok := headerFields(line); ok {
			rd.stats.Headers++
			rd.setLayout(rd.newLayout(fields, line))
			return nil
		}
		if rd.layout == nil {
			probe := line
			if probe[0] == '{' {
				if msg, ok := unwrapMessage(probe); ok {
					probe = msg
				}
			}
			if !looksLikeDefaultFormat(bytes.TrimRight(probe, " \t")) {
				return rd.errorf(reader.ErrNoHeader, "give the flow log's format with --fields")
			}
			rd.assumedDefault = true
			rd.setLayout(rd.newLayout(schema.VPCDefaultFormat, nil))
		}
		rd.firstLine = append([]byte(nil), line...)
		rd.firstLineNo = rd.lines.Line()
		return nil
	}
}

// looksLikeDefaultFormat: 14 fields starting with version 2 is the default
// format, the only one AWS writes without a choice of fields.
func looksLikeDefaultFormat(line []byte) bool {
	return bytes.HasPrefix(line, []byte("2 ")) && bytes.Count(line, []byte{' '}) == len(schema.VPCDefaultFormat)-1
}

func (rd *Reader) errorf(sentinel error, format string, args ...any) error {
	return &reader.ParseError{Object: rd.cfg.Object, Line: rd.lines.Line(),
		Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

func (rd *Reader) newLayout(fields []string, header []byte) *layout {
	l := &layout{header: append([]byte(nil), header...), columns: make([]column, len(fields))}
	arrowFields := make([]arrow.Field, len(fields))
	seen := map[string]int{}
	for i, name := range fields {
		f, known := schema.VPCColumn(name)
		if !known {
			rd.unknown[name] = true
		}
		// A field listed twice would make two columns of one name; keep both
		// values by suffixing the later ones.
		if n := seen[f.Name]; n > 0 {
			f.Name = fmt.Sprintf("%s_%d", f.Name, n+1)
		}
		seen[f.Name]++
		arrowFields[i] = f
		switch f.Type.ID() {
		case arrow.INT32:
			l.columns[i] = column{name: f.Name, kind: kindInt32}
			l.ints++
		case arrow.INT64:
			l.columns[i] = column{name: f.Name, kind: kindInt64}
			l.ints++
		default:
			l.columns[i] = column{name: f.Name, kind: kindString}
		}
	}
	l.schema = arrow.NewSchema(arrowFields, nil)
	return l
}

func (rd *Reader) setLayout(l *layout) {
	rd.layout = l
	rd.cur.discard()
	rd.cur.reset(l, rd.cfg.ChunkRows)
	n := len(l.columns)
	rd.bounds = make([]int32, n+1)
	rd.bounds[0] = -1
	rd.ends = rd.bounds[1:]
	rd.nullInts = make([]int, 0, l.ints)
}

// UnknownFields returns the header fields that are not documented flow-log
// fields; they were read as string columns.
func (rd *Reader) UnknownFields() []string {
	out := make([]string, 0, len(rd.unknown))
	for k := range rd.unknown {
		out = append(out, k)
	}
	return out
}

// AssumedDefaultFormat reports that the object had no header line, no field
// list was given, and it was read as the default (version 2) format because
// its first line has that shape.
func (rd *Reader) AssumedDefaultFormat() bool { return rd.assumedDefault }

// Stats returns the counts so far.
func (rd *Reader) Stats() Stats { return rd.stats }

// Schema returns the layout of the current batch.
func (rd *Reader) Schema() *arrow.Schema { return rd.layout.schema }

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

// Release decreases the reference count and frees the current batch at zero.
func (rd *Reader) Release() {
	if rd.refs.Add(-1) != 0 {
		return
	}
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	rd.cur.discard()
}

// Next reads the next batch of up to ChunkRows rows.
func (rd *Reader) Next() bool {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	if rd.err != nil {
		return false
	}
	if rd.pending != nil {
		rd.setLayout(rd.pending)
		rd.pending = nil
	}
	if rd.firstLine != nil {
		rd.handleLine(rd.firstLine, rd.firstLineNo)
		rd.firstLine = nil
	}
	for !rd.eof && rd.pending == nil && !rd.cur.full() {
		line, err := rd.lines.Next()
		switch {
		case err == io.EOF:
			rd.eof = true
			continue
		case errors.Is(err, reader.ErrLineTooLong):
			rd.stats.Lines++
			rd.stats.Records++
			rd.reject(line, true, fmt.Sprintf("%v (limit %d bytes)", err, rd.maxLine()))
			continue
		case err != nil:
			rd.err = &reader.ParseError{Object: rd.cfg.Object, Line: rd.lines.Line() + 1, Err: err}
			return false
		}
		rd.stats.Lines++
		rd.handleLine(line, rd.lines.Line())
	}
	if rd.cur.rows == 0 {
		if rd.pending != nil {
			return rd.Next()
		}
		rd.cur.discard() // the object ended right after a full batch
		return false
	}
	rd.rec = rd.cur.record(rd.layout.schema)
	if rd.eof || rd.pending != nil {
		// Nothing more to read, or a new layout, which setLayout gives
		// buffers of its own: none for another batch of this one.
		rd.cur = batch{}
	} else {
		rd.cur.reset(rd.layout, rd.cfg.ChunkRows)
	}
	return true
}

func (rd *Reader) maxLine() int {
	if rd.cfg.MaxLineBytes > 0 {
		return rd.cfg.MaxLineBytes
	}
	return reader.DefaultMaxLineBytes
}

// handleLine turns one line into a row, a header or a reject.
func (rd *Reader) handleLine(line []byte, lineNo int64) {
	raw := line // what a reject keeps, untouched
	// A line that starts with a digit (a data line of any format: its
	// first field is a number or an id) has no byte-order mark, is not
	// blank and is not a header, whose first byte is a letter.
	if len(line) == 0 || line[0] < '0' || line[0] > '9' {
		line = reader.TrimBOM(line)
		if len(line) == 0 || len(bytes.TrimSpace(line)) == 0 {
			return
		}
		if rd.layout.header != nil && bytes.Equal(line, rd.layout.header) {
			rd.stats.Headers++
			return
		}
		if fields, ok := headerFields(line); ok {
			rd.stats.Headers++
			l := rd.newLayout(fields, line)
			if !rd.layout.schema.Equal(l.schema) {
				rd.pending = l
			} else {
				rd.layout.header = l.header
			}
			return
		}
	}
	rd.stats.Records++
	if line[0] == '{' {
		msg, ok := unwrapMessage(line)
		if !ok {
			rd.rejectAt(raw, lineNo, false, "JSON line without a \"message\" string")
			return
		}
		line = msg
	}
	reason, ascii := rd.parseRow(line)
	if !ascii && !utf8.Valid(line) {
		// Parquet strings must be UTF-8: invalid bytes become U+FFFD (the
		// record is kept, and counted); a numeric field holding them is
		// then rejected as not an integer, with the raw line untouched.
		// An ASCII line, the common case, was checked as it was split.
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
		rd.stats.RepairedUTF8++
		reason, _ = rd.parseRow(line)
	}
	if reason != "" {
		// Trailing blanks (a hand-edited or re-exported file) are not an
		// extra field; tried only when the line as it is does not parse,
		// so an empty last field of a line that fits stays as it was.
		if trimmed := bytes.TrimRight(line, " \t"); len(trimmed) < len(line) {
			if r, _ := rd.parseRow(trimmed); r == "" {
				reason, line = "", trimmed
			}
		}
	}
	if reason != "" {
		rd.rejectAt(raw, lineNo, false, reason)
		return
	}
	rd.appendRow(line)
	rd.stats.Rows++
}

// unwrapMessage takes the flow-log text out of a JSON line such as
// {"message":"2 123456789010 eni-... OK"}, the shape CloudWatch Logs exports
// and Firehose deliveries use.
func unwrapMessage(line []byte) ([]byte, bool) {
	var v struct {
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(line, &v); err != nil || v.Message == nil {
		return nil, false
	}
	return []byte(*v.Message), true
}

// parseRow splits a data line and parses its numeric fields into the
// current batch's slots of the next row (parseInts), which becomes a row
// only when appendRow counts it: a rejected line's values are overwritten
// by the next. NULL integer fields are listed in rd.nullInts. rd.ends
// (rd.bounds) gets the end of every field. It returns a reason when the line
// must be rejected; then nothing was appended. ascii reports that the whole
// line was seen to be ASCII, so valid UTF-8 (false says nothing).
//
// The spaces are found eight bytes at a time (splitSpaces), which also
// checks for ASCII; fields are 1-21 bytes, too short for bytes.IndexByte to
// pay for its call. The field count is checked before a bad integer is
// reported, so that a line with a field too many or too few is rejected
// for that.
func (rd *Reader) parseRow(line []byte) (reason string, ascii bool) {
	l := rd.layout
	cols := l.columns
	prev, ends := rd.bounds[:len(cols)], rd.bounds[1:len(cols)+1]
	n, ascii := splitSpaces(line, ends[:len(cols)-1])
	if n != len(cols)-1 {
		n := bytes.Count(line, []byte{' '}) + 1
		return fmt.Sprintf("%v: got %d, format has %d", reader.ErrFieldCount, n, len(cols)), false
	}
	ends[len(cols)-1] = int32(len(line))
	// A string field "-" is NULL: appendRow sees it.
	r := rd.cur.rows
	rd.nullInts = rd.nullInts[:0]
	bad := parseInts(line, prev, ends, r, rd.cur.ints32, 1<<31-1, &rd.nullInts)
	if bad64 := parseInts(line, prev, ends, r, rd.cur.ints64, 1<<63-1, &rd.nullInts); bad < 0 || uint(bad64) < uint(bad) {
		bad = bad64 // the first bad integer column, in column order
	}
	if bad >= 0 {
		return badInt(cols[bad].name, line[prev[bad]+1:ends[bad]]), ascii
	}
	return "", ascii
}

// parseInts stores the values of the fields of columns cols of a line into
// their row r, fields starting after prev and ending at ends. NULL fields
// ("-") store 0 (a pooled buffer holds a value of its last batch) and are
// appended to nulls. It returns the first column whose field is not an
// integer of at most max, or -1.
//
// A field of 1 to 16 digits, all but a few, is read as words (wordDigits):
// up to 8 digits as the word at its start, whose bytes are within
// cap(line), past the line or not; 9 to 16 as the word at its start (the
// first n-8 digits) and the word that ends with it (the last 8). Their
// values are not negative, and below 10^8 fit an int32 column; a larger one
// past max is the slow path's (fieldInt) to reject. A "-" is no digit: it is
// seen on the slow path too.
func parseInts[T int32 | int64](line []byte, prev, ends []int32, r int, cols []intBuffer[T], max uint64, nulls *[]int) (bad int) {
	bad = -1
	for _, c := range cols {
		i := c.col
		start, end := int(prev[i])+1, int(ends[i])
		if n := end - start; uint(n-1) < 8 && cap(line)-start >= 8 {
			if u, ok := wordDigits(binary.LittleEndian.Uint64(line[start:cap(line)]), n); ok {
				c.values[r] = T(u)
				continue
			}
		} else if uint(n-9) < 8 {
			hi, hiOK := wordDigits(binary.LittleEndian.Uint64(line[start:end]), n-8)
			lo, loOK := wordDigits(binary.LittleEndian.Uint64(line[end-8:end]), 8)
			if u := hi*1e8 + lo; hiOK && loOK && u <= max {
				c.values[r] = T(u)
				continue
			}
		}
		v, null, ok := fieldInt(line[start:end], max)
		if !ok {
			if bad < 0 {
				bad = i
			}
			continue
		}
		if null {
			*nulls = append(*nulls, i)
		}
		c.values[r] = T(v)
	}
	return bad
}

// fieldInt parses an integer field the words of parseInts did not take:
// "-" is NULL (null, with v 0); else v is the field's value if it is an
// integer between -max-1 and max (ok).
func fieldInt(f []byte, max uint64) (v int64, null, ok bool) {
	if len(f) == 1 && f[0] == '-' {
		return 0, true, true
	}
	v, ok = digitsInt(f)
	if !ok {
		v, _, ok = scanInt(f)
	}
	if !ok || (v >= 0 && uint64(v) > max) || (v < 0 && uint64(-(v+1)) > max) {
		return 0, false, false
	}
	return v, false, true
}

// splitSpaces stores the offsets of the spaces of line in ends and returns
// how many there are, or len(ends)+1 as soon as there are more than
// len(ends). ascii reports that line is all ASCII, when every byte was
// seen (n <= len(ends)).
func splitSpaces(line []byte, ends []int32) (n int, ascii bool) {
	const (
		low7   = 0x7f7f7f7f7f7f7f7f
		high   = 0x8080808080808080
		spaces = 0x2020202020202020
	)
	var seen uint64 // the bytes ORed together
	i := 0
	for ; i <= len(line)-8; i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		seen |= w
		// The high bit of each byte of m is set exactly where w holds a
		// space (x's byte is zero): no carry crosses bytes.
		x := w ^ spaces
		m := ^((x&low7 + low7) | x | low7)
		for m != 0 {
			if uint(n) >= uint(len(ends)) { // n == len(ends); in bounds below
				return n + 1, false
			}
			ends[n] = int32(i + bits.TrailingZeros64(m)>>3)
			n++
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		c := line[i]
		seen |= uint64(c)
		if c == ' ' {
			if n == len(ends) {
				return n + 1, false
			}
			ends[n] = int32(i)
			n++
		}
	}
	return n, seen&high == 0
}

// digitsInt parses a field of 1 to 18 digits, the common case, which
// cannot overflow; it is small enough to be inlined. Any other field
// returns false, to be parsed by scanInt.
func digitsInt(f []byte) (v int64, ok bool) {
	if len(f) == 0 || len(f) > 18 {
		return 0, false
	}
	for _, c := range f {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + int64(d)
	}
	return v, true
}

// wordDigits parses the n (1 to 8) bytes at the start of w (its low bytes,
// as read little-endian) as decimal digits, all eight at once: shifted to
// the top of the word, the bytes below become '0's, leading zeros of the
// number, checked with the field's in one test. It returns false if any of the n bytes is not a digit.
func wordDigits(w uint64, n int) (uint64, bool) {
	const (
		highNibbles = 0xf0f0f0f0f0f0f0f0
		zeros       = 0x3030303030303030 // '0' in every byte
		sixes       = 0x0606060606060606
	)
	sh := uint(64-8*n) & 63 // n is 1 to 8: the mask only spares the check of shifts of 64 bits or more
	// The bytes below the field become '0's, digits like the field's.
	w = w<<sh | zeros&(1<<sh-1)
	// A digit is 0x30-0x39: high nibble 3, and still 3 after adding 6. A
	// byte with high nibble 3 carries nothing into the next when 6 is
	// added; a byte that carries fails the first test itself.
	if (w&highNibbles^zeros)|((w+sixes)&highNibbles^zeros) != 0 {
		return 0, false
	}
	// The first digit is the lowest byte: combine pairs of digits, then
	// pairs of pairs, then the two halves.
	w = (w & 0x0f0f0f0f0f0f0f0f) * (10<<8 + 1) >> 8
	w = (w & 0x00ff00ff00ff00ff) * (100<<16 + 1) >> 16
	w = (w & 0x0000ffff0000ffff) * (10000<<32 + 1) >> 32
	return w, true
}

// scanInt reads the field at the start of b (up to the first space, or all
// of b), returning its length n and its value as parseInt would parse it.
func scanInt(b []byte) (v int64, n int, ok bool) {
	neg := false
	i := 0
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var u uint64
	ok = true
	start := i
	for ; i < len(b) && b[i] != ' '; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			ok = false
			continue
		}
		u = u*10 + uint64(c-'0')
	}
	digits := i - start
	if digits == 0 || digits > 19 || !ok {
		return 0, i, false
	}
	if neg {
		if u > 1<<63 {
			return 0, i, false
		}
		return -int64(u), i, true
	}
	if u > 1<<63-1 {
		return 0, i, false
	}
	return int64(u), i, true
}

// badInt is the reject reason for a field that is not an integer of its
// column's width; a long value is shortened in the reason (the raw line keeps it).
func badInt(column string, value []byte) string {
	const maxShown = 64
	if len(value) > maxShown {
		return fmt.Sprintf("column %s: %v: %q…", column, reader.ErrBadInt, value[:maxShown])
	}
	return fmt.Sprintf("column %s: %v: %q", column, reader.ErrBadInt, value)
}

// appendRow stores the parsed line in the current batch: its integers are
// in their slots already (parseRow). It cannot fail.
func (rd *Reader) appendRow(line []byte) {
	rd.cur.appendRow(line, rd.ends, rd.nullInts)
}

// parseInt parses an optionally signed decimal integer without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
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
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

func (rd *Reader) reject(raw []byte, truncated bool, reason string) {
	rd.rejectAt(raw, rd.lines.Line(), truncated, reason)
}

func (rd *Reader) rejectAt(raw []byte, lineNo int64, truncated bool, reason string) {
	rd.stats.Rejected++
	if rd.cfg.Reject != nil {
		rd.cfg.Reject(reader.Reject{Object: rd.cfg.Object, Line: lineNo, Reason: reason, Raw: raw, Truncated: truncated})
	}
}
