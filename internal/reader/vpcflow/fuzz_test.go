package vpcflow

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
)

// FuzzReader feeds arbitrary objects to the reader. Properties: it never
// panics; every data line is a row or a reject (records = rows + rejected);
// batches have the columns their schema says; and a rejected line is handed
// over untouched (it is a line of the input).
func FuzzReader(f *testing.F) {
	f.Add([]byte(v2Header + "\n2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 3 4 100 160 ACCEPT OK\n"))
	f.Add([]byte("version srcaddr\n2 x\nversion srcaddr dstport\n3 y 443\n\n"))
	f.Add([]byte("{\"message\":\"2 1 eni - - - - - - - 1 2 - NODATA\"}\n"))
	f.Add([]byte("2 1 2 3\n"))
	for _, dir := range []string{"../../../testdata/vpcflow/headerless"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		var rejected int64
		cfg := Config{Object: "fuzz", ChunkRows: 7, MaxLineBytes: 4096, Mem: mem,
			Reject: func(r reader.Reject) {
				rejected++
				if !r.Truncated && !bytes.Contains(data, r.Raw) {
					t.Fatalf("reject %q is not a line of the input", r.Raw)
				}
			}}
		for _, fields := range [][]string{nil, {"version", "srcport", "action"}} {
			cfg.Fields = fields
			rejected = 0
			rd, err := NewReader(bytes.NewReader(data), cfg)
			if err != nil {
				continue
			}
			var rows int64
			for rd.Next() {
				rec := rd.RecordBatch()
				if int(rec.NumCols()) != rec.Schema().NumFields() {
					t.Fatal("columns do not match the schema")
				}
				for _, c := range rec.Columns() {
					if int64(c.Len()) != rec.NumRows() {
						t.Fatal("column length differs from the batch")
					}
					if s, ok := c.(*array.String); ok {
						for i := 0; i < s.Len(); i++ {
							if !utf8.ValidString(s.Value(i)) {
								t.Fatalf("invalid UTF-8 in a string column: %q", s.Value(i))
							}
						}
					}
				}
				rows += rec.NumRows()
			}
			st := rd.Stats()
			rd.Release()
			if rd.Err() != nil {
				continue
			}
			if st.Rows != rows || st.Records != st.Rows+st.Rejected || st.Rejected != rejected {
				t.Fatalf("unbalanced: %+v rows=%d rejects=%d", st, rows, rejected)
			}
		}
	})
}
