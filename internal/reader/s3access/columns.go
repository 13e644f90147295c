package s3access

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
)

// The reader fills a batch in plain Go slices, one set per column, and
// copies each column into exactly sized Arrow buffers from Config.Mem when
// the batch is complete. An access-log row is 25 strings; appending them
// through array.StringBuilder (a Reserve, an offset, a value and a validity
// bit per call, each bounds-checked behind an interface of buffers) cost
// about twice as much as parsing the line. The slices are reused from batch
// to batch, so after the first batch no growth copies or zeroed
// allocations remain, and the Arrow buffers are as small as they can be.
// Released readers hand their slices to the next reader through a pool:
// access-log objects are small and many, and a reader per object would
// otherwise grow its slices from nothing every time.

// columnSet is the slices of one batch, all columns.
type columnSet struct {
	strs             [NumFields]stringColumn // unused at the bigint columns
	bytesSent, objSz int64Column
}

var columnSets = sync.Pool{New: func() any { return new(columnSet) }}

func (s *columnSet) reset() {
	for i := range s.strs {
		s.strs[i].reset()
	}
	s.bytesSent.reset()
	s.objSz.reset()
}

// stringColumn is one string column of the batch being filled.
type stringColumn struct {
	offsets []int32 // len = rows + 1
	data    []byte
	valid   []byte // validity bitmap, least significant bit first; a byte per 8 rows, so bitutil.BytesForBits(rows) long
	nulls   int
	// dict numbers the values of a column that repeats (nil for the
	// others), idx holds the numbers of the batch's rows; numbered tells
	// whether they are complete (see reader.Indexed).
	dict     *reader.StringDict
	idx      []int32
	numbered bool
}

func (c *stringColumn) reset() {
	c.offsets = append(c.offsets[:0], 0)
	c.data = c.data[:0]
	c.valid = c.valid[:0]
	c.nulls = 0
	c.idx = c.idx[:0]
	c.numbered = c.dict != nil && !c.dict.Full()
}

func (c *stringColumn) append(v []byte) {
	i := len(c.offsets) - 1
	if i&7 == 0 {
		c.valid = append(c.valid, 0)
	}
	c.valid[len(c.valid)-1] |= 1 << (i & 7)
	c.data = append(c.data, v...)
	c.offsets = append(c.offsets, int32(len(c.data)))
	if c.numbered {
		k, ok := c.dict.Number(v)
		c.idx = append(c.idx, k)
		c.numbered = ok
	}
}

func (c *stringColumn) appendNull() {
	if (len(c.offsets)-1)&7 == 0 {
		c.valid = append(c.valid, 0)
	}
	c.nulls++
	c.offsets = append(c.offsets, int32(len(c.data)))
	if c.numbered {
		c.idx = append(c.idx, 0)
	}
}

// numberedFields are the columns whose values repeat enough to number
// (reader.StringDict): owners, buckets, requesters, operations, statuses,
// agents, TLS and auth details. Times, keys, URIs, ids and referrers vary
// per request.
var numberedFields = [NumFields]bool{
	0: true, 1: true, 3: true, 4: true, 6: true, 9: true, 10: true, 16: true,
	19: true, 20: true, 21: true, 22: true, 23: true, 24: true, 25: true, 26: true,
}

// numbers returns a copy of the column's value numbers, or nil.
func (c *stringColumn) numbers() []int32 {
	if !c.numbered {
		return nil
	}
	return append([]int32(nil), c.idx...)
}

// array copies the column into Arrow buffers. The caller releases it.
func (c *stringColumn) array(mem memory.Allocator) arrow.Array {
	n := len(c.offsets) - 1
	buffers := []*memory.Buffer{validityBuffer(mem, c.valid, c.nulls),
		reader.CopyBuffer(mem, arrow.Int32Traits.CastToBytes(c.offsets)), reader.CopyBuffer(mem, c.data)}
	data := array.NewData(arrow.BinaryTypes.String, n, buffers, nil, c.nulls, 0)
	releaseBuffers(buffers)
	defer data.Release()
	return array.NewStringData(data)
}

// int64Column is one bigint column of the batch being filled.
type int64Column struct {
	values []int64
	valid  []byte
	nulls  int
}

func (c *int64Column) reset() {
	c.values = c.values[:0]
	c.valid = c.valid[:0]
	c.nulls = 0
}

// appendCount appends a byte count; noInt is NULL.
func (c *int64Column) appendCount(v int64) {
	i := len(c.values)
	if i&7 == 0 {
		c.valid = append(c.valid, 0)
	}
	if v == noInt {
		c.nulls++
		v = 0
	} else {
		c.valid[len(c.valid)-1] |= 1 << (i & 7)
	}
	c.values = append(c.values, v)
}

func (c *int64Column) array(mem memory.Allocator) arrow.Array {
	buffers := []*memory.Buffer{validityBuffer(mem, c.valid, c.nulls), reader.CopyBuffer(mem, arrow.Int64Traits.CastToBytes(c.values))}
	data := array.NewData(arrow.PrimitiveTypes.Int64, len(c.values), buffers, nil, c.nulls, 0)
	releaseBuffers(buffers)
	defer data.Release()
	return array.NewInt64Data(data)
}

// validityBuffer returns the bitmap as an Arrow buffer, or nil when the
// column has no NULL (Arrow's convention, and no allocation).
func validityBuffer(mem memory.Allocator, bitmap []byte, nulls int) *memory.Buffer {
	if nulls == 0 {
		return nil
	}
	return reader.CopyBuffer(mem, bitmap)
}

func releaseBuffers(buffers []*memory.Buffer) {
	for _, b := range buffers {
		if b != nil {
			b.Release()
		}
	}
}
