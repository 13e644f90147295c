package writer

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// dictColumn writes a dictionary-encoded string column chunk from batches
// whose values are numbered (valueNumbers), without hashing every row in
// arrow-go's dictionary encoder.
//
// arrow-go's encoder keeps the chunk's dictionary (its memo table) and takes
// either values, which it hashes one by one, or indices into that dictionary
// (WriteDictIndices). dictColumn mirrors the dictionary in a map: per batch,
// the first row of each number is looked up there once; a value the chunk
// has not seen yet is written as a value (arrow-go adds it to its
// dictionary, and to the page's statistics), every other row as an index.
// So the dictionary page, the RLE indices and the fallback to plain encoding
// past the dictionary limit are arrow-go's own; only the hashing per row is
// gone. Statistics of the indexed rows are set from the distinct values they
// reference, and pages are finished only between writes, so that each
// page's statistics are those of its rows.
type dictColumn struct {
	cw     file.ColumnChunkWriter // the chunk the state is for
	memo   map[string]int32       // the chunk's dictionary: value → index
	values []string               // index → value
	dense  bool                   // values only, for the rest of the chunk
	probed bool                   // probe has judged the chunk's dictionary
	stale  bool                   // arrow-go's dictionary may have entries the mirror lacks

	trans []int32  // batch number → dictionary index, where stamp == gen
	stamp []uint32 // per batch number
	gen   uint32
	seen  []uint32 // per dictionary index: the segment that last had it
	seg   uint32
	idx   []int32 // dictionary index per row (at the column's offset), during write
	// rowIndices, shared by the columns of a file (they are written one
	// at a time), holds idx between writes: a file of many numbered
	// columns keeps one batch of indices, not one per column.
	rowIndices *[]int32
	single     [1]parquet.ByteArray
	// written counts the chunk's non-NULL values so far (numbered or
	// not), by which probe judges.
	written int
}

// dictIndexer is arrow-go's dictionary encoder, as far as dictColumn uses it.
type dictIndexer interface {
	NumEntries() int
	PutIndices(arrow.Array) error
	DictEncodedSize() int
	WriteDict(out []byte)
	// AddRawSize and ObservedRawSize count the plain bytes of the values
	// of the unfinished page, by which arrow-go sizes dictionary pages and
	// judges whether the dictionary pays.
	AddRawSize(int64)
	ObservedRawSize() int64
}

type pageFlusher interface{ FlushCurrentPage() error }

// start resets the state when cw is a new chunk (a new row group).
func (d *dictColumn) start(cw file.ColumnChunkWriter) {
	if d.cw == cw {
		return
	}
	// arrow-go judges after each write whether the dictionary pays (on
	// uncompressed pages only); a value written alone would fail that
	// test, so such columns are written as values, as before.
	d.cw, d.dense, d.stale, d.probed = cw, cw.Properties().DictionaryCostFallbackEnabledFor(cw.Descr().Path()), false, false
	d.memo, d.values = map[string]int32{}, d.values[:0]
	for i := range d.seen {
		d.seen[i] = 0
	}
	d.seg = 0
	d.written = 0
}

// writeValues writes a batch without numbers through writeDense, as values,
// which arrow-go adds to its dictionary. The mirror reads the new entries
// back from arrow-go's dictionary when the next numbered batch comes, so
// that it still goes in as indices (a batch taken from two days' rows has
// no numbers, and must not turn the rest of the chunk into values); a
// column that never gets numbers (the addresses) never pays for that.
//
// The first probeRows rows of a chunk's column are written alone, and if
// most of them were new to the dictionary (see probeDictionary) the chunk
// falls back to plain encoding there, as arrow-go does when the dictionary
// overflows, instead of hashing values into a dictionary that would
// overflow anyway.
func (d *dictColumn) writeValues(cw file.ColumnChunkWriter, col arrow.Array, levels []int16, writeDense func(arrow.Array, []int16) error) error {
	d.start(cw)
	d.stale = true
	if d.probed {
		return writeDense(col, levels)
	}
	head := int64(probeRows - cw.RowsWritten())
	if head <= 0 || head >= int64(col.Len()) {
		d.written += presentValues(col, levels, cw.Descr().MaxDefinitionLevel())
		if err := writeDense(col, levels); err != nil {
			return err
		}
		if head <= 0 || int64(col.Len()) == head {
			d.probe(cw)
		}
		return nil
	}
	first := array.NewSlice(col, 0, head)
	defer first.Release()
	var lvFirst, lvRest []int16
	if levels != nil {
		lvFirst, lvRest = levels[:head], levels[head:]
	}
	d.written += presentValues(first, lvFirst, cw.Descr().MaxDefinitionLevel())
	if err := writeDense(first, lvFirst); err != nil {
		return err
	}
	d.probe(cw)
	rest := array.NewSlice(col, head, int64(col.Len()))
	defer rest.Release()
	return writeDense(rest, lvRest)
}

// probeRows is how many rows of a chunk's column probeDictionary judges by.
const probeRows = 4096

// probe decides, once per chunk, whether the dictionary of a column written
// as values is worth keeping: when more than nine in ten of the values of
// the first probeRows rows were distinct (random addresses, timestamps,
// ids), the dictionary would hold nearly every value, so that it saves no
// bytes over plain pages and Snappy, and overflows after a hash per value;
// the chunk then falls back to plain encoding (arrow-go's FallbackToPlain,
// as on an overflow). Half is too low a bar: S3 object keys are half new in
// the first rows of a chunk, and then repeat. The share is of values, not
// rows: a column that is mostly NULL (CloudTrail's principal ids, S3
// version ids) has few values per row, all distinct.
func (d *dictColumn) probe(cw file.ColumnChunkWriter) {
	d.probed = true
	enc, ok := cw.CurrentEncoder().(dictIndexer)
	if !ok || !isDictEncoding(cw.CurrentEncoder().Encoding()) {
		return
	}
	if 10*enc.NumEntries() > 9*d.written {
		cw.FallbackToPlain()
		d.setDense()
	}
}

// presentValues counts the values of col that are written, not NULL: those
// whose definition level is the leaf's, maxDef (every one without levels).
func presentValues(col arrow.Array, levels []int16, maxDef int16) int {
	if levels == nil {
		return col.Len() - col.NullN()
	}
	n := 0
	for _, l := range levels {
		if l == maxDef {
			n++
		}
	}
	return n
}

// resync adds the entries arrow-go's dictionary has beyond the mirror's.
func (d *dictColumn) resync(enc dictIndexer) {
	d.stale = false
	if enc.NumEntries() == len(d.values) {
		return
	}
	dict := make([]byte, enc.DictEncodedSize())
	enc.WriteDict(dict)
	// PLAIN byte arrays: a 4-byte little-endian length, then the bytes.
	for i := 0; i < enc.NumEntries(); i++ {
		if len(dict) < 4 || len(dict) < 4+int(binary.LittleEndian.Uint32(dict)) {
			d.setDense()
			return
		}
		n := int(binary.LittleEndian.Uint32(dict))
		if i >= len(d.values) {
			s := string(dict[4 : 4+n])
			d.memo[s] = int32(i)
			d.values = append(d.values, s)
		}
		dict = dict[4+n:]
	}
}

// setDense writes the rest of the chunk as values and lets the mirror of
// the dictionary go.
func (d *dictColumn) setDense() {
	d.dense, d.memo, d.values = true, nil, nil
}

func (d *dictColumn) encoder() (dictIndexer, bool) {
	if d.dense {
		return nil, false
	}
	enc, ok := d.cw.CurrentEncoder().(dictIndexer)
	return enc, ok && isDictEncoding(d.cw.CurrentEncoder().Encoding())
}

func isDictEncoding(e parquet.Encoding) bool {
	return e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
}

// write writes col, whose non-null rows have the numbers nums (below bound),
// with the definition levels levels (nil for a required column). col is a
// top-level column or a leaf reached through structs only (one slot per
// row), NULL exactly where its level is below the leaf's.
func (d *dictColumn) write(cw file.ColumnChunkWriter, col arrow.Array, nums []int32, bound int, levels []int16, writeDense func(arrow.Array, []int16) error) error {
	d.start(cw)
	// NULL exactly where the level is below the leaf's: every other slot
	// is a value, however the rows are written below.
	d.written += col.Len() - col.NullN()
	enc, ok := d.encoder()
	if ok && d.stale {
		d.resync(enc)
		enc, ok = d.encoder()
	}
	bs, statsOK := cw.PageStatistics().(*metadata.ByteArrayStatistics)
	if !ok || (cw.PageStatistics() != nil && !statsOK) {
		d.setDense()
		return writeDense(col, levels)
	}
	bw, ok := cw.(*file.ByteArrayColumnChunkWriter)
	if !ok {
		d.setDense()
		return writeDense(col, levels)
	}
	var offs []int32
	var data []byte
	switch a := col.(type) {
	case *array.String:
		offs, data = a.ValueOffsets(), a.ValueBytes()
	case *array.Binary:
		offs, data = a.ValueOffsets(), a.ValueBytes()
	default:
		d.setDense()
		return writeDense(col, levels)
	}
	if data == nil {
		data = []byte{} // "" must stay a value, not "unset", in the statistics
	}
	base := offs[0]

	n, off := col.Len(), col.Data().Offset()
	if len(nums) < n {
		return fmt.Errorf("writer: %d value numbers for %d rows", len(nums), n)
	}
	if len(d.trans) < bound {
		d.trans = make([]int32, bound)
		d.stamp = make([]uint32, bound)
		d.gen = 0
	}
	d.gen++
	if d.gen == 0 { // wrapped: old stamps could match
		clear(d.stamp)
		d.gen = 1
	}
	if d.rowIndices == nil {
		d.rowIndices = new([]int32)
	}
	if cap(*d.rowIndices) < off+n {
		*d.rowIndices = make([]int32, off+n)
	}
	d.idx = (*d.rowIndices)[:off+n]
	defer func() { d.idx = nil }()
	bits := col.NullBitmapBytes()
	hasNulls := col.NullN() > 0
	validity := col.Data().Buffers()[0]
	if len(d.seen) < len(d.values) {
		d.seen = append(d.seen, make([]uint32, len(d.values)-len(d.seen))...)
	}

	// The rows between two values new to the chunk make a segment, written
	// as indices at once (flush); its statistics are gathered on the way:
	// the distinct dictionary indices it references (seen), their least and
	// greatest value, its NULLs.
	stats := bs != nil
	var seg segmentStats
	d.nextSegment()
	segStart := 0
	offs = offs[: n+1 : n+1]
	flush := func(end int) error {
		if end == segStart {
			return nil
		}
		if err := d.putIndices(bw, bs, validity, off, segStart, end, levels, hasNulls, &seg); err != nil {
			return err
		}
		// The plain bytes of the segment's values (a length and the
		// bytes), counted after the write, so that arrow-go finishes a
		// page only between writes.
		valid := int64(end - segStart - seg.nulls)
		enc.AddRawSize(int64(offs[end]-offs[segStart]) - seg.nullBytes + 4*valid)
		segStart, seg = end, segmentStats{}
		d.nextSegment()
		return nil
	}
	idx := d.idx[off : off+n]
	nums = nums[:n:n]
	stamp, trans, gen := d.stamp[:bound:bound], d.trans[:bound:bound], d.gen
	seen, segID := d.seen, d.seg
	for r := 0; r < n; r++ {
		if hasNulls && !bitutil.BitIsSet(bits, off+r) {
			idx[r] = 0
			seg.nulls++
			seg.nullBytes += int64(offs[r+1] - offs[r]) // 0 but for odd producers
			continue
		}
		k := nums[r]
		if uint(k) >= uint(bound) {
			return fmt.Errorf("writer: value number %d out of [0, %d)", k, bound)
		}
		if stamp[k] == gen {
			m := trans[k]
			idx[r] = m
			if stats && seen[m] != segID {
				seen[m] = segID
				seg.add(d.values[m])
			}
			continue
		}
		v := data[offs[r]-base : offs[r+1]-base]
		m, known := d.memo[string(v)]
		if !known {
			// A value new to the chunk: written as a value, so that
			// arrow-go adds it to its dictionary.
			if err := flush(r); err != nil {
				return err
			}
			segID = d.seg
			before := enc.NumEntries()
			d.single[0] = v
			var lv []int16
			if levels != nil {
				lv = levels[r : r+1] // the level of a value, at any depth
			}
			if _, err := bw.WriteBatch(d.single[:], lv, nil); err != nil {
				return err
			}
			segStart = r + 1
			enc2, ok := d.encoder()
			if !ok || enc2.NumEntries() != before+1 {
				// Past the dictionary limit arrow-go fell back to plain
				// encoding: the rest of the chunk is values.
				d.setDense()
				if r+1 < n {
					rest := array.NewSlice(col, int64(r+1), int64(n))
					defer rest.Release()
					var lvRest []int16
					if levels != nil {
						lvRest = levels[r+1:]
					}
					return writeDense(rest, lvRest)
				}
				return nil
			}
			enc = enc2
			m = int32(before)
			s := string(v)
			d.memo[s] = m
			d.values = append(d.values, s)
			d.seen = append(d.seen, 0)
			seen = d.seen
		} else if stats && seen[m] != segID {
			seen[m] = segID
			seg.add(d.values[m])
		}
		stamp[k], trans[k] = gen, m
		idx[r] = m
	}
	if err := flush(n); err != nil {
		return err
	}
	if enc.ObservedRawSize() >= cw.Properties().DataPageSize() {
		if f, ok := cw.(pageFlusher); ok {
			return f.FlushCurrentPage()
		}
	}
	return nil
}

// segmentStats are the statistics of a segment's rows: the least and
// greatest of the distinct values they reference, and their NULLs.
type segmentStats struct {
	lo, hi    string
	any       bool
	nulls     int
	nullBytes int64 // of NULL slots, which a producer may give bytes
}

func (s *segmentStats) add(v string) {
	switch {
	case !s.any:
		s.lo, s.hi, s.any = v, v, true
	case v < s.lo:
		s.lo = v
	case v > s.hi:
		s.hi = v
	}
}

// nextSegment starts a segment: no dictionary index is seen in it yet.
func (d *dictColumn) nextSegment() {
	d.seg++
	if d.seg == 0 {
		clear(d.seen)
		d.seg = 1
	}
}

// putIndices writes rows [a, b) of the column as dictionary indices and
// adds their statistics, seg, to the page's.
func (d *dictColumn) putIndices(bw *file.ByteArrayColumnChunkWriter, bs *metadata.ByteArrayStatistics,
	validity *memory.Buffer, off, a, b int, levels []int16, hasNulls bool, seg *segmentStats) error {
	if bs != nil {
		bs.IncNulls(int64(seg.nulls))
		bs.IncNumValues(int64(b - a - seg.nulls))
		if seg.any {
			bs.SetMinMax(nonNil(seg.lo), nonNil(seg.hi))
		}
	}
	nullCount := array.UnknownNullCount
	if !hasNulls {
		validity, nullCount = nil, 0 // a nil bitmap must come with its count
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, b-a,
		[]*memory.Buffer{validity, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.idx))}, nil, nullCount, off+a)
	defer data.Release()
	indices := array.MakeFromData(data)
	defer indices.Release()
	var lv []int16
	if levels != nil {
		lv = levels[a:b]
	}
	return bw.WriteDictIndices(indices, lv, nil)
}

// nonNil returns s as bytes that are never nil, so that "" counts as a
// value in arrow-go's statistics.
func nonNil(s string) parquet.ByteArray {
	if s == "" {
		return parquet.ByteArray([]byte{})
	}
	return parquet.ByteArray(s)
}
