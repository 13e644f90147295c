package cloudtrail

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
)

// A batch whose strings are all "" or NULL still has non-nil data buffers,
// in every column (structs, the resources list and the maps too): arrow-go
// leaves the ""s of a nil buffer out of min/max (issue 16).
func TestBatchWithoutTextHasValueBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := strings.Repeat(`{"eventVersion":"","eventTime":"","errorMessage":"","userIdentity":{"accessKeyId":"","sessionContext":{"webIdFederationData":{"attributes":{"":""}}}},"resources":[{"ARN":""},{}]}`+"\n", 3)
	rd, err := NewReader(strings.NewReader(in), Config{Object: "o", Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	require.Equal(t, 3, parquettest.RequireReaderValueBytes(t, rd, nil))
}
