package s3access

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
)

// A batch whose values of a column are all "" or NULL still has a non-nil
// data buffer: arrow-go leaves the ""s of a nil buffer out of min/max (issue 16).
func TestBatchWithoutTextHasValueBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	line := `a1b2 my-bucket [05/Jan/2024:23:58:01 +0000] 198.51.100.7 - 7D3F REST.GET.OBJECT k "GET /k HTTP/1.1" 200 - 5120 5120 12 9 "" "" - - SigV4 - AuthHeader - TLSv1.3 - - eu-west-1` + "\n"
	rd, err := NewReader(strings.NewReader(strings.Repeat(line, 3)), Config{Object: "o", Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	rows := parquettest.RequireReaderValueBytes(t, rd, func(rec arrow.RecordBatch) {
		ref := rec.Column(rec.Schema().FieldIndices("referrer")[0])
		require.Equal(t, 0, ref.NullN(), "\"\" is a value, not NULL")
	})
	require.Equal(t, 3, rows)
}
