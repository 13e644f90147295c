package cloudtrail

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/schema"
)

// repeatValues are values chosen to trip a wrong shortcut for a value equal
// to the previous row's: suffixes and prefixes of each other, "" (equal to
// the empty tail of any column), and NULLs between repeats.
var repeatValues = []string{"", "a", "ab", "b", "xab", "abx", "ba", `q"u`, "é", "a\u00e9"}

// repeatInput writes rows events whose eventName and userIdentity.type run
// through repeatValues at random, with runs of repeats and NULLs (a missing
// member or an explicit null), and returns the values as read back.
func repeatInput(seed uint64, rows int) (string, []*string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	want := make([]*string, rows)
	var last *string
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		var v *string
		switch r := rng.IntN(10); {
		case r < 4 && i > 0: // the previous row's value again, NULL or not
			v = last
		case r < 6:
			v = nil
		default:
			s := repeatValues[rng.IntN(len(repeatValues))]
			v = &s
		}
		want[i], last = v, v
		fmt.Fprintf(&b, `{"eventVersion":"1.08"`)
		if v != nil {
			fmt.Fprintf(&b, `,"eventName":%q,"userIdentity":{"type":%q}`, *v, *v)
		} else if rng.IntN(2) == 0 {
			b.WriteString(`,"eventName":null,"userIdentity":{"type":null}`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.String(), want
}

// A value equal to the previous row's takes the previous number without a
// dictionary lookup: across all batches of an object (pooled columns, small
// and odd batch sizes), equal values still have equal numbers and
// different values different ones, for a top-level column and a struct
// leaf, and the values are unchanged.
func TestValueNumbersRepeatedRows(t *testing.T) {
	sc := schema.CloudTrailSchema()
	nameCol := sc.FieldIndices("eventname")[0]
	uiCol := sc.FieldIndices("useridentity")[0]
	for seed := range uint64(8) {
		for _, chunk := range []int{1, 2, 3, 7, 64, 1000} {
			input, want := repeatInput(seed, 300)
			byNum := map[string]map[int32]string{"eventname": {}, "useridentity.type": {}}
			byValue := map[string]map[string]int32{"eventname": {}, "useridentity.type": {}}
			check := func(name string, col *array.String, nums []int32, bound int, first int) {
				require.NotNil(t, nums, "%s seed %d chunk %d", name, seed, chunk)
				parquettest.RequireNumbersMatchValues(t, name, col, nums, bound)
				for r := range col.Len() {
					w := want[first+r]
					if w == nil {
						require.True(t, col.IsNull(r), "%s row %d", name, first+r)
						continue
					}
					v, k := col.Value(r), nums[r]
					require.Equal(t, *w, v, "%s row %d", name, first+r)
					if old, ok := byNum[name][k]; ok {
						require.Equal(t, old, v, "%s seed %d chunk %d row %d: number %d for two values", name, seed, chunk, first+r, k)
					}
					if old, ok := byValue[name][v]; ok {
						require.Equal(t, old, k, "%s seed %d chunk %d row %d: two numbers for %q", name, seed, chunk, first+r, v)
					}
					byNum[name][k], byValue[name][v] = v, k
				}
			}
			rows := 0
			eachBatch(t, input, chunk, func(rec arrow.RecordBatch) {
				nums, bound := rec.(interface{ ValueNumbers(int) ([]int32, int) }).ValueNumbers(nameCol)
				check("eventname", rec.Column(nameCol).(*array.String), nums, bound, rows)
				ui := rec.Column(uiCol).(*array.Struct)
				leaf := rec.(interface{ LeafNumbers(int) ([]int32, int) })
				nums, bound = leaf.LeafNumbers(1) // useridentity.type
				check("useridentity.type", ui.Field(0).(*array.String), nums, bound, rows)
				rows += int(rec.NumRows())
			})
			require.Equal(t, len(want), rows)
		}
	}
}

// eachBatch reads input in batches of chunk rows with a checked allocator.
func eachBatch(t *testing.T, input string, chunk int, each func(arrow.RecordBatch)) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(strings.NewReader(input), Config{Object: "x.json", ChunkRows: chunk, Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
		each(rd.RecordBatch())
	}
	require.NoError(t, rd.Err())
}
