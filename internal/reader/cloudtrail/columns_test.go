package cloudtrail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// The bitmap holds a bit per cell, wherever the NULLs fall.
func TestBitmapNullsAnywhere(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for first := -1; first < n; first++ { // -1: no NULL
			for _, more := range []bool{false, true} {
				var b bitmap
				want := make([]bool, n)
				for i := range n {
					ok := i != first && !(more && i > first && first >= 0 && i%3 == 0)
					want[i] = ok
					b.add(ok)
				}
				nulls := 0
				for i, ok := range want {
					if !ok {
						nulls++
						continue
					}
					if b.nulls > 0 {
						require.True(t, bitutil.BitIsSet(b.bits, i), "n=%d first=%d bit %d", n, first, i)
					}
				}
				require.Equal(t, n, b.n)
				require.Equal(t, nulls, b.nulls)
				if nulls == 0 {
					continue
				}
				require.Len(t, b.bits, (n+7)/8)
				for i, ok := range want {
					require.Equal(t, ok, bitutil.BitIsSet(b.bits, i), "n=%d first=%d more=%v bit %d", n, first, more, i)
				}
				b.reset()
				b.add(true)
				require.Equal(t, 0, b.nulls, "reset")
			}
		}
	}
}

// A batch whose only NULLs are in its last row, and a column NULL in every
// row, read back as they were written, in every batch.
func TestNullOnlyInLastRow(t *testing.T) {
	const rows, chunk = 21, 10 // batches of 10, 10 and 1 rows
	var in []string
	for i := range rows {
		ev := fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-05-01T00:00:%02dZ"`, i)
		if i%chunk != chunk-1 { // the last row of each full batch lacks these
			ev += fmt.Sprintf(`,"eventName":"E%d","userIdentity":{"type":"IAMUser","arn":"a%d"},"resources":[{"ARN":"r%d"}],"requestParameters":{"k":"v%d"}`, i, i, i, i)
		}
		in = append(in, ev+"}")
	}
	res := readAll(t, strings.NewReader(strings.Join(in, "\n")), Config{ChunkRows: chunk})
	require.NoError(t, res.err)
	require.Equal(t, 3, res.batches)
	require.Len(t, res.rows, rows)
	for i, row := range res.rows {
		require.Nil(t, row["awsregion"], "row %d", i)
		if i%chunk == chunk-1 {
			require.Nil(t, row["eventname"], "row %d", i)
			require.Nil(t, row["useridentity"], "row %d", i)
			require.Nil(t, row["resources"], "row %d", i)
			continue
		}
		require.Equal(t, fmt.Sprintf("E%d", i), row["eventname"], "row %d", i)
		require.Equal(t, "IAMUser", get(row, "useridentity", "type"), "row %d", i)
		require.Equal(t, fmt.Sprintf("a%d", i), get(row, "useridentity", "arn"), "row %d", i)
		require.Nil(t, get(row, "useridentity", "username"), "row %d", i)
		require.Len(t, row["resources"], 1, "row %d", i)
	}
}

// A batch's buffers are handed over, not copied: the next batches, built
// while it is still held, must not write into them.
func TestBatchOutlivesNextBatches(t *testing.T) {
	var in []string
	for i := range 50 {
		ev := fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2024-05-01T00:00:%02dZ","eventName":"E%d","requestID":"req-%d"`, i, i, i)
		if i%3 != 0 {
			ev += fmt.Sprintf(`,"errorCode":"C%d","userIdentity":{"type":"T%d","arn":"a%d"},"resources":[{"ARN":"r%d"},{"type":"t%d"}],"requestParameters":{"k%d":"v%d"}`, i, i%4, i, i, i, i, i)
		}
		in = append(in, ev+"}")
	}
	input := strings.Join(in, "\n")
	want := readAll(t, strings.NewReader(input), Config{ChunkRows: 7})
	require.NoError(t, want.err)

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(strings.NewReader(input), Config{Object: "x", ChunkRows: 7, Mem: mem})
	require.NoError(t, err)
	var held []arrow.RecordBatch
	for rd.Next() {
		rec := rd.RecordBatch()
		rec.Retain()
		held = append(held, rec)
	}
	require.NoError(t, rd.Err())
	rd.Release()
	// Another reader reuses the released column set.
	again := readAll(t, strings.NewReader(strings.Repeat(`{"eventName":"Other","errorCode":"X","userIdentity":{"type":"U"}}`+"\n", 30)), Config{ChunkRows: 7})
	require.Len(t, again.rows, 30)
	var got []map[string]any
	for _, rec := range held {
		got = append(got, recordRows(rec)...)
		rec.Release()
	}
	require.Equal(t, want.rows, got)
}

// splitOffsets gives the offsets without their NULL bits and the bitmap a
// bitmap built row by row gives, for every length around the eight-row
// words and NULLs anywhere: none, all, one, runs, alternating.
func TestSplitOffsets(t *testing.T) {
	patterns := map[string]func(i, n int) bool{ // reports a NULL row
		"none":      func(i, n int) bool { return false },
		"all":       func(i, n int) bool { return true },
		"first":     func(i, n int) bool { return i == 0 },
		"last":      func(i, n int) bool { return i == n-1 },
		"odd":       func(i, n int) bool { return i%2 == 1 },
		"every7":    func(i, n int) bool { return i%7 == 3 },
		"runs":      func(i, n int) bool { return (i/5)%2 == 0 },
		"all-but-1": func(i, n int) bool { return i != n/2 },
	}
	for n := 0; n <= 41; n++ {
		for name, isNull := range patterns {
			src := []int32{0}
			var want bitmap
			wantOffsets := []int32{0}
			size := int32(0)
			for i := range n {
				null := isNull(i, n)
				want.add(!null)
				if null {
					src = append(src, size|nullOffset)
				} else {
					size += int32(i%3) * 1000003 // large offsets keep their high bits
					src = append(src, size)
				}
				wantOffsets = append(wantOffsets, size)
			}
			dst := make([]int32, len(src)+3)
			for i := range dst {
				dst[i] = -7
			}
			valid := make([]byte, (n+7)/8)
			for i := range valid {
				valid[i] = 0xa5
			}
			splitOffsets(dst, src, valid, want.nulls)
			require.Equal(t, wantOffsets, dst[:len(src)], "n=%d %s", n, name)
			require.Equal(t, []int32{-7, -7, -7}, dst[len(src):], "n=%d %s: wrote past the offsets", n, name)
			if want.nulls == 0 {
				continue // no bitmap: the array has none
			}
			for i := range n {
				require.Equal(t, !isNull(i, n), bitutil.BitIsSet(valid, i), "n=%d %s row %d", n, name, i)
			}
			if n%8 != 0 {
				require.Zero(t, valid[len(valid)-1]>>(n%8), "n=%d %s: bits past the last row", n, name)
			}
		}
	}
}
