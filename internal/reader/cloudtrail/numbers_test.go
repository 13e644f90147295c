package cloudtrail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/reader"
	"convert/internal/schema"
)

// numberedBatches reads data in batches of chunk rows and calls each with
// every string column of every batch, its numbers and their bound (nil
// numbers for a column or batch without them).
func numberedBatches(t *testing.T, data []byte, chunk int, each func(rec *array.String, name string, nums []int32, bound int)) (batches int) {
	t.Helper()
	sc := schema.CloudTrailSchema()
	eachBatch(t, string(data), chunk, func(rec arrow.RecordBatch) {
		batches++
		ix, _ := rec.(interface{ ValueNumbers(int) ([]int32, int) })
		for i, f := range sc.Fields() {
			col, ok := rec.Column(i).(*array.String)
			if !ok {
				continue
			}
			var nums []int32
			var bound int
			if ix != nil {
				nums, bound = ix.ValueNumbers(i)
			}
			each(col, f.Name, nums, bound)
		}
	})
	return batches
}

// The repeating top-level string columns are numbered, consistently across
// the batches of an object, and the ids, times and JSON texts are not; a
// new object numbers afresh.
func TestValueNumbers(t *testing.T) {
	data := gen.CloudTrailSample(5, 3<<20)
	byValue := map[string]map[string]int32{}
	n := numberedBatches(t, data, 300, func(col *array.String, name string, nums []int32, bound int) {
		if !numberedColumns[name] && name != schema.CloudTrailUnmappedColumn {
			require.Nil(t, nums, name)
			return
		}
		if col.NullN() == col.Len() && nums == nil {
			return
		}
		require.NotNil(t, nums, name)
		parquettest.RequireNumbersMatchValues(t, name, col, nums, bound)
		if byValue[name] == nil {
			byValue[name] = map[string]int32{}
		}
		for r := range col.Len() {
			if col.IsValid(r) {
				if k, ok := byValue[name][col.Value(r)]; ok {
					require.Equal(t, k, nums[r], "%s: %q numbered again in a later batch", name, col.Value(r))
				}
				byValue[name][col.Value(r)] = nums[r]
			}
		}
	})
	require.Greater(t, n, 5)
	for _, name := range []string{"eventname", "eventsource", "awsregion", "useragent", "eventversion", "recipientaccountid", "unmappedfields"} {
		require.NotEmpty(t, byValue[name], name)
	}
	for _, name := range []string{"eventid", "requestid", "eventtime", "sharedeventid", "requestparameters"} {
		require.False(t, numberedColumns[name], name)
	}

	// Another object (the pooled columns again) starts from 0.
	first := true
	numberedBatches(t, gen.CloudTrailSample(6, 64<<10), 1000, func(col *array.String, name string, nums []int32, bound int) {
		if name == "awsregion" && first {
			first = false
			require.Equal(t, 1, bound, "one region: one number")
			require.Equal(t, int32(0), nums[0])
		}
	})
	require.False(t, first)
}

// A column with more distinct values than a StringDict holds, or a value
// longer than it numbers, is written without numbers from there on; its
// values are unchanged, and the other columns stay numbered.
func TestValueNumbersStopWhenFull(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	rows := reader.MaxDictValues + 1500
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		ua := fmt.Sprintf("agent-%d", i)
		region := "us-east-1"
		if i == 700 {
			region = strings.Repeat("r", reader.MaxDictValueBytes+1)
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.08","eventName":"Get%d","userAgent":%q,"awsRegion":%q}`, i%7, ua, region)
	}
	b.WriteString(`]}`)
	var rowsSeen, uaNumbered, uaPlain, regionPlain int
	numberedBatches(t, []byte(b.String()), 500, func(col *array.String, name string, nums []int32, bound int) {
		switch name {
		case "eventname":
			require.NotNil(t, nums)
			parquettest.RequireNumbersMatchValues(t, name, col, nums, bound)
			require.LessOrEqual(t, bound, 7)
			for r := range col.Len() {
				require.Equal(t, fmt.Sprintf("Get%d", (rowsSeen+r)%7), col.Value(r))
			}
		case "useragent":
			if nums != nil {
				uaNumbered++
				parquettest.RequireNumbersMatchValues(t, name, col, nums, bound)
			} else {
				uaPlain++
			}
			for r := range col.Len() {
				require.Equal(t, fmt.Sprintf("agent-%d", rowsSeen+r), col.Value(r))
			}
		case "awsregion":
			if nums == nil {
				regionPlain++
			} else {
				parquettest.RequireNumbersMatchValues(t, name, col, nums, bound)
			}
		case schema.CloudTrailUnmappedColumn:
			rowsSeen += col.Len() // the last column
		}
	})
	require.Equal(t, rows, rowsSeen)
	require.Equal(t, reader.MaxDictValues/500, uaNumbered, "numbered until the dictionary fills")
	require.Positive(t, uaPlain)
	require.Equal(t, (rows+499)/500-1, regionPlain, "no numbers from the batch with the long value on")
}

// The numbers of one object do not leak into the next, whose reader takes
// the pooled columns of the one before: a value the first object numbered
// 1 is the second's 0.
func TestValueNumbersPerObject(t *testing.T) {
	first := `{"Records":[{"eventName":"A","userIdentity":{"type":"X"}},{"eventName":"B","userIdentity":{"type":"Y"}}]}`
	second := `{"Records":[{"eventName":"B","userIdentity":{"type":"Y"}},{"eventName":"B","userIdentity":{"type":"Y"}}]}`
	sc := schema.CloudTrailSchema()
	name := sc.FieldIndices("eventname")[0]
	for obj, data := range []string{first, second, first} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rd, err := NewReader(strings.NewReader(data), Config{Object: "x.json", Mem: mem})
		require.NoError(t, err)
		require.True(t, rd.Next())
		rec := rd.RecordBatch()
		nums, bound := rec.(interface{ ValueNumbers(int) ([]int32, int) }).ValueNumbers(name)
		parquettest.RequireNumbersMatchValues(t, "eventname", rec.Column(name).(*array.String), nums, bound)
		leafNums, leafBound := rec.(interface{ LeafNumbers(int) ([]int32, int) }).LeafNumbers(1) // useridentity.type
		ui := rec.Column(sc.FieldIndices("useridentity")[0]).(*array.Struct)
		parquettest.RequireNumbersMatchValues(t, "useridentity.type", ui.Field(0).(*array.String), leafNums, leafBound)
		if obj == 1 {
			require.Equal(t, []int32{0, 0}, nums[:2])
			require.Equal(t, 1, bound)
			require.Equal(t, []int32{0, 0}, leafNums[:2])
		} else {
			require.Equal(t, []int32{0, 1}, nums[:2])
		}
		require.False(t, rd.Next())
		rd.Release()
		mem.AssertSize(t, 0)
	}
}
