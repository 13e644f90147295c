package writer

import (
	"bytes"
	"context"
	"fmt"
	"os"
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

// A partition whose file was finished to make room and that comes back is
// spilled and written once at Finish: every partition ends with few files,
// every finished file is sealed and readable after commit, and the cap on
// partitions stops scattered input before it makes thousands of files.
func TestPartitionedEvictionAndPartitionCap(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	root := t.TempDir()
	p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: root}, Stem: "s",
		Options: Options{MaxOpenFiles: 2, MaxPartitions: 3, Mem: mem, SpillDir: t.TempDir()}})
	write := func(part string, v int64) error {
		rec := oneColumnBatch(t, mem, v)
		defer rec.Release()
		return p.Write(ctx, part, rec)
	}
	// Three partitions round-robin with two open files: d=2 finds no free
	// slot while d=0 and d=1 are busy and is spilled; the rest stay open.
	for i := range 9 {
		require.NoError(t, write(fmt.Sprintf("d=%d", i%3), int64(i)))
	}
	require.Equal(t, SpillStats{Partitions: 1, Bytes: p.Spilled().Bytes}, p.Spilled())
	files, err := p.Finish()
	require.NoError(t, err)
	require.Len(t, files, 3)
	require.NoError(t, p.Commit())
	var sum int64
	for _, f := range files {
		got := parquettest.Read(t, filepath.Join(root, f.Path))
		require.Equal(t, int64(3), got.NumRows, f.Path)
		for _, r := range got.Rows {
			sum += r["v"].(int64)
		}
	}
	require.Equal(t, int64(36), sum)

	q := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: t.TempDir()}, Stem: "s",
		Options: Options{MaxOpenFiles: 2, MaxPartitions: 4, Mem: mem, SpillDir: t.TempDir()}})
	p = q
	for i := range 8 { // revisiting a partition is no new one
		require.NoError(t, write(fmt.Sprintf("d=%d", i%4), int64(i)))
	}
	err = write("d=9", 9)
	require.ErrorIs(t, err, ErrTooManyPartitions)
	require.ErrorContains(t, err, "more than 4 partitions")
	q.Abort()
}

// Input sorted by partition moves on for good: the idle file is finished
// to make room, nothing is spilled, one file per partition.
func TestPartitionedSortedInputEvicts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: t.TempDir()}, Stem: "s",
		Options: Options{MaxOpenFiles: 2, Mem: mem, SpillDir: t.TempDir()}})
	vals := make([]int64, idleRows)
	for d := range 5 {
		rec := oneColumnBatch(t, mem, vals...)
		require.NoError(t, p.Write(ctx, fmt.Sprintf("d=%d", d), rec))
		rec.Release()
	}
	require.Zero(t, p.Spilled().Partitions)
	files, err := p.Finish()
	require.NoError(t, err)
	require.Len(t, files, 5)
	p.Abort()
}

// More interleaved partitions than open files, as in a month-long export:
// each partition still gets one file (the target size is not reached), the
// rows read back are the rows written, in order within a partition, the
// spill file is gone afterwards, and the same writes give the same bytes.
func TestPartitionedInterleavedDaysFewFilesPerDay(t *testing.T) {
	const days, rounds, rowsPerVisit = 60, 40, 50
	run := func(root string) []FileInfo {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		spillDir := t.TempDir()
		p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: root}, Stem: "s",
			Options: Options{Mem: mem, SpillDir: spillDir}})
		vals := make([]int64, rowsPerVisit)
		for r := range rounds {
			for d := range days {
				for i := range vals {
					vals[i] = int64(d*1_000_000 + r*rowsPerVisit + i)
				}
				rec := oneColumnBatch(t, mem, vals...)
				require.NoError(t, p.Write(context.Background(), fmt.Sprintf("day=%02d", d), rec))
				rec.Release()
			}
		}
		require.Equal(t, days-DefaultMaxOpenFiles, p.Spilled().Partitions)
		files, err := p.Finish()
		require.NoError(t, err)
		require.NoError(t, p.Commit())
		left, err := os.ReadDir(spillDir)
		require.NoError(t, err)
		require.Empty(t, left, "spill file removed")
		return files
	}
	root := t.TempDir()
	files := run(root)
	perDay := map[string]int{}
	for _, f := range files {
		perDay[f.Partition]++
		got := parquettest.Read(t, filepath.Join(root, f.Path))
		require.Equal(t, int64(rounds*rowsPerVisit), got.NumRows, f.Path)
		var d int
		_, err := fmt.Sscanf(f.Partition, "day=%d", &d)
		require.NoError(t, err)
		for i, r := range got.Rows {
			require.Equal(t, int64(d*1_000_000+i), r["v"].(int64), f.Path)
		}
	}
	require.Len(t, perDay, days)
	for day, n := range perDay {
		require.Equal(t, 1, n, day)
	}

	again := t.TempDir()
	files2 := run(again)
	require.Equal(t, files, files2)
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(root, f.Path))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(again, f.Path))
		require.NoError(t, err)
		require.True(t, bytes.Equal(a, b), "same writes, same bytes: %s", f.Path)
	}
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

// Without a writable directory for the spill file the writer still writes
// every row: it finishes files to make room, as before spilling existed, and
// says why.
func TestPartitionedNoSpillDirFallsBack(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	root := t.TempDir()
	p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: root}, Stem: "s",
		Options: Options{MaxOpenFiles: 2, Mem: mem, SpillDir: filepath.Join(t.TempDir(), "missing")}})
	for i := range 9 {
		rec := oneColumnBatch(t, mem, int64(i))
		require.NoError(t, p.Write(context.Background(), fmt.Sprintf("d=%d", i%3), rec))
		rec.Release()
	}
	require.Error(t, p.Spilled().Err)
	files, err := p.Finish()
	require.NoError(t, err)
	require.NoError(t, p.Commit())
	var rows int64
	for _, f := range files {
		rows += parquettest.Read(t, filepath.Join(root, f.Path)).NumRows
	}
	require.Equal(t, int64(9), rows)
}
