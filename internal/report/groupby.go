package report

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// A value is one aggregate of a group: the sum of the non-NULL inputs and
// how many there were. SQL's sum() of no non-NULL input is NULL (n == 0);
// count(*) adds 1 per row, so it is never NULL.
type value struct{ sum, n int64 }

// A cell is one key part of a group or one value of a result row: a string,
// an integer, or NULL.
type cell struct {
	str   string
	num   int64
	valid bool
}

// groupBy is an exact GROUP BY over string keys (NULL allowed) with nValues
// summed values per group. It keeps at most budget groups in memory; past
// that it writes the groups, sorted by their encoded key, to a run file in
// dir and starts again, and rows merges the runs, combining a key's partial
// sums. The answer is the same whatever the budget.
type groupBy struct {
	nKeys, nValues int
	budget         int
	dir            string

	groups map[string]int // key → index of its first value in vals
	vals   []value        // nValues per group
	key    []byte         // scratch for the key of the row being added
	runs   []string
	spills int
}

func newGroupBy(nKeys, nValues, budget int, dir string) *groupBy {
	return &groupBy{nKeys: nKeys, nValues: nValues, budget: max(budget, 1), dir: dir, groups: map[string]int{}}
}

// add adds one row: keys (nKeys of them, each a string or NULL) and its
// values (nValues, NULL ones not counted).
func (g *groupBy) add(keys []cell, vals []cell) error {
	g.key = encodeKey(g.key[:0], keys)
	at, ok := g.groups[string(g.key)]
	if !ok {
		if len(g.groups) >= g.budget {
			if err := g.spill(); err != nil {
				return err
			}
		}
		at = len(g.vals)
		g.vals = append(g.vals, make([]value, g.nValues)...)
		g.groups[string(g.key)] = at
	}
	agg := g.vals[at : at+g.nValues]
	for i, v := range vals {
		if v.valid {
			agg[i].sum += v.num
			agg[i].n++
		}
	}
	return nil
}

// encodeKey appends the key parts: 0 for NULL, else 1, the length as a
// uvarint and the bytes.
func encodeKey(b []byte, keys []cell) []byte {
	for _, k := range keys {
		if !k.valid {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(k.str)))
		b = append(b, k.str...)
	}
	return b
}

func decodeKey(b []byte, n int) ([]cell, error) {
	keys := make([]cell, n)
	for i := range keys {
		if len(b) == 0 {
			return nil, errors.New("report: short group key")
		}
		tag := b[0]
		b = b[1:]
		if tag == 0 {
			continue
		}
		l, m := binary.Uvarint(b)
		if m <= 0 || uint64(len(b)-m) < l {
			return nil, errors.New("report: corrupt group key")
		}
		keys[i] = cell{str: string(b[m : m+int(l)]), valid: true}
		b = b[m+int(l):]
	}
	return keys, nil
}

// spill writes the in-memory groups, sorted by key, to a new run file.
func (g *groupBy) spill() error {
	f, err := os.CreateTemp(g.dir, "group-*.run")
	if err != nil {
		return fmt.Errorf("report: spilling groups: %w", err)
	}
	g.runs = append(g.runs, f.Name())
	g.spills++
	w := bufio.NewWriterSize(f, 1<<16)
	var buf []byte
	for _, k := range sortedKeys(g.groups) {
		buf = appendRecord(buf[:0], []byte(k), g.group(k))
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return fmt.Errorf("report: spilling groups to %s: %w", f.Name(), err)
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return fmt.Errorf("report: spilling groups to %s: %w", f.Name(), err)
	}
	clear(g.groups)
	g.vals = g.vals[:0]
	if len(g.runs) > maxRuns {
		return g.compact()
	}
	return nil
}

// group returns the values of an in-memory group.
func (g *groupBy) group(key string) []value {
	at := g.groups[key]
	return g.vals[at : at+g.nValues]
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// each calls fn once per group with its decoded key and its values, in
// encoded-key order when there were spills (in no particular order
// otherwise). It removes the run files.
func (g *groupBy) each(fn func(keys []cell, vals []value) error) error {
	defer g.removeRuns()
	if len(g.runs) == 0 {
		for k := range g.groups {
			keys, err := decodeKey([]byte(k), g.nKeys)
			if err != nil {
				return err
			}
			if err := fn(keys, slices.Clone(g.group(k))); err != nil {
				return err
			}
		}
		return nil
	}
	// Merge the sorted runs and the sorted in-memory groups.
	return g.merge(g.runs, true, func(key []byte, vals []value) error {
		keys, err := decodeKey(key, g.nKeys)
		if err != nil {
			return err
		}
		return fn(keys, slices.Clone(vals))
	})
}

// maxRuns bounds the run files of a group-by (and so the files open while
// merging): when a spill makes more, they are merged into one.
const maxRuns = 32

// compact merges the run files into one.
func (g *groupBy) compact() error {
	f, err := os.CreateTemp(g.dir, "group-*.run")
	if err != nil {
		return fmt.Errorf("report: merging spilled groups: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	var buf []byte
	err = g.merge(g.runs, false, func(key []byte, vals []value) error {
		buf = appendRecord(buf[:0], key, vals)
		_, err := w.Write(buf)
		return err
	})
	if err = errors.Join(err, w.Flush(), f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("report: merging spilled groups into %s: %w", f.Name(), err)
	}
	g.removeRuns()
	g.runs = []string{f.Name()}
	return nil
}

// merge calls emit once per key of the runs (and, withMemory, of the
// in-memory groups), in key order, with the key's summed values. emit may
// not keep its arguments.
func (g *groupBy) merge(runs []string, withMemory bool, emit func(key []byte, vals []value) error) error {
	var h mergeHeap
	for _, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("report: reading spilled groups: %w", err)
		}
		defer f.Close()
		it := &runIter{r: bufio.NewReaderSize(f, 1<<16), name: name, nValues: g.nValues}
		if err := it.next(); err != nil {
			return err
		}
		if !it.done {
			h = append(h, it)
		}
	}
	if withMemory {
		mem := &runIter{mem: sortedKeys(g.groups), g: g, nValues: g.nValues, pos: -1}
		if err := mem.next(); err != nil {
			return err
		}
		if !mem.done {
			h = append(h, mem)
		}
	}
	heap.Init(&h)
	acc := make([]value, g.nValues)
	var cur []byte
	have := false
	for h.Len() > 0 {
		it := h[0]
		if have && !bytes.Equal(it.key, cur) {
			if err := emit(cur, acc); err != nil {
				return err
			}
			clear(acc)
			have = false
		}
		if !have {
			cur = append(cur[:0], it.key...)
			have = true
		}
		for i, v := range it.vals {
			acc[i].sum += v.sum
			acc[i].n += v.n
		}
		if err := it.next(); err != nil {
			return err
		}
		if it.done {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	if have {
		return emit(cur, acc)
	}
	return nil
}

// appendRecord appends a run record: the key's length and bytes, then each
// value's sum and count.
func appendRecord(buf, key []byte, vals []value) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	buf = append(buf, key...)
	for _, v := range vals {
		buf = binary.AppendVarint(buf, v.sum)
		buf = binary.AppendUvarint(buf, uint64(v.n))
	}
	return buf
}

func (g *groupBy) removeRuns() {
	for _, name := range g.runs {
		os.Remove(name)
	}
	g.runs = nil
}

// runIter walks one sorted run: a spilled file, or the in-memory groups.
type runIter struct {
	r       *bufio.Reader
	name    string
	mem     []string
	g       *groupBy
	pos     int
	nValues int

	key  []byte
	vals []value
	done bool
}

func (it *runIter) next() error {
	if it.r == nil {
		it.pos++
		if it.pos >= len(it.mem) {
			it.done = true
			return nil
		}
		it.key = []byte(it.mem[it.pos])
		it.vals = it.g.group(it.mem[it.pos])
		return nil
	}
	l, err := binary.ReadUvarint(it.r)
	if err == io.EOF {
		it.done = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: reading spilled groups %s: %w", it.name, err)
	}
	it.key = slices.Grow(it.key[:0], int(l))[:l]
	if _, err := io.ReadFull(it.r, it.key); err != nil {
		return fmt.Errorf("report: reading spilled groups %s: %w", it.name, err)
	}
	if it.vals == nil {
		it.vals = make([]value, it.nValues)
	}
	for i := range it.vals {
		s, err1 := binary.ReadVarint(it.r)
		n, err2 := binary.ReadUvarint(it.r)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("report: reading spilled groups %s: %w", it.name, err)
		}
		it.vals[i] = value{sum: s, n: int64(n)}
	}
	return nil
}

type mergeHeap []*runIter

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return bytes.Compare(h[i].key, h[j].key) < 0 }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(*runIter)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// compareCells orders cells as the documented ORDER BY does: NULLs last,
// strings by their bytes (UTF-8 byte order is code-point order, as Trino
// orders varchar), integers by value.
func compareCells(a, b cell, numeric bool) int {
	switch {
	case !a.valid && !b.valid:
		return 0
	case !a.valid:
		return 1
	case !b.valid:
		return -1
	case numeric:
		return cmpInt(a.num, b.num)
	}
	return strings.Compare(a.str, b.str)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
