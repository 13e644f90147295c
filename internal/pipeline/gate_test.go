package pipeline

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader/vpcflow"
)

// The gate counts what a batch keeps in memory, not the length of its
// values: a flow-log batch cut short by long lines holds integer buffers
// sized for a full batch (and pooled buffers are up to twice what was
// asked for), which must count against inFlightBytes.
func TestMessageBytesCountHeldBuffers(t *testing.T) {
	const chunkRows = 32 << 10
	var in bytes.Buffer
	in.WriteString("version interface-id start end action\n")
	long := strings.Repeat("x", 600<<10)
	for i := range 20 {
		fmt.Fprintf(&in, "2 eni-%d%s %d %d ACCEPT\n", i, long, 1700000000+i, 1700000060+i)
	}
	rd, err := vpcflow.NewReader(&in, vpcflow.Config{Object: "long", ChunkRows: chunkRows, Mem: memory.DefaultAllocator})
	require.NoError(t, err)
	defer rd.Release()
	require.True(t, rd.Next())
	rec := rd.RecordBatch()
	require.Less(t, rec.NumRows(), int64(20), "the batch is cut short by its text")
	text := int64(len(rec.Column(1).(*array.String).ValueBytes()))
	ints := int64(chunkRows * (4 + 8 + 8)) // version int32, start and end int64
	require.GreaterOrEqual(t, messageBytes(rec, 0), text+ints)
}
