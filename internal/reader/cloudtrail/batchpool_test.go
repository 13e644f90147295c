package cloudtrail

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/reader"
)

// usePool makes batchBuffers p for the test.
func usePool(t *testing.T, p *reader.BufferPool) {
	t.Helper()
	old := batchBuffers
	batchBuffers = p
	t.Cleanup(func() { batchBuffers = old })
}

// poolInput is the records of a generated log (nested identities, lists,
// maps, JSON text columns, NULLs), as one {"Records":[…]} document.
func poolInput(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	_, err := gen.GenerateCloudTrail(gen.CloudTrailConfig{Dir: dir, Bytes: 8 << 20, Files: 1, Seed: 5, Plain: true})
	require.NoError(t, err)
	var in []byte
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") {
			in, err = os.ReadFile(p)
		}
		return err
	}))
	require.NotEmpty(t, in)
	return in
}

// batchText is a batch's rows as text, copied out of its buffers.
func batchText(rec arrow.RecordBatch) string {
	return fmt.Sprint(recordRows(rec))
}

// The copied buffers of a batch return to the pool only when its last
// holder releases them: a batch retained past Next keeps its values while
// the batches after it reuse the buffers of the released ones, which the
// pool overwrites with 0xA5 as it takes them back.
func TestHeldBatchKeepsItsBuffers(t *testing.T) {
	pool := reader.NewBufferPool(64 << 20)
	pool.SetPoison(true)
	usePool(t, pool)
	rd, err := NewReader(bytes.NewReader(poolInput(t)), Config{Object: "pool", ChunkRows: 1100, Mem: memory.DefaultAllocator})
	require.NoError(t, err)
	defer rd.Release()

	require.True(t, rd.Next())
	held := rd.RecordBatch()
	held.Retain()
	defer held.Release()
	want := batchText(held)
	const col = 0 // a string column: where its offsets start
	at := func(rec arrow.RecordBatch) *byte {
		return unsafe.SliceData(rec.Column(col).Data().Buffers()[1].Bytes())
	}
	heldAt := at(held)
	seen := map[*byte]int{}
	batches := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		require.NotSame(t, heldAt, at(rec), "batch %d took the held batch's offsets", batches)
		seen[at(rec)]++
		batches++
	}
	require.NoError(t, rd.Err())
	require.Greater(t, batches, 3)
	require.Less(t, len(seen), batches, "released batches' buffers were reused")
	require.Equal(t, want, batchText(held), "the retained batch")
}

// Pooled buffers hold what their last batch left: batches in reused,
// poisoned buffers have the values of batches in fresh ones, and a checked
// allocator still gets every buffer (the pool is for Go's allocator only).
func TestReusedBuffersGiveTheSameBatches(t *testing.T) {
	in := poolInput(t)
	read := func(pool *reader.BufferPool, mem memory.Allocator) []string {
		usePool(t, pool)
		rd, err := NewReader(bytes.NewReader(in), Config{Object: "pool", ChunkRows: 1100, Mem: mem})
		require.NoError(t, err)
		defer rd.Release()
		var out []string
		for rd.Next() {
			rec := rd.RecordBatch()
			for _, c := range rec.Columns() {
				require.NoError(t, c.(interface{ ValidateFull() error }).ValidateFull())
			}
			out = append(out, batchText(rec))
		}
		require.NoError(t, rd.Err())
		return out
	}
	fresh := read(reader.NewBufferPool(0), memory.DefaultAllocator) // keeps nothing: every buffer is new
	dirty := reader.NewBufferPool(64 << 20)
	dirty.SetPoison(true)
	read(dirty, memory.DefaultAllocator) // fills the pool with poisoned buffers
	require.Positive(t, dirty.Pooled())
	require.Equal(t, fresh, read(dirty, memory.NewGoAllocator()))

	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	unused := reader.NewBufferPool(64 << 20)
	require.Equal(t, fresh, read(unused, checked))
	checked.AssertSize(t, 0)
	require.Zero(t, unused.Pooled(), "the checked allocator's batches took pooled buffers")
}
