package writer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Nested top-level fields (structs, lists, maps) are written leaf by leaf
// through pqarrow.WriteArrowToColumn, with the definition and repetition
// levels computed here: pqarrow's own per-column writer, which computes them
// for its FileWriter, is not exported, and without it the top-level string
// columns of a nested schema (CloudTrail) could not be written through their
// value numbers (dictColumn). The levels are those of the Dremel encoding,
// which the schema and the arrays fix; each leaf gets one write per batch
// with the same values, levels and nullability that pqarrow's FileWriter
// passes, so the bytes are the same (TestNestedBytesMatchPqarrow), but for
// a struct's string leaf of nearly unique values, which the probe writes
// plain, as it does a top-level column (dictColumn.probe).

// stepKind is one step of the path from a top-level field to a leaf.
type stepKind uint8

const (
	stepStruct stepKind = iota // into child `child` of a struct
	stepList                   // into the elements of a list or map
	stepLeaf                   // the leaf itself
)

type pathStep struct {
	kind     stepKind
	child    int  // stepStruct: the child's index
	nullable bool // the step's array is nullable in its parent
}

// nestedField is a top-level field with children: the paths to its leaves,
// in Parquet column order.
type nestedField struct {
	leaves [][]pathStep
	levels levelBuilder
	// dicts write the string leaves reached through structs only from
	// their value numbers (nil for the other leaves).
	dicts []*dictColumn
}

// structLeaf reports whether path reaches its leaf through structs only:
// one slot of the leaf per row.
func structLeaf(path []pathStep) bool {
	for _, s := range path {
		if s.kind == stepList {
			return false
		}
	}
	return true
}

// leafType is the type of the leaf at path (through structs only) in t.
func leafType(t arrow.DataType, path []pathStep) arrow.DataType {
	for _, s := range path {
		if s.kind == stepStruct {
			t = t.(*arrow.StructType).Field(s.child).Type
		}
	}
	return t
}

// leafPaths returns the paths to the leaves of a field of type t, nullable
// in its parent, in Parquet column order, or false if the type is one this
// writer leaves to pqarrow (large and fixed-size lists, dictionaries,
// extensions, unions, views).
func leafPaths(t arrow.DataType, nullable bool, prefix []pathStep, out [][]pathStep) ([][]pathStep, bool) {
	switch t := t.(type) {
	case *arrow.StructType:
		if t.NumFields() == 0 {
			return nil, false
		}
		for i, f := range t.Fields() {
			var ok bool
			out, ok = leafPaths(f.Type, f.Nullable, append(prefix[:len(prefix):len(prefix)], pathStep{kind: stepStruct, child: i, nullable: nullable}), out)
			if !ok {
				return nil, false
			}
		}
		return out, true
	case *arrow.MapType:
		if t.KeysSorted {
			return nil, false
		}
		return leafPaths(t.Elem(), t.ElemField().Nullable, append(prefix[:len(prefix):len(prefix)], pathStep{kind: stepList, nullable: nullable}), out)
	case *arrow.ListType:
		return leafPaths(t.Elem(), t.ElemField().Nullable, append(prefix[:len(prefix):len(prefix)], pathStep{kind: stepList, nullable: nullable}), out)
	}
	if !primitiveLeaf(t) {
		return nil, false
	}
	return append(out, append(prefix[:len(prefix):len(prefix)], pathStep{kind: stepLeaf, nullable: nullable})), true
}

// primitiveLeaf reports whether t is a leaf type this writer writes: not
// nested, not dictionary-encoded, not an extension.
func primitiveLeaf(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.STRUCT, arrow.MAP,
		arrow.EXTENSION, arrow.RUN_END_ENCODED, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW,
		arrow.SPARSE_UNION, arrow.DENSE_UNION, arrow.DICTIONARY:
		return false
	}
	return true
}

// isFlat reports whether every field of sc is a primitive, string or dictionary column.
func isFlat(sc *arrow.Schema) bool {
	for _, f := range sc.Fields() {
		if !flatType(f.Type) {
			return false
		}
	}
	return true
}

// flatType reports whether t is a top-level type written as one column:
// a primitive, string or dictionary.
func flatType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.STRUCT, arrow.MAP,
		arrow.EXTENSION, arrow.RUN_END_ENCODED, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW,
		arrow.SPARSE_UNION, arrow.DENSE_UNION:
		return false
	}
	return true
}

// writable reports whether flatWriter writes schema sc: every field flat,
// or a struct, list or map of primitive leaves.
func writable(sc *arrow.Schema) bool {
	for _, f := range sc.Fields() {
		if flatType(f.Type) {
			continue
		}
		if _, ok := leafPaths(f.Type, f.Nullable, nil, nil); !ok {
			return false
		}
	}
	return true
}

// lazyNoNulls is pqarrow's test for an array without NULLs: a known count
// of 0, or an unknown count and no bitmap. The levels treat such an array as
// all present, as pqarrow does, whatever its bitmap says.
func lazyNoNulls(a arrow.Array) bool {
	n := a.Data().NullN()
	return n == 0 || (n == array.UnknownNullCount && a.NullBitmapBytes() == nil)
}

// elemRange is a range of a leaf array's slots.
type elemRange struct{ start, end int64 }

// levelBuilder computes the levels of one leaf of a batch. Its slices are
// reused from leaf to leaf and batch to batch.
type levelBuilder struct {
	def, rep []int16
	visited  []elemRange // slots of the leaf array under the innermost list
	steps    []pathStep
	state    []nullState // per step
	offs     [][]int32   // per step: a list's offsets from its data offset
	listRep  []int16     // per step: a list's repetition level
	inner    int         // the innermost list step
	// prefix holds, per step of the last path without lists, the levels
	// after it, for the next leaf of col that shares the steps (see
	// structLevels); leafDef, the levels of such a leaf.
	prefix    []prefixLevels
	prefixCol arrow.Array
	col       arrow.Array
	leafDef   []int16
}

// forget drops the levels kept for the leaves of the last column (and the
// column), once they are written.
func (b *levelBuilder) forget() {
	b.prefix, b.prefixCol, b.col = b.prefix[:0], nil, nil
}

// nullState is how a step's array decides whether a slot is NULL.
type nullState struct {
	mode uint8 // 0: never NULL (not nullable, or no NULLs); 1: bitmap; 2: all NULL
	bits []byte
	off  int
}

func (n *nullState) null(slot int) bool {
	switch n.mode {
	case 0:
		return false
	case 2:
		return true
	}
	return !bitutil.BitIsSet(n.bits, n.off+slot)
}

// leafLevels is the result of levelBuilder.build for one leaf.
type leafLevels struct {
	values   arrow.Array // the leaf values to write; the caller releases it
	def, rep []int16     // nil when the leaf has no such levels
	nullable bool        // as pqarrow passes leafFieldNullable
	maxDef   int16
}

// nullsAtLevels reports whether a leaf reached through structs only is NULL
// exactly where its level is below the leaf's (a NULL struct over a valid
// child is not), as dictColumn.write requires.
func (l *leafLevels) nullsAtLevels() bool {
	if l.rep != nil || l.def == nil || l.values.Len() != len(l.def) {
		return false
	}
	below := 0
	for _, d := range l.def {
		if d < l.maxDef {
			below++
		}
	}
	// A NULL leaf is always below: equal counts, equal rows.
	return below == l.values.NullN()
}

// build computes the levels of the leaf at path in col, a top-level array.
func (b *levelBuilder) build(col arrow.Array, path []pathStep, mem memory.Allocator) (leafLevels, error) {
	n := col.Len()
	b.col = col
	b.steps = path
	b.state = b.state[:0]
	b.offs = b.offs[:0]
	b.listRep = b.listRep[:0]
	b.inner = -1
	var maxDef, maxRep int16
	arr := col
	for k, s := range path {
		st := nullState{}
		if s.nullable {
			maxDef++
		}
		// pqarrow reads a leaf's bitmap even where the leaf is required
		// (a NULL there is written one level down), a parent's only
		// where it is nullable.
		if s.nullable || s.kind == stepLeaf {
			switch {
			case lazyNoNulls(arr):
			case arr.Data().NullN() == arr.Len():
				st.mode = 2
			default:
				st.mode, st.bits, st.off = 1, arr.NullBitmapBytes(), arr.Data().Offset()
			}
		}
		b.state = append(b.state, st)
		var offs []int32
		var rep int16
		switch s.kind {
		case stepStruct:
			sa, ok := arr.(*array.Struct)
			if !ok {
				return leafLevels{}, fmt.Errorf("writer: %s where a struct was expected", arr.DataType())
			}
			arr = sa.Field(s.child)
		case stepList:
			var la *array.List
			switch a := arr.(type) {
			case *array.List:
				la = a
			case *array.Map:
				la = a.List
			default:
				return leafLevels{}, fmt.Errorf("writer: %s where a list was expected", arr.DataType())
			}
			maxDef++
			maxRep++
			offs, rep = la.Offsets()[la.Data().Offset():], maxRep
			b.inner = k
			arr = la.ListValues()
		}
		b.offs = append(b.offs, offs)
		b.listRep = append(b.listRep, rep)
	}
	leaf := arr
	res := leafLevels{nullable: path[len(path)-1].nullable && !lazyNoNulls(leaf), maxDef: maxDef}
	if maxDef == 0 {
		leaf.Retain()
		res.values = leaf
		return res, nil
	}
	b.def = b.def[:0]
	b.rep = b.rep[:0]
	b.visited = b.visited[:0]
	if maxRep == 0 {
		res.def = b.structLevels(n)
		res.values = array.NewSlice(leaf, 0, int64(leaf.Len()))
		return res, nil
	}
	for r := 0; r < n; r++ {
		b.emit(0, r, 0, 0)
	}
	res.def, res.rep = b.def, b.rep
	switch len(b.visited) {
	case 0:
		res.values = array.NewSlice(leaf, 0, 0)
	case 1:
		res.values = array.NewSlice(leaf, b.visited[0].start, b.visited[0].end)
	default:
		parts := make([]arrow.Array, len(b.visited))
		for i, v := range b.visited {
			parts[i] = array.NewSlice(leaf, v.start, v.end)
			defer parts[i].Release()
		}
		var err error
		if res.values, err = array.Concatenate(parts, mem); err != nil {
			return leafLevels{}, err
		}
	}
	return res, nil
}

// structLevels returns the definition levels of n rows of a path without
// lists: per row, the nullable steps present above the first NULL (a NULL
// of a required leaf one level down, as pqarrow writes it).
//
// The levels are built a step at a time over all rows, a row going one
// level up where it is still at the step's level and the step has its
// slot. The leaves of a struct share the levels of the steps above them,
// and are written one after the other: the levels after each step of the
// last path are kept (prefix) and a leaf starts from those of the steps its
// path shares, so that a struct's levels are built once per batch, not once
// per leaf. Steps that cannot be NULL keep every row at one level without
// a pass over the rows (in CloudTrail, most leaves are under structs that
// are never NULL, and a leaf without NULLs needs no per-row work at all).
// The slice may be one of prefix's; it is valid until the next call.
func (b *levelBuilder) structLevels(n int) []int16 {
	leafStep := len(b.steps) - 1
	// The levels after a step depend on the steps above it and on its
	// array's NULLs, not on the child it goes on to.
	k0 := 0
	if b.prefixCol == b.col {
		for k0 < leafStep && k0 < len(b.prefix) {
			ps, s := b.prefix[k0].step, b.steps[k0]
			if ps.kind != s.kind || ps.nullable != s.nullable {
				break
			}
			b.prefix[k0].step = s
			k0++
			if ps.child != s.child {
				break
			}
		}
	}
	b.prefixCol = b.col
	b.prefix = b.prefix[:k0]
	cur := prefixLevels{}
	if k0 > 0 {
		cur = b.prefix[k0-1]
	}
	for k := k0; k <= leafStep; k++ {
		var buf *[]int16
		if k < leafStep {
			if cap(b.prefix) > k {
				b.prefix = b.prefix[:k+1]
			} else {
				b.prefix = append(b.prefix, prefixLevels{})
			}
			buf = &b.prefix[k].buf
		} else {
			buf = &b.leafDef
		}
		cur = cur.next(b.steps[k], &b.state[k], n, buf)
		if k < leafStep {
			owned := b.prefix[k].buf
			b.prefix[k] = cur
			b.prefix[k].buf = owned
		}
	}
	if cur.def != nil {
		return cur.def
	}
	def := b.leafDef
	if cap(def) < n {
		def = make([]int16, n)
	}
	def = def[:n]
	for r := range def {
		def[r] = cur.level
	}
	b.leafDef = def
	return def
}

// prefixLevels are the definition levels of a batch's rows after a step
// of a path without lists.
type prefixLevels struct {
	step pathStep
	def  []int16 // per row, or nil: every row at level
	// level is the level of every row when def is nil; at, the level of
	// the rows present through the step; stopped, that no row is (a step
	// all NULL), so that the steps below change nothing.
	level, at int16
	stopped   bool
	buf       []int16 // the levels' storage, owned by prefix's entry
}

// next returns the levels after step s, whose array decides NULLs by st,
// computing per-row levels in *buf when they differ from p's.
func (p prefixLevels) next(s pathStep, st *nullState, n int, buf *[]int16) prefixLevels {
	out := p
	out.step, out.buf = s, nil
	if p.stopped {
		return out
	}
	if !s.nullable && (s.kind != stepLeaf || st.mode == 0) {
		return out // a required struct, or a required leaf without NULLs
	}
	if s.nullable && st.mode == 2 {
		out.stopped = true // every row present so far stops here
		return out
	}
	if s.nullable && st.mode == 0 {
		out.at = p.at + 1
		if p.def == nil {
			out.level = p.level + 1 // every row is at p.at
			return out
		}
	}
	// Per row: a pass from p's levels into buf.
	def := *buf
	if cap(def) < n {
		def = make([]int16, n)
	}
	def = def[:n]
	*buf = def
	prev := p.def
	if prev == nil {
		for r := range def {
			def[r] = p.level
		}
		prev = def
	}
	at := p.at
	switch {
	case s.nullable && st.mode == 0:
		for r, d := range prev {
			if d == at {
				d++
			}
			def[r] = d
		}
	case s.nullable: // bitmap
		out.at = at + 1
		bits, o := st.bits, st.off
		for r, d := range prev {
			if d == at {
				d += int16(bits[(o+r)>>3] >> ((o + r) & 7) & 1)
			}
			def[r] = d
		}
	default: // a required leaf with NULLs: a NULL one level down
		for r, d := range prev {
			if d == at && st.null(r) {
				d--
			}
			def[r] = d
		}
	}
	out.def = def
	return out
}

// emit appends the levels of slot of step k's array, reached with
// definition level def and repetition level rep.
func (b *levelBuilder) emit(k, slot int, def, rep int16) {
	for ; ; k++ {
		s := &b.steps[k]
		if s.nullable {
			if b.state[k].null(slot) {
				b.def, b.rep = append(b.def, def), append(b.rep, rep)
				return
			}
			def++
		}
		switch s.kind {
		case stepLeaf:
			if !s.nullable && b.state[k].null(slot) {
				def-- // as pqarrow writes a NULL of a required leaf
			}
			b.def, b.rep = append(b.def, def), append(b.rep, rep)
			return
		case stepList:
			start, end := b.offs[k][slot], b.offs[k][slot+1]
			if start == end {
				b.def, b.rep = append(b.def, def), append(b.rep, rep)
				return
			}
			def++
			if k == b.inner {
				if v := len(b.visited) - 1; v >= 0 && b.visited[v].end == int64(start) {
					b.visited[v].end = int64(end)
				} else {
					b.visited = append(b.visited, elemRange{int64(start), int64(end)})
				}
			}
			for j := start; j < end; j++ {
				r := b.listRep[k]
				if j == start {
					r = rep
				}
				b.emit(k+1, int(j), def, r)
			}
			return
		}
	}
}

// normalizeForParquet is the schema pqarrow.NewFileWriter stores in the
// footer: list elements renamed "element", the name of the Parquet group
// they are written as, so that readers that map ARROW:schema to Parquet
// column paths find them.
func normalizeForParquet(sc *arrow.Schema) *arrow.Schema {
	fields := make([]arrow.Field, sc.NumFields())
	for i, f := range sc.Fields() {
		fields[i] = normalizeField(f)
	}
	meta := sc.Metadata()
	return arrow.NewSchema(fields, &meta)
}

func normalizeField(f arrow.Field) arrow.Field {
	switch t := f.Type.(type) {
	case *arrow.ListType:
		elem := normalizeField(t.ElemField())
		elem.Name = "element"
		return arrow.Field{Name: f.Name, Type: arrow.ListOfField(elem), Nullable: f.Nullable, Metadata: f.Metadata}
	case *arrow.StructType:
		fields := make([]arrow.Field, t.NumFields())
		for i := range fields {
			fields[i] = normalizeField(t.Field(i))
		}
		return arrow.Field{Name: f.Name, Type: arrow.StructOf(fields...), Nullable: f.Nullable, Metadata: f.Metadata}
	case *arrow.MapType:
		return arrow.Field{Name: f.Name, Type: arrow.MapOfFields(normalizeField(t.KeyField()), normalizeField(t.ItemField())), Nullable: f.Nullable, Metadata: f.Metadata}
	}
	return f
}
