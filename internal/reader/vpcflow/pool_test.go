package vpcflow

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
)

// usePool makes columnBuffers p for the test.
func usePool(t *testing.T, p *reader.BufferPool) {
	t.Helper()
	old := columnBuffers
	columnBuffers = p
	t.Cleanup(func() { columnBuffers = old })
}

// snapshot is a batch's values, as strings, and its value numbers.
type snapshot struct {
	values [][]string
	nums   [][]int32
}

func takeSnapshot(rec arrow.RecordBatch) snapshot {
	var s snapshot
	for i, col := range rec.Columns() {
		s.values = append(s.values, columnValues(col))
		var nums []int32
		if ix, ok := rec.(*reader.Indexed); ok {
			if n, _ := ix.ValueNumbers(i); n != nil {
				nums = append(nums, n...)
			}
		}
		s.nums = append(s.nums, nums)
	}
	return s
}

func columnValues(col arrow.Array) []string {
	out := make([]string, col.Len())
	for r := range out {
		if col.IsNull(r) {
			out[r] = "<NULL>"
		} else {
			out[r] = strings.Clone(col.ValueStr(r)) // not into the buffer

		}
	}
	return out
}

// firstBuffer is where the values of column i of rec start: batches whose
// buffers were reused share it.
func firstBuffer(rec arrow.RecordBatch, i int) *byte {
	return unsafe.SliceData(rec.Column(i).Data().Buffers()[1].Bytes())
}

// The column buffers of a batch return to the pool only when its last
// holder releases them: a batch retained past Next, and a column retained
// alone past its batch's release with the batch's value numbers (as
// classify.AppendColumns keeps them), keep their values while the batches
// after them reuse the buffers of the released ones, which the pool
// overwrites with 0xA5 as it takes them back.
func TestHeldBatchesKeepTheirBuffers(t *testing.T) {
	pool := reader.NewBufferPool(64 << 20)
	pool.SetPoison(true)
	usePool(t, pool)
	input := benchInput(12_000)
	rd, err := NewReader(bytes.NewReader(input), Config{Object: "pool", ChunkRows: 1000, Mem: memory.DefaultAllocator})
	require.NoError(t, err)
	defer rd.Release()

	require.True(t, rd.Next())
	held := rd.RecordBatch()
	held.Retain()
	defer held.Release()
	heldWant := takeSnapshot(held)

	require.True(t, rd.Next())
	const iface = 2 // interface_id: numbered
	require.Equal(t, "interface_id", rd.Schema().Field(iface).Name)
	ix := rd.RecordBatch().(*reader.Indexed)
	column := ix.Column(iface)
	column.Retain()
	defer column.Release()
	columnNums, _ := ix.ValueNumbers(iface)
	require.NotNil(t, columnNums)
	columnWant, columnNumsWant := columnValues(column), append([]int32(nil), columnNums...)

	heldAt, columnAt := firstBuffer(held, iface), firstBuffer(ix, iface)
	seen := map[*byte]int{}
	batches := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		at := firstBuffer(rec, iface)
		require.NotSame(t, heldAt, at, "batch %d took the held batch's offsets", batches)
		require.NotSame(t, columnAt, at, "batch %d took the held column's offsets", batches)
		seen[at]++
		batches++
	}
	require.NoError(t, rd.Err())
	require.Equal(t, 10, batches)
	require.Less(t, len(seen), batches, "released batches' buffers were reused")

	require.Equal(t, heldWant, takeSnapshot(held), "the retained batch")
	require.Equal(t, columnWant, columnValues(column), "the retained column")
	require.Equal(t, columnNumsWant, columnNums, "the retained column's value numbers")
}

// Pooled buffers hold what their last batch left: a batch in reused
// buffers has the values a batch in fresh ones has, NULLs (whose integer
// slots and bits a fresh buffer had zero and set) and value numbers
// included.
func TestReusedBuffersGiveTheSameBatches(t *testing.T) {
	read := func(pool *reader.BufferPool) []snapshot {
		usePool(t, pool)
		// Batches of 32 Ki rows: their bitmaps are large enough to pool.
		rd, err := NewReader(bytes.NewReader(benchInput(80_000)), Config{Object: "pool", Mem: memory.DefaultAllocator})
		require.NoError(t, err)
		defer rd.Release()
		var out []snapshot
		for rd.Next() {
			rec := rd.RecordBatch()
			s := takeSnapshot(rec)
			// The NULL slots themselves, which a writer may read (an IPC
			// spill file holds them).
			for i, col := range rec.Columns() {
				if c, ok := col.(*array.Int64); ok {
					s.values[i] = append(s.values[i], int64Slots(c)...)
				}
			}
			out = append(out, s)
		}
		require.NoError(t, rd.Err())
		return out
	}
	fresh := read(reader.NewBufferPool(0)) // keeps nothing: every buffer is new
	dirty := reader.NewBufferPool(64 << 20)
	dirty.SetPoison(true)
	read(dirty) // fills the pool with poisoned buffers
	require.Positive(t, dirty.Pooled())
	require.Equal(t, fresh, read(dirty))
}

func int64Slots(c *array.Int64) []string {
	out := make([]string, c.Len())
	for i, v := range c.Int64Values() {
		out[i] = strconv.FormatInt(v, 10)
	}
	return out
}

// Every buffer a Reader takes from the pool comes back once its batches
// are released: also the empty batch made ready after a full one when the
// object then ends, the one of a layout a changed header replaces, and the
// one of a reader released before its end. (A buffer that no holder gives
// back is not lost, the garbage collector takes it, but the pool misses it
// and the next batch faults in fresh pages.)
func TestBuffersGoBackToThePool(t *testing.T) {
	full := benchInput(12_000) // 12 batches of 1000, the last one full
	changed := append(benchInput(1_500), "version account-id interface-id srcaddr dstaddr action log-status\n"...)
	for i := range 1_500 {
		changed = fmt.Appendf(changed, "2 123456789012 eni-%017x 10.0.0.%d 10.0.1.%d ACCEPT OK\n", i%7, i%250, i%250)
	}
	for _, tc := range []struct {
		name    string
		input   []byte
		batches int // to read before releasing the reader; -1: all
		want    int
	}{
		{"object ends after a full batch", full, -1, 12},
		{"a header changes the layout", changed, -1, 4},
		{"reader released before the end", full, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := reader.NewBufferPool(64 << 20)
			usePool(t, pool)
			rd, err := NewReader(bytes.NewReader(tc.input), Config{Object: "pool", ChunkRows: 1000, Mem: memory.DefaultAllocator})
			require.NoError(t, err)
			n := 0
			for (tc.batches < 0 || n < tc.batches) && rd.Next() {
				n++
			}
			require.NoError(t, rd.Err())
			require.Equal(t, tc.want, n)
			if tc.batches > 0 {
				require.Positive(t, pool.Outstanding(), "the reader holds its batch")
			}
			rd.Release()
			require.Zero(t, pool.Outstanding(), "buffers not given back")
		})
	}
}
