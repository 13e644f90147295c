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

	groups map[string][]value
	key    []byte // scratch for the key of the row being added
	runs   []string
	spills int
}

func newGroupBy(nKeys, nValues, budget int, dir string) *groupBy {
	return &groupBy{nKeys: nKeys, nValues: nValues, budget: max(budget, 1), dir: dir, groups: map[string][]value{}}
}

// add adds one row: keys (nKeys of them, each a string or NULL) and its
// values (nValues, NULL ones not counted).
func (g *groupBy) add(keys []cell, vals []cell) error {
	g.key = encodeKey(g.key[:0], keys)
	agg, ok := g.groups[string(g.key)]
	if !ok {
		if len(g.groups) >= g.budget {
			if err := g.spill(); err != nil {
				return err
			}
		}
		agg = make([]value, g.nValues)
		g.groups[string(g.key)] = agg
	}
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
		buf = binary.AppendUvarint(buf[:0], uint64(len(k)))
		buf = append(buf, k...)
		for _, v := range g.groups[k] {
			buf = binary.AppendVarint(buf, v.sum)
			buf = binary.AppendUvarint(buf, uint64(v.n))
		}
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return fmt.Errorf("report: spilling groups to %s: %w", f.Name(), err)
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return fmt.Errorf("report: spilling groups to %s: %w", f.Name(), err)
	}
	clear(g.groups)
	return nil
}

func sortedKeys(m map[string][]value) []string {
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
		for k, v := range g.groups {
			keys, err := decodeKey([]byte(k), g.nKeys)
			if err != nil {
				return err
			}
			if err := fn(keys, v); err != nil {
				return err
			}
		}
		return nil
	}
	// Merge the sorted runs and the sorted in-memory groups.
	var h mergeHeap
	for _, name := range g.runs {
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
	mem := &runIter{mem: sortedKeys(g.groups), groups: g.groups, nValues: g.nValues, pos: -1}
	if err := mem.next(); err != nil {
		return err
	}
	if !mem.done {
		h = append(h, mem)
	}
	heap.Init(&h)
	acc := make([]value, g.nValues)
	var cur []byte
	have := false
	flush := func() error {
		keys, err := decodeKey(cur, g.nKeys)
		if err != nil {
			return err
		}
		return fn(keys, slices.Clone(acc))
	}
	for h.Len() > 0 {
		it := h[0]
		if have && !bytes.Equal(it.key, cur) {
			if err := flush(); err != nil {
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
		return flush()
	}
	return nil
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
	groups  map[string][]value
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
		it.vals = it.groups[it.mem[it.pos]]
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
