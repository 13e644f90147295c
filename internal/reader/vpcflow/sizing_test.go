package vpcflow

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"convert/internal/schema"
)

// The first batch of an object has no batch before it to size its string
// buffers by; they are sized from its first sizeRows rows, so that a batch
// of rows like them is appended without growing them (each growth copies
// the batch's text): the arrays of the batch hold the very buffers that
// held its first sizeRows+1 rows. The first row is a NODATA row, whose
// NULL addresses must not size their buffers for rows of one byte.
func TestFirstBatchSizedFromFirstRows(t *testing.T) {
	const rows = 1000
	line := func(i int, json bool) string {
		l := "2 123456789012 eni-0123456789abcdef0 - - - - - - - 1638576000 1638576060 - NODATA"
		if i > 0 {
			l = fmt.Sprintf("2 123456789012 eni-%017x 10.0.%d.%d 10.1.%d.%d 443 %d 6 1 40 1638576000 1638576060 ACCEPT OK",
				i%37, 100+i%100, 100+i%150, 100+i%100, 100+i%150, 1024+i%1000)
		}
		if json {
			return `{"message":"` + l + `"}`
		}
		return l
	}
	for _, tc := range []struct {
		name string
		text string
		cfg  Config
		json bool
	}{
		{name: "header", text: v2Header + "\n"},
		{name: "fields", cfg: Config{Fields: schema.VPCDefaultFormat}},
		{name: "json", cfg: Config{Fields: schema.VPCDefaultFormat}, json: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Object, cfg.ChunkRows = "o", rows
			rd, err := NewReader(strings.NewReader(tc.text), cfg)
			require.NoError(t, err)
			defer rd.Release()
			first := map[int]*byte{}
			for i := range rows {
				rd.handleLine([]byte(line(i, tc.json)), int64(i+1))
				if i == sizeRows {
					for j := range rd.cur.columns {
						if c := &rd.cur.columns[j]; c.kind == kindString {
							first[j] = unsafe.SliceData(c.data)
						}
					}
				}
			}
			require.Equal(t, int64(rows), rd.Stats().Rows)
			require.True(t, rd.cur.full())
			rec := rd.cur.record(rd.layout.schema)
			defer rec.Release()
			require.Equal(t, int64(rows), rec.NumRows())
			require.NotEmpty(t, first)
			for i, p := range first {
				col := rec.Column(i).(*array.String)
				// Compared as addresses: require.Equal compares pointers
				// by what they point to.
				require.True(t, p == unsafe.SliceData(col.ValueBytes()),
					"column %s: its buffer grew while the batch was read", rec.Schema().Field(i).Name)
			}
		})
	}
}
