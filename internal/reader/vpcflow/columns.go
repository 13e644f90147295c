package vpcflow

import (
	"encoding/binary"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
)

// maxBatchTextBytes ends a batch early when its string data grows this large,
// which bounds a batch's memory by bytes whatever the line lengths: lines
// just under the 1 MiB line limit make batches of a few rows, not of 32 Ki
// rows or 64 MiB. A full batch of the default format holds about 2 MiB.
const maxBatchTextBytes = 4 << 20

// minBatchRows is the fewest rows a batch after one cut short by text has
// room for.
const minBatchRows = 256

// batch holds the rows of the batch being read, column by column, in plain
// Go slices that become the buffers of Arrow arrays without a copy. Writing a
// value is a store into a slice: no builder calls per cell.
type batch struct {
	rows    int
	maxRows int // the rows the buffers have room for
	text    int // bytes of string data in the batch
	columns []columnData
	// dicts number the values of the string columns that repeat (nil for
	// the others), for the whole object: see reader.Indexed.
	dicts []*reader.StringDict
	// known holds, beside each dictionary, the numbers of values as
	// appendRow copies them, by words, to be found without a call.
	known []*knownValues
	// texts lists the string columns; ints32 and ints64 the integer
	// columns of each width, in column order, with their buffers, for
	// parseRow to store a row's values in.
	texts  []int
	ints32 []intBuffer[int32]
	ints64 []intBuffer[int64]
	// sized: the string buffers were sized, from the previous batch or
	// the first rows (sizeFromRows).
	sized bool
}

type columnData struct {
	kind  columnKind
	valid []byte // validity bitmap, all ones until a NULL clears a bit
	nulls int
	i32   []int32
	i64   []int64
	offs  []int32 // string offsets, len rows+1
	data  []byte  // string bytes, a prefix of dataBuf
	idx   []int32 // per row, the value's number in its StringDict; nil if not numbered
	// values holds i32, i64 or offs, and idx after offs: the numbers live
	// as long as the offsets buffer, which every holder of the column
	// holds (see reader.BufferPool.Wrap).
	values []byte
	// dataBuf is the pooled buffer of data at its full capacity; data's
	// capacity is what the batch was sized for (reset, sizeFromRows).
	dataBuf []byte
}

// columnBuffers holds the buffers of batches every holder has released,
// for the next batches of any Reader (objects are read by Readers of a few
// batches each). Its bound is a few batches' worth: a batch of the default
// format is about 4.5 MiB of buffers.
var columnBuffers = reader.NewBufferPool(columnBufferBytes)

const columnBufferBytes = 24 << 20

// allValid is a validity bitmap of all ones, copied into the pooled ones.
var allValid = func() (b [4 << 10]byte) {
	for i := range b {
		b[i] = 0xff
	}
	return b
}()

// reset prepares empty buffers for up to n rows of layout l, from
// columnBuffers. The buffers of the previous batch belong to its arrays now,
// to go back to the pool when the last holder releases them; the string
// buffers are sized from the previous batch of the same layout, and after a
// batch cut short by its text the next one has room for only twice its rows
// (at least minBatchRows): long lines do not pay for 32 Ki rows of integer
// buffers per batch of a few rows.
func (b *batch) reset(l *layout, n int) {
	sameLayout := len(b.columns) == len(l.columns)
	hints := make([]int, len(l.columns))
	if sameLayout && b.rows > 0 && b.text >= maxBatchTextBytes {
		n = min(n, max(2*b.rows, minBatchRows))
	}
	b.sized = sameLayout && b.rows > 0 && b.text > 0
	if b.sized {
		// Each column gets its share of the previous batch's text, scaled
		// to n rows plus an eighth, and all of them together at most
		// maxBatchTextBytes: a batch cut short by a few huge lines must not
		// size the next one as if every row were as long.
		num, den := textScale(b.rows, b.text, n, maxBatchTextBytes)
		for i := range hints {
			hints[i] = int(int64(len(b.columns[i].data)) * num / den)
		}
	}
	b.rows, b.maxRows, b.text = 0, n, 0
	if !sameLayout {
		b.columns = make([]columnData, len(l.columns))
		b.dicts = make([]*reader.StringDict, len(l.columns))
		b.known = make([]*knownValues, len(l.columns))
		b.ints32, b.ints64, b.texts = nil, nil, nil
		for i, c := range l.columns {
			switch c.kind {
			case kindInt32:
				b.ints32 = append(b.ints32, intBuffer[int32]{col: i})
			case kindInt64:
				b.ints64 = append(b.ints64, intBuffer[int64]{col: i})
			default:
				b.texts = append(b.texts, i)
				if numbered(c.name) {
					b.dicts[i] = reader.NewStringDict()
					b.known[i] = new(knownValues)
				}
			}
		}
	}
	// Pooled buffers hold what their last batch left: what a fresh one
	// would have had zero or set is written here or by appendRow (every
	// value slot of a row, offs[0], the bitmap's ones).
	bitmapBytes := int(bitutil.BytesForBits(int64(n)))
	for i, c := range l.columns {
		cd := columnData{kind: c.kind, valid: columnBuffers.Get(bitmapBytes)}
		for v := cd.valid; len(v) > 0; {
			v = v[copy(v, allValid[:]):]
		}
		switch c.kind {
		case kindInt32:
			cd.values = columnBuffers.Get(4 * n)
			cd.i32 = arrow.Int32Traits.CastFromBytes(cd.values)
		case kindInt64:
			cd.values = columnBuffers.Get(8 * n)
			cd.i64 = arrow.Int64Traits.CastFromBytes(cd.values)
		default:
			numbered := b.dicts[i] != nil && !b.dicts[i].Full()
			words := n + 1
			if numbered {
				words += n
			}
			cd.values = columnBuffers.Get(4 * words)
			all := arrow.Int32Traits.CastFromBytes(cd.values)
			cd.offs = all[: n+1 : n+1]
			cd.offs[0] = 0
			if numbered {
				cd.idx = all[n+1 : 2*n+1 : 2*n+1]
			}
			cd.dataBuf = columnBuffers.Get(hints[i])
			cd.data = cd.dataBuf[:0:hints[i]]
		}
		b.columns[i] = cd
	}
	for k := range b.ints32 {
		b.ints32[k].values = b.columns[b.ints32[k].col].i32
	}
	for k := range b.ints64 {
		b.ints64[k].values = b.columns[b.ints64[k].col].i64
	}
}

// discard gives the buffers of a batch that will not become a record back
// to columnBuffers and empties the batch: the one reset after a full batch
// when the object then ends, the one of a layout that changes, the one of a
// released reader. Only record hands buffers to arrays, and a batch is
// reset or emptied right after it, so a batch's buffers are its own.
func (b *batch) discard() {
	for i := range b.columns {
		c := &b.columns[i]
		columnBuffers.Put(c.valid)
		columnBuffers.Put(c.values)
		columnBuffers.Put(c.dataBuf)
	}
	*b = batch{}
}

// intBuffer is an integer column of the batch: its index and its values.
type intBuffer[T int32 | int64] struct {
	col    int
	values []T
}

// sizeRows is how many rows an empty batch that had no previous batch to
// size its string buffers by (the first of an object or layout) takes
// before sizing them by those rows (sizeFromRows).
const sizeRows = 64

// sizeFromRows gives the string buffers room for maxRows rows like the
// rows so far, an eighth more, and all of them together at most
// maxBatchTextBytes and an eighth: else they would grow from nothing,
// copying the batch's text several times over. The rows so far are copied
// once (a few KiB); a first row alone would size them badly, being a
// NODATA row or having a short address.
func (b *batch) sizeFromRows() {
	b.sized = true
	if b.rows == 0 || b.maxRows <= b.rows {
		return
	}
	num, den := textScale(b.rows, b.text, b.maxRows, maxBatchTextBytes*9/8)
	for i := range b.columns {
		if c := &b.columns[i]; c.kind == kindString {
			want := int(int64(len(c.data)) * num / den)
			if want > cap(c.data) {
				c.resizeData(want)
			}
		}
	}
}

// growData makes room for n more bytes in c.data, at least doubling it.
func (c *columnData) growData(n int) {
	c.resizeData(max(2*cap(c.data), len(c.data)+n, 64))
}

// resizeData gives c.data a capacity of want bytes, in dataBuf if it has
// room, else in a buffer from columnBuffers (append would leave the old one
// to the garbage collector).
func (c *columnData) resizeData(want int) {
	if want > cap(c.dataBuf) {
		buf := columnBuffers.Get(want)
		copy(buf, c.data)
		columnBuffers.Put(c.dataBuf)
		c.dataBuf = buf
	}
	c.data = c.dataBuf[:len(c.data):want]
}

// textScale is the factor num/den by which the string buffers of rows rows
// holding text bytes are scaled for n rows: n rows like them and an eighth
// more, all of them together at most limit bytes.
func textScale(rows, text, n int, limit int64) (num, den int64) {
	num, den = int64(n)*9, int64(rows)*8
	if int64(text)*num > limit*den {
		num, den = limit, int64(text)
	}
	return num, den
}

// full reports whether the batch must end before another row.
func (b *batch) full() bool {
	return b.rows >= b.maxRows || b.text >= maxBatchTextBytes
}

// appendRow stores one parsed row whose integer values are in their slots
// already (parseRow, through batch.ints32 and batch.ints64), nullInts being
// the integer columns that are NULL; a string field is NULL when it is
// "-", seen here, where its bounds are at hand. Field i of line ends at
// ends[i] and starts after the end of field i-1.
func (b *batch) appendRow(line []byte, ends []int32, nullInts []int) {
	r := b.rows
	for _, i := range nullInts {
		c := &b.columns[i]
		bitutil.ClearBit(c.valid, r)
		c.nulls++
	}
	b.appendStrings(line, ends)
}

// appendStrings stores the string fields of row b.rows, and counts the
// row.
func (b *batch) appendStrings(line []byte, ends []int32) {
	r := b.rows
	if !b.sized && r == sizeRows {
		b.sizeFromRows()
	}
	cols := b.columns
	for _, i := range b.texts {
		c := &cols[i]
		start := 0
		if i > 0 {
			start = int(ends[i-1]) + 1
		}
		end := int(ends[i])
		if end-start == 1 && line[start] == '-' {
			bitutil.ClearBit(c.valid, r)
			c.nulls++
			c.offs[r+1] = int32(len(c.data))
			if c.idx != nil {
				c.idx[r] = 0
			}
			continue
		}
		n, l := end-start, len(c.data)
		b.text += n
		if n > wordsBytes || cap(c.data)-l < wordsBytes || cap(line)-start < wordsBytes {
			f := line[start:end]
			if cap(c.data)-l < n {
				c.growData(n)
			}
			c.data = append(c.data, f...)
			c.offs[r+1] = int32(len(c.data))
			if c.idx != nil {
				if k, ok := b.dicts[i].Number(f); ok {
					c.idx[r] = k
				} else {
					c.idx = nil // too many values: this batch and the object's next ones go unnumbered
				}
			}
			continue
		}
		// A field of up to wordsBytes bytes (ids, addresses, actions) is
		// copied as three 8-byte words, not by a call to memmove; the
		// bytes past the field land beyond len(c.data), to be overwritten
		// by the next value or never part of the column. The same words,
		// cut to the field, find its number among the known values.
		src, dst := line[start:start+wordsBytes], c.data[l:l+wordsBytes]
		w0, w1, w2 := binary.LittleEndian.Uint64(src), binary.LittleEndian.Uint64(src[8:]), binary.LittleEndian.Uint64(src[16:])
		binary.LittleEndian.PutUint64(dst, w0)
		binary.LittleEndian.PutUint64(dst[8:], w1)
		binary.LittleEndian.PutUint64(dst[16:], w2)
		c.data = c.data[:l+n]
		c.offs[r+1] = int32(l + n)
		if c.idx == nil {
			continue
		}
		mask := &reader.WordMasks[n]
		w := [3]uint64{w0 & mask[0], w1 & mask[1], w2 & mask[2]}
		kv := &b.known[i][knownSlot(w, n)]
		if kv.words == w && int(kv.len) == n+1 {
			c.idx[r] = kv.num
			continue
		}
		k, ok := b.dicts[i].Number(line[start:end])
		if !ok {
			c.idx = nil // too many values: this batch and the object's next ones go unnumbered
			continue
		}
		c.idx[r] = k
		*kv = knownValue{words: w, len: int32(n + 1), num: k}
	}
	b.rows++
}

// wordsBytes is the longest value appendRow copies as words.
const wordsBytes = reader.WordBytes

// knownValues is a cache of the numbers of a column's values of up to
// wordsBytes bytes, keyed by their words, in slots picked by knownSlot: a
// hit costs a hash of three words and their compare, where
// StringDict.Number hashes and compares bytes behind a call. A slot holds
// the last value that took it; a value found in none goes to the
// dictionary, so a slot can be wrong only by being empty or taken.
type knownValues [knownSlots]knownValue

type knownValue struct {
	words [3]uint64 // the value's bytes, zeros past its length
	len   int32     // the value's length plus one; 0: an empty slot
	num   int32
}

const (
	knownBits  = 9
	knownSlots = 1 << knownBits
)

// knownSlot picks the slot of the value of n bytes held in w.
func knownSlot(w [3]uint64, n int) int {
	h := (w[0] ^ w[1]*0x9e3779b97f4a7c15 ^ w[2]*0xc2b2ae3d27d4eb4f ^ uint64(n)) * 0xff51afd7ed558ccd
	return int(h >> (64 - knownBits))
}

// record turns the batch into a record batch of schema sc.
func (b *batch) record(sc *arrow.Schema) arrow.RecordBatch {
	n := b.rows
	cols := make([]arrow.Array, len(b.columns))
	for i := range b.columns {
		c := &b.columns[i]
		var validity *memory.Buffer
		if c.nulls > 0 {
			validity = columnBuffers.Wrap(c.valid[:bitutil.BytesForBits(int64(n))])
		} else {
			columnBuffers.Put(c.valid)
		}
		var buffers []*memory.Buffer
		switch c.kind {
		case kindInt32:
			buffers = []*memory.Buffer{validity, columnBuffers.Wrap(c.values[:4*n])}
		case kindInt64:
			buffers = []*memory.Buffer{validity, columnBuffers.Wrap(c.values[:8*n])}
		default:
			buffers = []*memory.Buffer{validity,
				columnBuffers.Wrap(c.values[:4*(n+1)]),
				columnBuffers.Wrap(c.dataBuf[:len(c.data)])} // never nil bytes: see reader.CopyBuffer
		}
		data := array.NewData(sc.Field(i).Type, n, buffers, nil, c.nulls, 0)
		for _, buf := range buffers {
			if buf != nil {
				buf.Release() // the array holds them now
			}
		}
		cols[i] = array.MakeFromData(data)
		data.Release()
	}
	rec := array.NewRecordBatch(sc, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	var idx [][]int32
	var distinct []int
	for i := range b.columns {
		if c := &b.columns[i]; c.idx != nil {
			if idx == nil {
				idx, distinct = make([][]int32, len(cols)), make([]int, len(cols))
			}
			idx[i], distinct[i] = c.idx[:n], b.dicts[i].Len()
		}
	}
	if idx == nil {
		return rec
	}
	return reader.NewIndexed(rec, idx, distinct)
}

// numbered reports whether the values of string column name repeat enough
// to number them (reader.StringDict): all but the addresses, whose numbers
// would only be thrown away when their dictionary fills.
//
// Numbering the addresses too was built and measured (December 2026,
// reader.AddrDict, a uint32 table for IPv4): the reader's lookup costs
// ~63 ns a value, as much as arrow-go's hashing in the writer (both miss
// the cache on tables of tens of thousands of entries), so it cost 26%
// more CPU with the writer of the day, and a writer that used the numbers
// for free would have saved only ~1.5%. It was removed; do not retry it
// without a cheaper lookup than a hash table.
func numbered(name string) bool {
	return !strings.HasSuffix(name, "addr")
}
