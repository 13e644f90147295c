package cloudtrail

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
	"convert/internal/schema"
)

// This file builds the Arrow arrays of a batch. Arrow's generic builders cost
// as much per cell as decoding the JSON did (a reserve check, an offset and a
// bitmap append through several calls, for each of some fifty cells per
// row), so rows are appended to plain Go slices instead, reused from batch
// to batch, and copied once per batch into buffers from Config.Mem.

// bitmap is a validity bitmap being built.
type bitmap struct {
	bits  []byte
	n     int
	nulls int
}

func (b *bitmap) add(ok bool) {
	if b.n&7 == 0 {
		b.bits = append(b.bits, 0)
	}
	if ok {
		b.bits[b.n>>3] |= 1 << (b.n & 7)
	} else {
		b.nulls++
	}
	b.n++
}

// addNulls adds k unset bits: the bits past n are unset already (add sets
// only those of valid cells), so only bytes are added.
func (b *bitmap) addNulls(k int) {
	b.n += k
	b.nulls += k
	for len(b.bits) < (b.n+7)/8 {
		b.bits = append(b.bits, 0)
	}
}

func (b *bitmap) reset() { b.bits, b.n, b.nulls = b.bits[:0], 0, 0 }

// node is one array of the batch: a string column, a struct, the resources
// list or the map, with its children.
type node struct {
	kind     opKind
	typ      arrow.DataType
	slot     int     // value slot (string), level id (struct), map slot (map)
	valid    bitmap  // a string node only counts its NULLs in it (see nullOffset)
	offsets  []int32 // string: byte offsets; list and map: element offsets
	data     []byte  // string bytes
	children []*node
	// dict numbers the values of a top-level string column whose values
	// repeat (nil for the others), for the whole object, and idx holds
	// the numbers of the batch's rows while numbering is on (see
	// reader.Indexed).
	dict      *reader.StringDict
	idx       []int32
	numbering bool
	// lastLen is the length of the batch's last numbered value, -1 before
	// the first, and lastNum its number (see number); lastWords holds its
	// bytes, zeros past its length, when it has at most wordsBytes.
	lastLen   int
	lastNum   int32
	lastWords [3]uint64
	leaf      int // the Parquet column of a string node (the first leaf of others)
}

// opKind says how a node takes a row.
type opKind uint8

const (
	opString    opKind = iota // a string column of the decoded values
	opStruct                  // a struct: present or NULL
	opResources               // the resources list of structs
	opMap                     // a map<string,string>
	opUnmapped                // the unmappedfields column
	opInner                   // a child of opResources or opMap, filled by it
)

// A string node builds no bitmap while rows are appended: a NULL row's
// offset has nullOffset set, valid counts the NULLs, and stringData splits
// the offsets into the array's offsets and bitmap once per batch, in the
// pass that copies them anyway (per row, that is one bit set in a value
// already stored, not a bitmap append). The bit is free: offsets are int32
// and never negative.
const nullOffset = -1 << 31

func (n *node) addString(v value) {
	if !v.ok {
		n.addNullString()
		return
	}
	n.addValue(v.b)
}

// addValue appends the non-NULL value b to a string node.
func (n *node) addValue(b []byte) {
	l := len(n.data)
	if len(b) > wordsBytes || cap(b) < wordsBytes || cap(n.data)-l < wordsBytes {
		if n.numbering {
			n.number(b)
		}
		n.data = append(n.data, b...)
		n.offsets = append(n.offsets, int32(len(n.data)))
		return
	}
	// Most values are short (names, regions, account ids, times): copied
	// as three words, not by a call to memmove, and compared with the
	// last numbered value by those words, not by a call to memequal. The
	// bytes read past b are the record's (or the scratch buffer's) own;
	// those written past it land beyond len(n.data), to be overwritten by
	// the next value or never part of the column.
	src, dst := b[:wordsBytes], n.data[l:l+wordsBytes]
	w0, w1, w2 := binary.LittleEndian.Uint64(src), binary.LittleEndian.Uint64(src[8:]), binary.LittleEndian.Uint64(src[16:])
	if n.numbering {
		m := &reader.WordMasks[len(b)]
		if w := [3]uint64{w0 & m[0], w1 & m[1], w2 & m[2]}; len(b) == n.lastLen && w == n.lastWords {
			n.idx = append(n.idx, n.lastNum)
		} else {
			n.numberWords(b, w)
		}
	}
	binary.LittleEndian.PutUint64(dst, w0)
	binary.LittleEndian.PutUint64(dst[8:], w1)
	binary.LittleEndian.PutUint64(dst[16:], w2)
	n.data = n.data[:l+len(b)]
	n.offsets = append(n.offsets, int32(l+len(b)))
}

// wordsBytes is the longest value addValue copies and compares as words.
const wordsBytes = reader.WordBytes

// valueWords returns b, of at most wordsBytes bytes, as the words
// numberWords compares.
func valueWords(b []byte) [3]uint64 {
	var buf [wordsBytes]byte
	copy(buf[:], b)
	return [3]uint64{binary.LittleEndian.Uint64(buf[:]), binary.LittleEndian.Uint64(buf[8:]), binary.LittleEndian.Uint64(buf[16:])}
}

// numberWords is number for a value b of at most wordsBytes bytes, given
// as words w, zeros past its length, that is not the last numbered one.
func (n *node) numberWords(b []byte, w [3]uint64) {
	k, ok := n.dict.Number(b)
	if !ok {
		n.numbering, n.idx = false, n.idx[:0]
		return
	}
	n.idx = append(n.idx, k)
	n.lastLen, n.lastNum, n.lastWords = len(b), k, w
}

// addNullString appends a NULL to a string node.
func (n *node) addNullString() {
	n.offsets = append(n.offsets, int32(len(n.data))|nullOffset)
	n.valid.nulls++
	if n.numbering {
		n.idx = append(n.idx, 0)
	}
}

// number appends the number of b, a value not yet appended to n.data, or
// turns numbering off for the batch once the object's dictionary is full.
// These columns' values often repeat from row to row, and the last
// non-NULL value is the tail of n.data (NULLs add no bytes): a value equal
// to it takes its number without a lookup in the dictionary, which would
// have given the same.
func (n *node) number(b []byte) {
	if len(b) == n.lastLen && string(n.data[len(n.data)-len(b):]) == string(b) {
		n.idx = append(n.idx, n.lastNum)
		return
	}
	k, ok := n.dict.Number(b)
	if !ok {
		n.numbering, n.idx = false, n.idx[:0]
		return
	}
	n.idx = append(n.idx, k)
	n.lastLen, n.lastNum = len(b), k
	if len(b) <= wordsBytes {
		n.lastWords = valueWords(b) // for numberWords
	}
}

// appendRepeat appends k copies of v to s.
func appendRepeat(s []int32, v int32, k int) []int32 {
	s = slices.Grow(s, k)
	tail := s[len(s) : len(s)+k]
	for i := range tail {
		tail[i] = v
	}
	return s[:len(s)+k]
}

// rowsHeld is the number of rows a node that takes rows holds.
func (n *node) rowsHeld() int {
	if n.kind == opString || n.kind == opUnmapped {
		return len(n.offsets) - 1
	}
	return n.valid.n
}

// fillTo appends NULLs to a node that takes rows until it holds rows of
// them. appendRow only appends what a record has, so a node holds fewer
// rows than the batch where the records since its last value lacked it
// (or its struct); those rows are NULL, filled in here, before its next
// value and when the batch is made.
func (n *node) fillTo(rows int) {
	gap := rows - n.rowsHeld()
	if gap <= 0 {
		return
	}
	switch n.kind {
	case opString, opUnmapped:
		n.offsets = appendRepeat(n.offsets, int32(len(n.data))|nullOffset, gap)
		n.valid.nulls += gap
		if n.numbering {
			n.idx = append(n.idx, make([]int32, gap)...)
		}
	case opResources, opMap:
		n.valid.addNulls(gap)
		n.offsets = appendRepeat(n.offsets, n.offsets[len(n.offsets)-1], gap)
	default:
		n.valid.addNulls(gap)
	}
}

func (n *node) reset() {
	n.valid.reset()
	n.data = n.data[:0]
	n.offsets = append(n.offsets[:0], 0)
	n.idx = n.idx[:0]
	n.numbering = n.dict != nil && !n.dict.Full()
	n.lastLen = -1
	for _, c := range n.children {
		c.reset()
	}
}

// columns is the set of arrays of one batch, in schema order.
type columns struct {
	top []*node // one per schema column
	ops []*node // every node that takes rows, in pre-order
	// rows is the number of rows appended to the batch.
	rows int
	// leaves counts the Parquet leaf columns while the nodes are made;
	// numbered holds the struct leaves that number their values, whose
	// leaf is their Parquet column.
	leaves   int
	numbered []*node
}

func newColumns() *columns {
	sc := schema.CloudTrailSchema()
	c := &columns{}
	fields := sc.Fields()
	for k := range plan.root.fields {
		n := c.newNode(&plan.root.fields[k], fields[k].Type, fields[k].Name)
		if n.kind == opString && numberedColumns[fields[k].Name] {
			n.dict = reader.NewStringDict()
		}
		c.top = append(c.top, n)
	}
	un := &node{kind: opUnmapped, typ: fields[len(fields)-1].Type, dict: reader.NewStringDict()}
	c.top = append(c.top, un)
	c.ops = append(c.ops, un)
	c.leaves++
	for _, n := range c.top {
		n.reset()
	}
	return c
}

func (c *columns) newNode(f *field, typ arrow.DataType, path string) *node {
	n := &node{typ: typ, slot: f.slot, leaf: c.leaves}
	c.ops = append(c.ops, n)
	switch f.kind {
	case kindString, kindJSON:
		n.kind = opString
		c.leaves++
		if strings.Contains(path, ".") && numberedLeaves[path] {
			n.dict = reader.NewStringDict()
			c.numbered = append(c.numbered, n)
		}
	case kindStruct:
		n.kind, n.slot = opStruct, f.child.id
		st := typ.(*arrow.StructType)
		for k := range f.child.fields { // children[k] takes field k of the level
			n.children = append(n.children, c.newNode(&f.child.fields[k], st.Field(k).Type, path+"."+st.Field(k).Name))
		}
	case kindResources:
		n.kind = opResources
		elemType := typ.(*arrow.ListType).Elem().(*arrow.StructType)
		elem := &node{kind: opInner, typ: elemType}
		for k := range elemType.Fields() {
			elem.children = append(elem.children, &node{kind: opInner, typ: elemType.Field(k).Type})
		}
		n.children = []*node{elem}
		c.leaves += len(elem.children)
	case kindMap:
		n.kind = opMap
		entries := typ.(*arrow.MapType).Elem().(*arrow.StructType)
		e := &node{kind: opInner, typ: entries}
		for k := range entries.Fields() {
			e.children = append(e.children, &node{kind: opInner, typ: entries.Field(k).Type})
		}
		n.children = []*node{e}
		c.leaves += len(e.children)
	}
	return n
}

// reset empties the columns for another object.
func (c *columns) reset() {
	c.rows = 0
	for _, n := range c.top {
		if n.dict != nil {
			n.dict.Reset()
		}
		n.reset()
	}
	for _, n := range c.numbered {
		n.dict.Reset()
		n.reset()
	}
}

// numberedLeaves are the string fields of the structs whose values repeat
// within an object: the kinds and names of identities, the roles sessions
// are issued by, TLS versions and ciphers. The principal and access key
// ids, session creation dates and the addendum's ids are nearly all
// distinct, and the onBehalfOf fields rare.
var numberedLeaves = map[string]bool{
	"useridentity.type":      true,
	"useridentity.arn":       true,
	"useridentity.accountid": true,
	"useridentity.invokedby": true,
	"useridentity.username":  true,
	"useridentity.sessioncontext.attributes.mfaauthenticated":           true,
	"useridentity.sessioncontext.sessionissuer.type":                    true,
	"useridentity.sessioncontext.sessionissuer.arn":                     true,
	"useridentity.sessioncontext.sessionissuer.accountid":               true,
	"useridentity.sessioncontext.sessionissuer.username":                true,
	"useridentity.sessioncontext.ec2roledelivery":                       true,
	"useridentity.sessioncontext.webidfederationdata.federatedprovider": true,
	"addendum.reason":                     true,
	"addendum.updatedfields":              true,
	"tlsdetails.tlsversion":               true,
	"tlsdetails.ciphersuite":              true,
	"tlsdetails.clientprovidedhostheader": true,
}

// numberedColumns are the top-level string columns whose values repeat
// within an object (a service, an action, a region, an account, a client),
// so that numbering them (reader.StringDict) spares the Parquet writer a
// hash per row; unmappedfields, which most often holds the same few fields
// ({"managementEvent":true}), is numbered too. The ids and times (eventid, requestid, sharedeventid,
// eventtime) and the JSON texts are nearly all distinct: their numbers
// would only be thrown away when their dictionary fills.
var numberedColumns = map[string]bool{
	"eventversion":                 true,
	"eventsource":                  true,
	"eventname":                    true,
	"awsregion":                    true,
	"sourceipaddress":              true,
	"useragent":                    true,
	"errorcode":                    true,
	"errormessage":                 true,
	"eventtype":                    true,
	"apiversion":                   true,
	"readonly":                     true,
	"recipientaccountid":           true,
	"vpcendpointid":                true,
	"vpcendpointaccountid":         true,
	"eventcategory":                true,
	"sessioncredentialfromconsole": true,
}

// size is the capacity of the columns' slices in bytes.
func (c *columns) size() int {
	total := 0
	var walk func(n *node)
	walk = func(n *node) {
		total += cap(n.data) + 4*cap(n.offsets) + cap(n.valid.bits) + 4*cap(n.idx)
		for _, ch := range n.children {
			walk(ch)
		}
	}
	for _, n := range c.top {
		walk(n)
	}
	return total
}

// appendRow appends the decoded record d. It cannot fail.
//
// It visits only the members the record has (decoder.seen), not every
// column: a record fills a few dozen of the hundred-odd nodes, and a node
// it lacks is left short, to be filled with NULLs in one go (fillTo).
func (c *columns) appendRow(d *decoder, unmapped value) {
	row := c.rows
	c.appendLevel(d, plan.root, c.top, row)
	if unmapped.ok {
		un := c.top[len(c.top)-1]
		un.fillTo(row)
		un.addValue(unmapped.b)
	}
	c.rows++
	d.valsNull = true
}

// appendLevel appends the members of the object of level l that the record
// has to nodes, the level's nodes (nodes[k] takes field k), at row.
func (c *columns) appendLevel(d *decoder, l *level, nodes []*node, row int) {
	for seen := d.seen[l.id]; seen != 0; seen &= seen - 1 {
		n := nodes[bits.TrailingZeros64(seen)]
		switch n.kind {
		case opString:
			if v := &d.vals[n.slot]; v.ok {
				if len(n.offsets) <= row { // fillTo's own test, to call it only for a gap
					n.fillTo(row)
				}
				n.addValue(v.b)
				v.ok = false // see decoder.valsNull
			}
		case opStruct:
			// NULL when the member was null or not an object.
			if d.present[n.slot] {
				if n.valid.n < row {
					n.fillTo(row)
				}
				n.valid.add(true)
				c.appendLevel(d, plan.all[n.slot], n.children, row)
			}
		case opResources:
			if !d.resOK {
				continue
			}
			if n.valid.n < row {
				n.fillTo(row)
			}
			elem := n.children[0]
			width := len(elem.children)
			for e := 0; e < d.resN; e++ {
				ok := d.resValid[e]
				elem.valid.add(ok)
				vals := d.resVals[e*width : (e+1)*width]
				for j, f := range elem.children {
					if ok {
						f.addString(vals[j])
					} else {
						f.addString(value{})
					}
				}
			}
			n.valid.add(true)
			n.offsets = append(n.offsets, int32(elem.valid.n))
		case opMap:
			m := &d.maps[n.slot]
			if !m.ok {
				continue
			}
			if n.valid.n < row {
				n.fillTo(row)
			}
			e := n.children[0]
			for _, kv := range m.entries {
				e.valid.add(true)
				e.children[0].addString(kv.key)
				e.children[1].addString(kv.val)
			}
			n.valid.add(true)
			n.offsets = append(n.offsets, int32(e.valid.n))
		}
	}
}

// newRecordBatch turns the appended rows into a record batch allocated from
// mem and resets the columns for the next batch. The batch is a
// *reader.Indexed when some column's values are numbered.
func (c *columns) newRecordBatch(mem memory.Allocator, rows int) arrow.RecordBatch {
	for _, n := range c.ops {
		n.fillTo(rows)
	}
	c.rows = 0
	cols := make([]arrow.Array, len(c.top))
	for i, n := range c.top {
		data := n.arrayData(mem)
		cols[i] = array.MakeFromData(data)
		data.Release()
	}
	rec := array.NewRecordBatch(schema.CloudTrailSchema(), cols, int64(rows))
	for _, a := range cols {
		a.Release()
	}
	// The numbers are copied, all into one slice: the batch outlives the
	// columns' slices.
	numbered := func(n *node) bool { return n.numbering && len(n.idx) == rows }
	count := 0
	for _, n := range c.top {
		if numbered(n) {
			count++
		}
	}
	for _, n := range c.numbered {
		if numbered(n) {
			count++
		}
	}
	nums := make([]int32, 0, count*rows)
	take := func(n *node) []int32 {
		nums = append(nums, n.idx...)
		return nums[len(nums)-rows : len(nums) : len(nums)]
	}
	var idx [][]int32
	var distinct []int
	for i, n := range c.top {
		if !numbered(n) {
			continue
		}
		if idx == nil {
			idx, distinct = make([][]int32, len(c.top)), make([]int, len(c.top))
		}
		idx[i], distinct[i] = take(n), n.dict.Len()
	}
	var leaf [][]int32
	var leafBound []int
	for _, n := range c.numbered {
		if !numbered(n) {
			continue
		}
		if leaf == nil {
			leaf, leafBound = make([][]int32, c.leaves), make([]int, c.leaves)
		}
		leaf[n.leaf], leafBound[n.leaf] = take(n), n.dict.Len()
	}
	for _, n := range c.top {
		n.reset()
	}
	if idx == nil && leaf == nil {
		return rec
	}
	ix := reader.NewIndexed(rec, idx, distinct)
	if leaf == nil {
		return ix
	}
	return &leafIndexed{Indexed: ix, leaf: leaf, leafBound: leafBound}
}

// leafIndexed is a batch that numbers the values of struct leaves too.
type leafIndexed struct {
	*reader.Indexed
	leaf      [][]int32 // per Parquet column: a number per row, or nil
	leafBound []int
}

// LeafNumbers returns the numbers of the struct leaf that is Parquet column
// leaf, a number per row (any for a NULL), and their bound; or nil.
func (b *leafIndexed) LeafNumbers(leaf int) ([]int32, int) {
	if leaf >= len(b.leaf) {
		return nil, 0
	}
	return b.leaf[leaf], b.leafBound[leaf]
}

func (n *node) arrayData(mem memory.Allocator) arrow.ArrayData {
	if n.typ.ID() == arrow.STRING {
		return n.stringData(mem)
	}
	var validity *memory.Buffer
	if n.valid.nulls > 0 {
		validity = reader.CopyBuffer(mem, n.valid.bits)
	}
	var buffers []*memory.Buffer
	var children []arrow.ArrayData
	switch n.typ.ID() {
	case arrow.STRUCT:
		buffers = []*memory.Buffer{validity}
		for _, c := range n.children {
			children = append(children, c.arrayData(mem))
		}
	default: // LIST, MAP
		buffers = []*memory.Buffer{validity, reader.CopyBuffer(mem, arrow.Int32Traits.CastToBytes(n.offsets))}
		children = []arrow.ArrayData{n.children[0].arrayData(mem)}
	}
	data := array.NewData(n.typ, n.valid.n, buffers, children, n.valid.nulls, 0)
	for _, b := range buffers {
		if b != nil {
			b.Release()
		}
	}
	for _, c := range children {
		c.Release()
	}
	return data
}

// stringData is arrayData for a string node: its offsets split into the
// array's offsets and bitmap (see nullOffset).
func (n *node) stringData(mem memory.Allocator) arrow.ArrayData {
	rows := len(n.offsets) - 1
	offsets := memory.NewResizableBuffer(mem)
	offsets.Resize(4 * len(n.offsets))
	n.valid.bits = slices.Grow(n.valid.bits[:0], (rows+7)/8)[:(rows+7)/8]
	nulls := n.valid.nulls
	splitOffsets(arrow.Int32Traits.CastFromBytes(offsets.Bytes()), n.offsets, n.valid.bits, nulls)
	var validity *memory.Buffer
	if nulls > 0 {
		validity = reader.CopyBuffer(mem, n.valid.bits)
	}
	buffers := []*memory.Buffer{validity, offsets, reader.CopyBuffer(mem, n.data)}
	data := array.NewData(n.typ, rows, buffers, nil, nulls, 0)
	for _, b := range buffers {
		if b != nil {
			b.Release()
		}
	}
	return data
}

// splitOffsets writes the offsets of src, whose NULL rows have nullOffset
// set, to dst (as long) without the bit, and the rows' validity to valid, a
// bit per row after the first offset (left as it is when there are no
// NULLs: the array then has no bitmap). nulls is the number of NULL rows: a
// column without any, or NULL in every row, takes a shortcut.
func splitOffsets(dst, src []int32, valid []byte, nulls int) {
	rows := len(src) - 1
	dst = dst[:len(src)]
	valid = valid[:(rows+7)/8]
	switch nulls {
	case 0:
		copy(dst, src)
		return
	case rows:
		for i, o := range src {
			dst[i] = o &^ nullOffset
		}
		clear(valid)
		return
	}
	dst[0] = src[0]
	src, dst = src[1:], dst[1:]
	k := 0
	for ; len(src) >= 8; k++ {
		s, d := (*[8]int32)(src), (*[8]int32)(dst)
		d[0], d[1], d[2], d[3] = s[0]&^nullOffset, s[1]&^nullOffset, s[2]&^nullOffset, s[3]&^nullOffset
		d[4], d[5], d[6], d[7] = s[4]&^nullOffset, s[5]&^nullOffset, s[6]&^nullOffset, s[7]&^nullOffset
		null := uint32(s[0])>>31 | uint32(s[1])>>31<<1 | uint32(s[2])>>31<<2 | uint32(s[3])>>31<<3 |
			uint32(s[4])>>31<<4 | uint32(s[5])>>31<<5 | uint32(s[6])>>31<<6 | uint32(s[7])>>31<<7
		valid[k] = ^byte(null)
		src, dst = src[8:], dst[8:]
	}
	if len(src) > 0 {
		var null uint32
		for j, o := range src {
			dst[j] = o &^ nullOffset
			null |= uint32(o) >> 31 << j
		}
		valid[k] = byte(^null) & (1<<len(src) - 1)
	}
}
