package pipeline

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/classify"
	"convert/internal/storage"
)

func TestClassifiedFlowLogs(t *testing.T) {
	c, err := classify.New(classify.Config{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	require.NoError(t, err)
	in := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(in, name), []byte(text), 0o644))
	}
	write("a.log", "version srcaddr dstaddr bytes start\n2 10.0.0.1 203.0.113.9 100 1638576000\n2 10.0.0.1 10.0.0.2 50 1638576000\n")

	// The columns are added before partitioning and written with the
	// record's own columns; every allocation is released.
	out, s := convertKind(t, &FlowLogs{Classifier: c}, in, nil)
	require.Equal(t, int64(2), s.RecordsWritten)
	rows := readTree(t, out)
	require.Len(t, rows, 2)
	byDst := map[any]map[string]any{}
	for _, r := range rows {
		byDst[r["dstaddr"]] = r
	}
	require.Equal(t, "internet_egress", byDst["203.0.113.9"]["traffic_class"])
	require.Equal(t, "203.0.113.9", byDst["203.0.113.9"]["remote_addr"])
	require.Equal(t, "intra_vpc", byDst["10.0.0.2"]["traffic_class"])
	require.Nil(t, byDst["10.0.0.2"]["via_nat"])

	// A flow log with a field of a classification column's name fails,
	// naming the object, rather than writing two columns of one name.
	write("b.log", "version srcaddr traffic-class start\n2 10.0.0.1 x 1638576000\n")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err = Run(context.Background(), Config{Kind: &FlowLogs{Classifier: c}, Source: &storage.LocalSource{Root: in},
		Sink: &storage.LocalSink{Root: t.TempDir()}, Workers: 1, Mem: mem})
	require.ErrorContains(t, err, "b.log")
	require.ErrorContains(t, err, "already has a column traffic_class")
	mem.AssertSize(t, 0)
}
