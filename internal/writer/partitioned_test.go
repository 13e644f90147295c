package writer

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/storage"
)

func oneColumnBatch(t *testing.T, mem memory.Allocator, vals ...int64) arrow.RecordBatch {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	col := b.NewArray()
	defer col.Release()
	return array.NewRecordBatch(sc, []arrow.Array{col}, int64(len(vals)))
}

// Partitions that come back after eviction get new files; every finished
// file is sealed and readable after commit, and the cap on partitions stops
// scattered input before it makes thousands of files.
func TestPartitionedEvictionAndPartitionCap(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	root := t.TempDir()
	p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: root}, Stem: "s",
		Options: Options{MaxOpenFiles: 2, MaxPartitions: 3, Mem: mem}})
	write := func(part string, v int64) error {
		rec := oneColumnBatch(t, mem, v)
		defer rec.Release()
		return p.Write(ctx, part, rec)
	}
	// Three partitions round-robin with two open files: every write but the
	// first two evicts, so each of the 9 writes makes a file.
	for i := range 9 {
		require.NoError(t, write(fmt.Sprintf("d=%d", i%3), int64(i)))
	}
	files, err := p.Finish()
	require.NoError(t, err)
	require.Len(t, files, 9)
	require.NoError(t, p.Commit())
	var sum int64
	for _, f := range files {
		got := parquettest.Read(t, filepath.Join(root, f.Path))
		require.Equal(t, int64(1), got.NumRows)
		sum += got.Rows[0]["v"].(int64)
	}
	require.Equal(t, int64(36), sum)

	q := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: t.TempDir()}, Stem: "s",
		Options: Options{MaxOpenFiles: 2, MaxPartitions: 4, Mem: mem}})
	p = q
	for i := range 8 { // revisiting a partition is no new one
		require.NoError(t, write(fmt.Sprintf("d=%d", i%4), int64(i)))
	}
	err = write("d=9", 9)
	require.ErrorIs(t, err, ErrTooManyPartitions)
	require.ErrorContains(t, err, "more than 4 partitions")
	q.Abort()
}

func TestCrowdedDictionaryBytes(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		open int
		want int64
	}{{1, mib}, {4, mib}, {8, mib / 2}, {16, mib / 4}, {32, minDictionaryPageBytes}, {1000, minDictionaryPageBytes}} {
		require.Equal(t, tc.want, crowdedDictionaryBytes(mib, tc.open), "open %d", tc.open)
	}
}
