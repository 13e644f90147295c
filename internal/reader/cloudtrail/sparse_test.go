package cloudtrail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/schema"
)

// sparseEvent is event i of sparseEvents and the values its row must have:
// every member comes and goes in its own rhythm, so that runs of rows
// without it start and end anywhere in a batch and across batches.
func sparseEvent(i int) (string, map[string]any) {
	var m []string
	want := map[string]any{}
	has := func(period, phase int) bool { return i%period == phase }
	if has(3, 0) {
		m = append(m, fmt.Sprintf(`"eventName":"E%d"`, i%4))
		want["eventname"] = fmt.Sprintf("E%d", i%4)
	}
	m = append(m, fmt.Sprintf(`"eventTime":"2024-05-01T00:00:%02dZ"`, i%60))
	want["eventtime"] = fmt.Sprintf("2024-05-01T00:00:%02dZ", i%60)
	if has(7, 2) {
		m = append(m, `"errorCode":null`) // there, but NULL
	}
	if !has(4, 1) {
		var ui []string
		if has(2, 0) {
			ui = append(ui, fmt.Sprintf(`"type":"T%d"`, i%3))
			want["useridentity.type"] = fmt.Sprintf("T%d", i%3)
		}
		if has(5, 3) {
			ui = append(ui, fmt.Sprintf(`"sessionContext":{"sessionIssuer":{"arn":"a%d"},"webIdFederationData":{"attributes":{"k":"v%d"}}}`, i%2, i))
			want["useridentity.sessioncontext.sessionissuer.arn"] = fmt.Sprintf("a%d", i%2)
			want["useridentity.sessioncontext.webidfederationdata.attributes"] = map[string]any{"k": fmt.Sprintf("v%d", i)}
		}
		m = append(m, `"userIdentity":{`+strings.Join(ui, ",")+`}`)
		want["useridentity"] = true
	} else if has(8, 5) {
		m = append(m, `"userIdentity":"not an object"`)
	}
	if has(6, 4) {
		m = append(m, fmt.Sprintf(`"resources":[{"ARN":"r%d"}]`, i))
		want["resources"] = []any{map[string]any{"arn": fmt.Sprintf("r%d", i), "accountid": nil, "type": nil}}
	}
	if has(9, 1) {
		m = append(m, `"managementEvent":true`)
	}
	return "{" + strings.Join(m, ",") + "}", want
}

// appendRow appends only the members a record has and fills the rows that
// lack them with NULLs later, in one go: wherever the runs of missing rows
// start and end, top-level, in structs (also a struct that is NULL or is
// not an object), in the resources list and the maps, each cell is what the
// record says, the numbers still match the values, and the batches are the
// same with the default allocator as with a checked one.
func TestSparseMembers(t *testing.T) {
	const rows = 200
	var lines []string
	var wants []map[string]any
	for i := range rows {
		line, want := sparseEvent(i)
		lines = append(lines, line)
		wants = append(wants, want)
	}
	input := strings.Join(lines, "\n")
	paths := []string{"eventname", "eventtime", "errorcode", "useridentity.type",
		"useridentity.sessioncontext.sessionissuer.arn", "useridentity.sessioncontext.webidfederationdata.attributes", "resources"}
	for _, chunk := range []int{1, 7, 64, 1000} {
		res := readAll(t, strings.NewReader(input), Config{ChunkRows: chunk})
		require.NoError(t, res.err)
		require.Len(t, res.rows, rows)
		for i, row := range res.rows {
			for _, p := range paths {
				require.Equal(t, wants[i][p], get(row, strings.Split(p, ".")...), "chunk %d row %d %s", chunk, i, p)
			}
			require.Equal(t, wants[i]["useridentity"] != nil, row["useridentity"] != nil, "chunk %d row %d useridentity", chunk, i)
			if i%9 == 1 || (i%4 == 1 && i%8 == 5) {
				require.NotNil(t, row[schema.CloudTrailUnmappedColumn], "chunk %d row %d", chunk, i)
			} else {
				require.Nil(t, row[schema.CloudTrailUnmappedColumn], "chunk %d row %d", chunk, i)
			}
		}

		sc := schema.CloudTrailSchema()
		eventName := sc.FieldIndices("eventname")[0]
		eachBatch(t, input, chunk, func(rec arrow.RecordBatch) {
			nums, bound := rec.(interface{ ValueNumbers(int) ([]int32, int) }).ValueNumbers(eventName)
			require.Len(t, nums, int(rec.NumRows()))
			parquettest.RequireNumbersMatchValues(t, "eventname", rec.Column(eventName).(*array.String), nums, bound)
			if leaf, ok := rec.(interface{ LeafNumbers(int) ([]int32, int) }); ok {
				ui := rec.Column(sc.FieldIndices("useridentity")[0]).(*array.Struct)
				nums, bound := leaf.LeafNumbers(1) // useridentity.type
				require.Len(t, nums, int(rec.NumRows()))
				parquettest.RequireNumbersMatchValues(t, "useridentity.type", ui.Field(0).(*array.String), nums, bound)
			}
		})

		rd, err := NewReader(strings.NewReader(input), Config{Object: "x.json", ChunkRows: chunk, Mem: memory.DefaultAllocator})
		require.NoError(t, err)
		var got []map[string]any
		for rd.Next() {
			for _, col := range rd.RecordBatch().Columns() {
				require.NoError(t, col.(interface{ ValidateFull() error }).ValidateFull())
			}
			got = append(got, recordRows(rd.RecordBatch())...)
		}
		require.NoError(t, rd.Err())
		rd.Release()
		require.Equal(t, res.rows, got, "chunk %d: the default allocator", chunk)
	}
}
