package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
	"convert/internal/schema"
)

// Defaults for Config.
const (
	// DefaultChunkRows is the number of rows in a full record batch.
	DefaultChunkRows = 8 << 10
	// DefaultMaxRecordBytes bounds one record. CloudTrail caps
	// requestParameters and responseElements at 100 KB each (docs/formats.md
	// §2.3), so a real record is far smaller; a larger one is rejected.
	DefaultMaxRecordBytes = 16 << 20
	// DefaultMaxDepth bounds the nesting depth of a record.
	DefaultMaxDepth = 512
)

const (
	// readSize is the initial buffer and the smallest read: large reads keep
	// the decompressor efficient.
	readSize = 1 << 20
	// maxBatchBytes ends a batch early when its records add up to this much
	// JSON, so that a batch of large records stays bounded in memory.
	maxBatchBytes = 32 << 20
	// minDepth is the depth the mapped objects need (record, useridentity,
	// sessioncontext, webidfederationdata, attributes and its values).
	minDepth = 8
	// maxNotedPaths bounds the distinct unmapped paths kept for Warnings.
	maxNotedPaths = 100
)

// Config configures a Reader. Only Object is required.
type Config struct {
	// Object names the input in errors and rejects (a key or a path).
	Object string
	// ChunkRows is the maximum number of rows per batch (DefaultChunkRows if 0).
	ChunkRows int
	// MaxRecordBytes bounds one record's JSON (DefaultMaxRecordBytes if 0). A
	// larger record is rejected and skipped without being buffered whole.
	MaxRecordBytes int
	// MaxDepth bounds the nesting depth of a record (DefaultMaxDepth if 0);
	// a deeper record is rejected.
	MaxDepth int
	// Reject receives every record that does not become a row. Nil drops them
	// (they are still counted).
	Reject reader.RejectFunc
	// Mem allocates the batches (memory.DefaultAllocator if nil).
	Mem memory.Allocator
}

// Stats counts what a Reader has seen so far.
type Stats struct {
	Records  int64 // records seen: Rows + Rejected
	Rows     int64 // rows appended to batches
	Rejected int64 // records rejected
	Unmapped int64 // rows whose unmappedfields is not NULL
}

// Shape is the top-level shape of an object.
type Shape uint8

// The shapes a Reader recognises.
const (
	ShapeUnknown Shape = iota // nothing read yet
	ShapeEmpty                // no JSON value at all
	ShapeRecords              // {"Records":[…]}, as CloudTrail delivers to S3
	ShapeEvents               // event objects one after another (NDJSON)
	ShapeArray                // a bare JSON array of events
	ShapeDigest               // a CloudTrail-Digest file: no events
)

func (s Shape) String() string {
	return [...]string{"unknown", "empty", "Records", "events", "array", "digest"}[s]
}

type state uint8

const (
	stTop        state = iota // before a top-level value or the end
	stTopObject               // at the '{' of a top-level object
	stObjMember               // after '{' or ',' of a top-level log object
	stObjValue                // at a member value to skip
	stObjAfter                // after a member of a top-level log object
	stArrayStart              // after the '[' of an array of records
	stElement                 // at a record in an array
	stArrayAfter              // after a record in an array
	stSkip                    // skipping an oversized or unparseable record
	stDone
)

// Reader is an array.RecordReader over one CloudTrail object: a log file
// {"Records":[…]}, events one per line (NDJSON) or a bare JSON array of
// events, already decompressed. The batch returned by RecordBatch is valid
// until the next call to Next; Retain it to keep it. The schema is always
// schema.CloudTrailSchema().
type Reader struct {
	refs atomic.Int64
	cfg  Config
	src  io.Reader

	buf     []byte
	r, w    int // unread input is buf[r:w]
	eof     bool
	started bool // the byte-order mark check is done

	st        state
	inObject  bool // the current array is the Records member of an object
	decided   bool // the object is known to be a CloudTrail log
	lenient   bool // top-level events: a syntax error costs one line, not the object
	shape     Shape
	skip      skipper
	dec       *decoder
	maxDepth  int
	recordNo  int64 // 1-based index of the record being read
	batchSize int   // JSON bytes in the current batch

	cols  *columns
	rows  int
	rec   arrow.RecordBatch
	err   error
	stats Stats

	ignored   map[string]bool   // top-level members of a log file that are not Records
	paths     map[string]bool   // unmapped member paths, for Warnings
	pathLevel []map[string]bool // per level: member names noted
	envelopes int64             // records unwrapped from a _raw envelope
}

var _ array.RecordReader = (*Reader)(nil)

// Readers are made per object, and objects are often small (a 5-minute
// CloudTrail file is about 1 MB): pooling the read buffer, the decoder and
// the column slices spares every object growing them again from zero.
var (
	bufferPool  sync.Pool // *[]byte of readSize
	decoderPool = sync.Pool{New: func() any { return newDecoder(DefaultMaxDepth) }}
	columnsPool = sync.Pool{New: func() any { return newColumns() }}
)

// maxPooledBytes keeps a reader that met unusually large records from
// pinning their buffers in the pools.
const maxPooledBytes = 4 * maxBatchBytes

// freeColumns keeps the column sets of released readers for the next ones,
// up to freeColumnsBytes of them. The pool alone loses them at every other
// garbage collection, and a new set grows each column's slices from nothing
// again, which cost the pipeline a tenth of the reader's time; the pool
// takes the sets that do not fit.
var freeColumns struct {
	sync.Mutex
	sets  []pooledColumns
	bytes int
}

type pooledColumns struct {
	c    *columns
	size int
}

// freeColumnsBytes bounds the capacity freeColumns keeps alive.
const freeColumnsBytes = maxBatchBytes

func getColumns() *columns {
	freeColumns.Lock()
	if n := len(freeColumns.sets); n > 0 {
		p := freeColumns.sets[n-1]
		freeColumns.sets[n-1] = pooledColumns{}
		freeColumns.sets = freeColumns.sets[:n-1]
		freeColumns.bytes -= p.size
		freeColumns.Unlock()
		return p.c
	}
	freeColumns.Unlock()
	return columnsPool.Get().(*columns)
}

// putColumns takes back a reset column set.
func putColumns(c *columns) {
	size := c.size()
	if size > maxPooledBytes {
		return
	}
	freeColumns.Lock()
	if freeColumns.bytes+size <= freeColumnsBytes {
		freeColumns.sets = append(freeColumns.sets, pooledColumns{c, size})
		freeColumns.bytes += size
		freeColumns.Unlock()
		return
	}
	freeColumns.Unlock()
	columnsPool.Put(c)
}

func getBuffer(n int) []byte {
	if n == readSize {
		if b, ok := bufferPool.Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, n)
}

// NewReader starts reading an object's decompressed content. It reads
// nothing until the first call to Next.
func NewReader(r io.Reader, cfg Config) (*Reader, error) {
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = DefaultChunkRows
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	rd := &Reader{
		cfg:       cfg,
		src:       r,
		buf:       getBuffer(min(readSize, cfg.MaxRecordBytes+1)),
		maxDepth:  max(cfg.MaxDepth, minDepth),
		ignored:   map[string]bool{},
		paths:     map[string]bool{},
		pathLevel: make([]map[string]bool, len(plan.all)),
	}
	rd.dec = decoderPool.Get().(*decoder)
	rd.dec.maxDepth = rd.maxDepth
	rd.refs.Store(1)
	rd.cols = getColumns()
	return rd, nil
}

// Stats returns the counts so far.
func (rd *Reader) Stats() Stats { return rd.stats }

// Shape returns the top-level shape of the object, once Next has read it.
func (rd *Reader) Shape() Shape { return rd.shape }

// IsDigest reports whether the object is a CloudTrail-Digest file, which
// holds no events: it yields no rows and should be counted as skipped.
func (rd *Reader) IsDigest() bool { return rd.shape == ShapeDigest }

// Warnings returns notes for the summary: fields kept in the unmapped column,
// ignored top-level members, unwrapped envelopes, an empty object.
func (rd *Reader) Warnings() []string {
	var w []string
	if rd.shape == ShapeEmpty {
		w = append(w, "empty object: no JSON value")
	}
	if len(rd.ignored) > 0 {
		w = append(w, "ignored top-level members of the log file: "+joinSorted(rd.ignored))
	}
	if len(rd.paths) > 0 {
		w = append(w, "fields without a table column, kept in "+schema.CloudTrailUnmappedColumn+": "+joinSorted(rd.paths))
	}
	if rd.envelopes > 0 {
		w = append(w, fmt.Sprintf("%d events unwrapped from a %q string envelope", rd.envelopes, rawEnvelopeKey))
	}
	return w
}

func joinSorted(set map[string]bool) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func (rd *Reader) noteUnmapped(l *level, name []byte) {
	m := rd.pathLevel[l.id]
	if m == nil {
		m = map[string]bool{}
		rd.pathLevel[l.id] = m
	}
	if m[string(name)] || len(rd.paths) >= maxNotedPaths {
		return
	}
	m[string(name)] = true
	p := string(name)
	if l.path != "" {
		p = l.path + "." + p
	}
	rd.paths[p] = true
}

// Schema returns schema.CloudTrailSchema().
func (rd *Reader) Schema() *arrow.Schema { return schema.CloudTrailSchema() }

// RecordBatch returns the current batch, valid until the next call to Next.
func (rd *Reader) RecordBatch() arrow.RecordBatch { return rd.rec }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (rd *Reader) Record() arrow.RecordBatch { return rd.rec }

// Err returns the error that ended the iteration, if any. A document that is
// not a CloudTrail log wraps reader.ErrNotLogObject; broken JSON framing (a
// truncated object) and read failures wrap reader.ErrCorruptObject.
func (rd *Reader) Err() error { return rd.err }

// Retain increases the reference count.
func (rd *Reader) Retain() { rd.refs.Add(1) }

// Release decreases the reference count and frees the batch at zero.
func (rd *Reader) Release() {
	if rd.refs.Add(-1) != 0 {
		return
	}
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	// Nothing of these is referenced by a batch: batches own copies.
	if rd.cols != nil {
		rd.cols.reset()
		putColumns(rd.cols)
		rd.cols = nil
	}
	if rd.dec != nil {
		rd.dec.reset(nil)
		if cap(rd.dec.scratch) <= maxPooledBytes {
			decoderPool.Put(rd.dec)
		}
		rd.dec = nil
	}
	if buf := rd.buf; len(buf) == readSize {
		bufferPool.Put(&buf)
	}
	rd.buf = nil
}

// Next reads the next batch of up to ChunkRows rows. After a fatal error it
// still returns the rows decoded before it, then false with Err set.
func (rd *Reader) Next() bool {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	for rd.err == nil && rd.st != stDone && rd.rows < rd.cfg.ChunkRows && rd.batchSize < maxBatchBytes {
		err := rd.step()
		if errors.Is(err, errShort) {
			err = rd.fill()
		}
		if err != nil {
			rd.err = err
		}
	}
	if rd.rows == 0 {
		return false
	}
	rd.rec = rd.cols.newRecordBatch(rd.cfg.Mem, rd.rows)
	rd.rows, rd.batchSize = 0, 0
	return true
}

// fill reads more input after a step ran out of it, keeping buf[r:w].
func (rd *Reader) fill() error {
	if rd.eof {
		return rd.atEOF()
	}
	if rd.r > 0 {
		rd.w = copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r = 0
	}
	if rd.w == len(rd.buf) {
		if rd.w > rd.cfg.MaxRecordBytes {
			return rd.tooLarge()
		}
		nb := make([]byte, min(2*len(rd.buf), rd.cfg.MaxRecordBytes+readSize))
		copy(nb, rd.buf[:rd.w])
		rd.buf = nb
	}
	// As bufio does, give up on a reader that keeps returning nothing.
	for range maxEmptyReads {
		n, err := rd.src.Read(rd.buf[rd.w:])
		rd.w += n
		switch {
		case err == io.EOF:
			rd.eof = true
			return nil
		case err != nil:
			return rd.corrupt(err)
		case n > 0:
			return nil
		}
	}
	return rd.corrupt(io.ErrNoProgress)
}

const maxEmptyReads = 100

// atEOF handles the end of input in the middle of a step.
func (rd *Reader) atEOF() error {
	if rd.st == stSkip && rd.skip.line {
		rd.endSkip()
		return nil
	}
	return rd.corrupt(io.ErrUnexpectedEOF)
}

func (rd *Reader) corrupt(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("unexpected end of input inside a JSON value (truncated object?)")
	}
	if !errors.Is(err, reader.ErrCorruptObject) {
		err = fmt.Errorf("%w: %w", reader.ErrCorruptObject, err)
	}
	return &reader.ParseError{Object: rd.cfg.Object, Record: rd.recordNo, Err: err}
}

func (rd *Reader) notLog(format string, args ...any) error {
	return &reader.ParseError{Object: rd.cfg.Object,
		Err: fmt.Errorf("%w: "+format+" (want a CloudTrail log: {\"Records\":[…]}, events one per line, or an array of events)",
			append([]any{reader.ErrNotLogObject}, args...)...)}
}

// tooLarge starts skipping the value at buf[r], which does not fit in
// MaxRecordBytes.
func (rd *Reader) tooLarge() error {
	reason := fmt.Sprintf("record larger than %d bytes", rd.cfg.MaxRecordBytes)
	switch rd.st {
	case stTopObject, stElement:
		rd.startSkip(false, true, reason)
	case stObjValue:
		rd.startSkip(false, false, "")
	default:
		return rd.corrupt(errors.New("a JSON token larger than the record size limit"))
	}
	return nil
}

// step does one unit of work at buf[r:w]: a token, a record or a skipped
// value. It returns errShort when it needs more input.
func (rd *Reader) step() error {
	if rd.st == stSkip {
		return rd.skipStep()
	}
	if !rd.started {
		if rd.w-rd.r < 3 && !rd.eof {
			return errShort
		}
		rd.r = rd.w - len(reader.TrimBOM(rd.buf[rd.r:rd.w]))
		rd.started = true
	}
	b := rd.buf[:rd.w]
	switch rd.st {
	case stTop:
		rd.r = skipSpace(b, rd.r)
		if rd.r == rd.w {
			if !rd.eof {
				return errShort
			}
			if rd.shape == ShapeUnknown {
				rd.shape = ShapeEmpty
			}
			rd.st = stDone
			return nil
		}
		switch c := b[rd.r]; c {
		case '{':
			rd.st = stTopObject
		case '[':
			if rd.decided && rd.shape != ShapeArray {
				return rd.afterLog(c)
			}
			rd.r++
			rd.shape, rd.inObject, rd.st = ShapeArray, false, stArrayStart
		default:
			return rd.afterLog(c)
		}
		return nil
	case stTopObject:
		return rd.topObject()
	case stObjMember:
		return rd.objMember()
	case stObjValue:
		end, _, err := rd.dec.sc.skipValue(b, rd.r, 1, rd.maxDepth)
		switch {
		case errors.Is(err, errTooDeep):
			rd.startSkip(false, false, "")
			return nil
		case err != nil:
			return rd.frameErr(err)
		}
		rd.r, rd.st = end, stObjAfter
		return nil
	case stObjAfter:
		rd.r = skipSpace(b, rd.r)
		if rd.r == rd.w {
			return errShort
		}
		switch b[rd.r] {
		case ',':
			rd.r++
			rd.st = stObjMember
		case '}':
			rd.r++
			rd.st = stTop
		default:
			return rd.frameErr(syntaxErr(rd.r, "invalid character %q after an object member", b[rd.r]))
		}
		return nil
	case stArrayStart, stArrayAfter:
		rd.r = skipSpace(b, rd.r)
		if rd.r == rd.w {
			return errShort
		}
		c := b[rd.r]
		switch {
		case c == ']':
			rd.r++
			if rd.inObject {
				rd.st = stObjAfter
			} else {
				rd.st = stTop
			}
		case rd.st == stArrayStart:
			rd.st = stElement
		case c == ',':
			rd.r++
			rd.st = stElement
		default:
			return rd.frameErr(syntaxErr(rd.r, "invalid character %q after an array element", c))
		}
		return nil
	case stElement:
		return rd.element()
	}
	return nil
}

// afterLog handles a top-level value that is neither an event object nor, for
// the first value, a log file or an array.
func (rd *Reader) afterLog(c byte) error {
	switch {
	case !rd.decided && rd.shape == ShapeUnknown:
		return rd.notLog("the document starts with %q", c)
	case rd.lenient:
		// Events one per line: this line is garbage; reject it and go on.
		rd.recordNo = rd.stats.Records + 1
		rd.startSkip(true, true, fmt.Sprintf("line does not start an event object (starts with %q)", c))
		return nil
	default:
		return rd.frameErr(syntaxErr(rd.r, "unexpected %q after the end of the log", c))
	}
}

// frameErr turns a syntax error that breaks the framing into the object's
// error.
func (rd *Reader) frameErr(err error) error {
	if errors.Is(err, errShort) {
		return err
	}
	var se *syntaxError
	if errors.As(err, &se) {
		err = fmt.Errorf("invalid JSON: %s", se.msg)
	}
	return rd.corrupt(err)
}

// topObject reads the object at buf[r]: the start of a log file when its
// first member is Records, else an event (or a digest).
func (rd *Reader) topObject() error {
	b := rd.buf[:rd.w]
	i := skipSpace(b, rd.r+1)
	if i == rd.w {
		return errShort
	}
	if b[i] == '"' {
		end, _, err := scanString(b, i)
		if err != nil && !errors.Is(err, errShort) {
			return rd.frameErr(err)
		}
		if err != nil {
			return err
		}
		if string(b[i+1:end-1]) == recordsKey {
			rd.r++
			rd.st = stObjMember
			return nil
		}
	}
	rd.recordNo = rd.stats.Records + 1
	end, err := rd.dec.decode(b[rd.r:])
	if err != nil {
		return rd.recordErr(err, true)
	}
	raw := b[rd.r : rd.r+end]
	d := rd.dec
	switch {
	case d.sawRecords && !d.hasEvent:
		// A log file whose Records member is not the first: walk it.
		rd.r++
		rd.st = stObjMember
		return nil
	case d.digest && !d.hasEvent:
		if rd.shape == ShapeUnknown {
			rd.shape = ShapeDigest
		}
		rd.r += end
		rd.st = stTop
		return nil
	case !d.hasEvent && !d.rawEnvOK && !rd.decided:
		return rd.notLog("the first object has no CloudTrail event field, Records array or digest field")
	}
	if rd.shape == ShapeUnknown {
		rd.shape = ShapeEvents
	}
	rd.decided, rd.lenient = true, true
	rd.stats.Records++
	rd.finishRecord(raw)
	rd.r += end
	rd.st = stTop
	return nil
}

// objMember reads a member name of a top-level log object.
func (rd *Reader) objMember() error {
	b := rd.buf[:rd.w]
	i := skipSpace(b, rd.r)
	if i == rd.w {
		return errShort
	}
	if b[i] != '"' {
		return rd.frameErr(syntaxErr(i, "invalid character %q looking for an object key", b[i]))
	}
	end, _, err := scanString(b, i)
	if err != nil {
		return rd.frameErr(err)
	}
	name := b[i+1 : end-1]
	j := skipSpace(b, end)
	if j == rd.w {
		return errShort
	}
	if b[j] != ':' {
		return rd.frameErr(syntaxErr(j, "invalid character %q after an object key", b[j]))
	}
	j = skipSpace(b, j+1)
	if j == rd.w {
		return errShort
	}
	if string(name) != recordsKey {
		if len(rd.ignored) < maxNotedPaths {
			rd.ignored[string(name)] = true
		}
		rd.r, rd.st = j, stObjValue
		return nil
	}
	if b[j] != '[' {
		if !rd.decided {
			return rd.notLog("Records is not an array")
		}
		return rd.frameErr(errors.New("a second Records member is not an array"))
	}
	rd.decided = true
	if rd.shape == ShapeUnknown || rd.shape == ShapeDigest {
		rd.shape = ShapeRecords
	}
	rd.r, rd.inObject, rd.st = j+1, true, stArrayStart
	return nil
}

// element reads one record of an array.
func (rd *Reader) element() error {
	b := rd.buf[:rd.w]
	rd.r = skipSpace(b, rd.r)
	if rd.r == rd.w {
		return errShort
	}
	rd.recordNo = rd.stats.Records + 1
	if b[rd.r] != '{' {
		if !rd.decided && rd.shape == ShapeArray {
			return rd.notLog("the first element of the array is not an object")
		}
		end, _, err := rd.dec.sc.skipValue(b, rd.r, 1, rd.maxDepth)
		if err != nil {
			return rd.recordErr(err, false)
		}
		rd.stats.Records++
		rd.reject(b[rd.r:end], false, "record is not a JSON object")
		rd.r, rd.st = end, stArrayAfter
		return nil
	}
	end, err := rd.dec.decode(b[rd.r:])
	if err != nil {
		return rd.recordErr(err, false)
	}
	raw := b[rd.r : rd.r+end]
	if !rd.decided && !rd.dec.hasEvent && !rd.dec.rawEnvOK && rd.shape == ShapeArray {
		return rd.notLog("the first element of the array is not a CloudTrail event")
	}
	rd.decided = true
	rd.stats.Records++
	rd.finishRecord(raw)
	rd.r, rd.st = rd.r+end, stArrayAfter
	return nil
}

// recordErr handles a record that failed to decode.
func (rd *Reader) recordErr(err error, top bool) error {
	var se *syntaxError
	switch {
	case errors.Is(err, errShort):
		return err
	case errors.Is(err, errTooDeep):
		rd.startSkip(false, true, fmt.Sprintf("record nests deeper than %d levels", rd.maxDepth))
		return nil
	case top && errors.As(err, &se):
		// Events one per line: reject up to the end of the bad line.
		rd.startSkip(true, true, se.Error())
		rd.skip.keepRaw(rd.buf[rd.r : rd.r+se.off])
		rd.r += se.off
		return nil
	}
	return rd.frameErr(err)
}

// finishRecord turns a decoded record into a row or a reject.
func (rd *Reader) finishRecord(raw []byte) {
	d := rd.dec
	if !d.hasEvent && d.rawEnvOK {
		if err := d.unwrapEnvelope(); err != nil {
			rd.reject(raw, false, fmt.Sprintf("%s envelope: %v", rawEnvelopeKey, err))
			return
		}
		if d.hasEvent {
			rd.envelopes++
		}
	}
	if !d.hasEvent {
		rd.reject(raw, false, "no CloudTrail event field (eventVersion, eventTime, eventName, userIdentity, …)")
		return
	}
	unmapped := d.um.finish()
	if unmapped.ok {
		rd.stats.Unmapped++
		for _, n := range d.notes {
			rd.noteUnmapped(n.l, n.name)
		}
	}
	rd.cols.appendRow(d, unmapped)
	rd.rows++
	rd.batchSize += len(raw)
	rd.stats.Rows++
}

func (rd *Reader) reject(raw []byte, truncated bool, reason string) {
	rd.stats.Rejected++
	if rd.cfg.Reject == nil {
		return
	}
	if len(raw) > reader.MaxRejectRawBytes {
		raw, truncated = raw[:reader.MaxRejectRawBytes], true
	}
	rd.cfg.Reject(reader.Reject{Object: rd.cfg.Object, Record: rd.recordNo, Reason: reason, Raw: raw, Truncated: truncated})
}

// skipper skips a record that is not decoded: one larger than
// MaxRecordBytes, too deep, or a broken line of events. It keeps the first
// MaxRejectRawBytes for the reject.
type skipper struct {
	line    bool // to the end of the line, else to the end of the JSON value
	reject  bool
	reason  string
	next    state
	started bool
	depth   int
	inStr   bool
	esc     bool
	scalar  bool
	raw     []byte
	total   int
}

func (rd *Reader) startSkip(line, reject bool, reason string) {
	next := stTop
	if rd.st == stElement {
		next = stArrayAfter
	} else if rd.st == stObjValue {
		next = stObjAfter
	}
	rd.skip = skipper{line: line, reject: reject, reason: reason, next: next, raw: rd.skip.raw[:0]}
	rd.st = stSkip
}

func (s *skipper) keepRaw(b []byte) {
	s.total += len(b)
	if room := reader.MaxRejectRawBytes - len(s.raw); room > 0 {
		s.raw = append(s.raw, b[:min(room, len(b))]...)
	}
}

func (rd *Reader) skipStep() error {
	b := rd.buf[rd.r:rd.w]
	n, done := rd.skip.advance(b)
	rd.skip.keepRaw(b[:n])
	rd.r += n
	if !done {
		return errShort
	}
	rd.endSkip()
	return nil
}

func (rd *Reader) endSkip() {
	s := &rd.skip
	if s.reject {
		// Counted only now: a record cut short by the end of the input
		// is not a record but a truncated object.
		rd.stats.Records++
		rd.stats.Rejected++
		if rd.cfg.Reject != nil {
			raw := bytes.TrimRight(s.raw, "\r\n")
			rd.cfg.Reject(reader.Reject{Object: rd.cfg.Object, Record: rd.recordNo, Reason: s.reason,
				Raw: raw, Truncated: s.total > len(s.raw)})
		}
	}
	rd.st = s.next
}

// advance consumes b up to the end of the skipped record; it reports how many
// bytes belong to it and whether it ended.
func (s *skipper) advance(b []byte) (int, bool) {
	if s.line {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return i + 1, true
		}
		return len(b), false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !s.started {
			s.started = true
			switch c {
			case '{', '[':
				s.depth = 1
			case '"':
				s.inStr = true
			default:
				s.scalar = true
			}
			continue
		}
		switch {
		case s.inStr:
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
				if s.depth == 0 {
					return i + 1, true
				}
			}
		case s.scalar:
			if c == ',' || c == ']' || c == '}' || isSpace(c) {
				return i, true
			}
		case c == '"':
			s.inStr = true
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			s.depth--
			if s.depth == 0 {
				return i + 1, true
			}
		}
	}
	return len(b), false
}
