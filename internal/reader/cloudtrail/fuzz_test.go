package cloudtrail

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/reader"
	"convert/internal/schema"
)

// FuzzReader feeds arbitrary bytes to the Reader (the record decoder and the
// framing around it). Properties: it never panics; records = rows +
// rejected; every batch is a valid Arrow batch of the schema; every
// JSON-text cell and every unmappedfields cell is valid JSON; the reader
// releases all it allocated.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"Records":[` + ev1 + `,1,{"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"a":"b","a":1}}}},"resources":[null,{"ARN":"x","arn":"y"}]}]}`))
	f.Add([]byte(ev1 + "\n{bad\n" + ev2))
	f.Add([]byte(`[{"_raw":"{\"eventName\":\"x\"}"}]`))
	f.Add([]byte(`{"awsAccountId":"1","logFiles":[]}`))
	f.Add(gen.CloudTrailSample(3, 8<<10))
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "cloudtrail", "src", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(checkReaderProperties)
}

func checkReaderProperties(t *testing.T, data []byte) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var rejected int64
	rd, err := NewReader(bytes.NewReader(data), Config{
		Object: "fuzz", ChunkRows: 3, MaxRecordBytes: 4 << 10, MaxDepth: 40, Mem: mem,
		Reject: func(r reader.Reject) {
			rejected++
			require.LessOrEqual(t, len(r.Raw), reader.MaxRejectRawBytes)
			require.Positive(t, r.Record)
		},
	})
	require.NoError(t, err)
	defer rd.Release()
	var rows int64
	jsonCols := map[string]bool{schema.CloudTrailUnmappedColumn: true}
	for _, c := range schema.CloudTrailJSONColumns {
		jsonCols[c] = true
	}
	for rd.Next() {
		rec := rd.RecordBatch()
		rows += rec.NumRows()
		for _, row := range recordRows(rec) {
			for c := range jsonCols {
				if s, ok := row[c].(string); ok {
					require.True(t, json.Valid([]byte(s)), "%s is not JSON: %q", c, s)
				}
			}
		}
		for _, col := range rec.Columns() {
			require.NoError(t, col.(interface{ ValidateFull() error }).ValidateFull())
		}
	}
	st := rd.Stats()
	require.Equal(t, st.Rows+st.Rejected, st.Records)
	require.Equal(t, rows, st.Rows)
	require.Equal(t, rejected, st.Rejected)
}
