package writer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/storage"
)

// A batch whose largest column is over a page is written in slices of about
// a page of it; a usual batch is written whole.
func TestSliceRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	batch := func(rows, width int) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, sc)
		defer b.Release()
		long := strings.Repeat("x", width)
		for i := range rows {
			b.Field(0).(*array.StringBuilder).Append(long)
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
		return b.NewRecordBatch()
	}
	const page = 1 << 20
	usual := batch(32<<10, 20) // 640 KiB of strings, 256 KiB of integers
	defer usual.Release()
	require.Equal(t, int64(32<<10), sliceRows(usual, page))

	long := batch(8, 1<<20-200) // eight lines just under 1 MiB
	defer long.Release()
	require.Equal(t, int64(1), sliceRows(long, page))

	half := batch(64, 256<<10) // 16 MiB: four rows to a page
	defer half.Release()
	require.Equal(t, int64(4), sliceRows(half, page))
	sl := half.NewSlice(8, 16) // a slice counts its own rows only
	defer sl.Release()
	require.Equal(t, int64(2<<20), arrayBytes(sl.Column(0)))
	require.Equal(t, int64(4), sliceRows(sl, page))
}

func TestBudgetFlushFloor(t *testing.T) {
	const mib = 1 << 20
	b := NewBudget(64 * mib)
	require.Equal(t, int64(minBudgetFlush), b.flushFloor(), "no file holds bytes")
	b.holders.Store(2)
	require.Equal(t, int64(minBudgetFlush), b.flushFloor(), "the usual one or two days")
	b.holders.Store(32)
	require.Equal(t, int64(2*mib), b.flushFloor(), "32 interleaved days share the budget")
	b.holders.Store(1000)
	require.Equal(t, int64(minCrowdedFlush), b.flushFloor())
}

// Many files open at once stay near the budget: each cuts its row group at
// its share, not at minBudgetFlush (which would let 32 files hold 128 MiB).
func TestBudgetHoldsWithManyOpenFiles(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	budget := NewBudget(8 << 20)
	p := NewPartitioned(PartitionedConfig{Sink: &storage.LocalSink{Root: t.TempDir()}, Stem: "s",
		Options: Options{Mem: mem, Budget: budget, RowGroupBytes: 4 << 20, Compression: "none",
			Encodings: map[string]Encoding{"v": Plain}}})
	sc := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var peak int64
	for round := range 12 {
		for d := range DefaultMaxOpenFiles {
			bld := array.NewInt64Builder(mem)
			for range 16 << 10 { // 128 KiB
				bld.Append(rng.Int64())
			}
			col := bld.NewArray()
			bld.Release()
			rec := array.NewRecordBatch(sc, []arrow.Array{col}, int64(col.Len()))
			col.Release()
			require.NoError(t, p.Write(context.Background(), fmt.Sprintf("d=%02d", d), rec), "round %d", round)
			rec.Release()
			peak = max(peak, budget.Used())
		}
	}
	t.Logf("peak buffered %.1f MiB for a budget of 8 MiB", float64(peak)/(1<<20))
	require.Less(t, peak, int64(24<<20))
	_, err := p.Finish()
	require.NoError(t, err)
	p.Abort()
}

// HeldBytes counts what a batch's buffers keep from being reused, at their
// capacity (a pooled buffer is up to twice what was asked for; a batch cut
// short by long lines keeps integer buffers sized for a full one), children
// and a slice's whole buffers included; BufferBytes counts their lengths.
func TestHeldBytesCountsCapacity(t *testing.T) {
	values := make([]byte, 8*10, 8*1000) // 10 int64s in room for 1000
	ints := array.NewData(arrow.PrimitiveTypes.Int64, 10, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
	defer ints.Release()
	require.Equal(t, int64(80), BufferBytes(ints))
	require.Equal(t, int64(8000), HeldBytes(ints))

	offsets := arrow.Int32Traits.CastToBytes(make([]int32, 3, 100))
	data := make([]byte, 5, 4096)
	strs := array.NewData(arrow.BinaryTypes.String, 2, []*memory.Buffer{nil, memory.NewBufferBytes(offsets), memory.NewBufferBytes(data)}, nil, 0, 0)
	defer strs.Release()
	st := arrow.StructOf(arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64}, arrow.Field{Name: "s", Type: arrow.BinaryTypes.String})
	parent := array.NewData(st, 2, []*memory.Buffer{nil}, []arrow.ArrayData{array.NewSliceData(ints, 0, 2), strs}, 0, 0)
	defer parent.Release()
	require.Equal(t, int64(8000+400+4096), HeldBytes(parent), "children, and a slice's whole buffers")
	require.Equal(t, int64(80+12+5), BufferBytes(parent))
}
