package reader

import (
	"encoding/binary"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
)

// Numbered string columns: a reader that has to look at every value of a
// string column anyway can number the values that repeat (account and
// interface ids, actions, statuses) as it parses them, one hash per value.
// The batch stays an ordinary record batch of dense string columns (every
// consumer reads it as before); the numbers travel beside it, in an Indexed
// batch, and internal/writer uses them to write the column's Parquet
// dictionary indices without hashing each value again. A batch that is
// sliced, taken from or rebuilt loses its numbers and is written as any
// other.

// MaxDictValues bounds the values a StringDict numbers for one object; a
// column with more is not numbered for the rest of the object (its values
// are too varied for a dictionary to pay).
const MaxDictValues = 1 << 12

// MaxDictValueBytes bounds the length of a numbered value, and
// MaxDictBytes the values of one dictionary together: ids, names and user
// agents are short, and a column with a longer value or too many bytes of
// values (a hostile or broken line) is not numbered for the rest of the
// object.
const (
	MaxDictValueBytes = 256
	MaxDictBytes      = 256 << 10
)

// StringDict numbers the distinct values of one string column, in the order
// they first appear, for up to MaxDictValues values.
type StringDict struct {
	m     map[string]int32
	bytes int // of the values in m
	full  bool
	// cache holds values numbered lately, in the slot their cacheHash picks: these columns hold
	// a few values per object, and a slot's compare is cheaper than the
	// map's hash and probe. It has minCacheSlots slots, and more as the
	// values grow in number (growCache): a column of a hundred values (the
	// interface ids of an object) missed two times in three in 64 slots.
	cache []cached
	shift uint // a hash's top 64-shift bits pick its slot
}

type cached struct {
	v   []byte
	num int32
	set bool // v holds a value: "" is one, so a length says nothing
}

const (
	minCacheSlots = 64
	maxCacheSlots = 1024
)

// Reset empties d for another object, keeping its memory.
func (d *StringDict) Reset() {
	if d.m == nil {
		d.m = map[string]int32{}
	}
	clear(d.m)
	d.bytes, d.full = 0, false
	if d.cache == nil {
		d.growCache(minCacheSlots)
	}
	for i := range d.cache {
		d.cache[i].set = false
	}
}

// NewStringDict returns an empty StringDict.
func NewStringDict() *StringDict {
	d := &StringDict{m: map[string]int32{}}
	d.growCache(minCacheSlots)
	return d
}

// growCache gives the cache n slots (a power of two), empty.
func (d *StringDict) growCache(n int) {
	d.cache = make([]cached, n)
	d.shift = uint(64 - bits.TrailingZeros(uint(n)))
}

// Number returns v's number, giving it the next one if v is new. It returns
// false, then and for every later value, once the dictionary is full.
func (d *StringDict) Number(v []byte) (int32, bool) {
	if d.full {
		return 0, false
	}
	c := &d.cache[cacheHash(v)>>d.shift]
	if c.set && string(c.v) == string(v) {
		return c.num, true
	}
	k, ok := d.m[string(v)]
	if !ok {
		if len(d.m) >= MaxDictValues || len(v) > MaxDictValueBytes || d.bytes+len(v) > MaxDictBytes {
			d.full, d.m = true, nil
			return 0, false
		}
		k = int32(len(d.m))
		d.m[string(v)] = k
		d.bytes += len(v)
		if len(d.m)*4 > len(d.cache) && len(d.cache) < maxCacheSlots {
			// A fourth of the slots taken: more values than the cache
			// holds well. The new cache starts empty.
			d.growCache(4 * len(d.cache))
			c = &d.cache[cacheHash(v)>>d.shift]
		}
	}
	c.v, c.num, c.set = append(c.v[:0], v...), k, true
	return k, true
}

// cacheHash hashes v for its slot (the hash's top bits) from its length
// and its first and last eight bytes: values of a column share a prefix
// (arn:aws:iam::…, eni-) or a suffix (….amazonaws.com), rarely both.
func cacheHash(v []byte) uint64 {
	n := len(v)
	var h uint64
	if n >= 8 {
		h = binary.LittleEndian.Uint64(v)*0xff51afd7ed558ccd ^ binary.LittleEndian.Uint64(v[n-8:])
	} else {
		for _, c := range v {
			h = h<<8 | uint64(c)
		}
	}
	return (h ^ uint64(n)) * 0x9e3779b97f4a7c15
}

// Len returns the values numbered so far: every number is below it.
func (d *StringDict) Len() int { return len(d.m) }

// Full reports whether the dictionary stopped numbering.
func (d *StringDict) Full() bool { return d.full }

// Indexed is a record batch with the numbers of the values of some of its
// string columns (see StringDict).
type Indexed struct {
	arrow.RecordBatch
	idx      [][]int32
	distinct []int
}

// NewIndexed wraps rec, taking over its reference: idx[i] (nil for a column
// without numbers) holds a number per row of column i, below distinct[i],
// equal for two non-null rows exactly when their values are equal. Null
// rows hold any number.
func NewIndexed(rec arrow.RecordBatch, idx [][]int32, distinct []int) *Indexed {
	return &Indexed{RecordBatch: rec, idx: idx, distinct: distinct}
}

// ValueNumbers returns the numbers of column i and their bound, or nil.
func (b *Indexed) ValueNumbers(i int) ([]int32, int) {
	if i >= len(b.idx) {
		return nil, 0
	}
	return b.idx[i], b.distinct[i]
}
