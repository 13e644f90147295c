package vpcflow

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
)

// A batch whose string columns hold no text (all NULL) still has non-nil
// data buffers: arrow-go leaves the ""s of a nil buffer out of min/max (issue 16).
func TestBatchWithoutTextHasValueBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := "version account-id interface-id action\n" + strings.Repeat("2 - - -\n", 3)
	rd, err := NewReader(strings.NewReader(in), Config{Object: "o", Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	require.Equal(t, 3, parquettest.RequireReaderValueBytes(t, rd, nil))
}
