package vpcflow_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/classify"
	"convert/internal/parquettest"
	"convert/internal/pipeline"
	"convert/internal/reader"
	"convert/internal/reader/vpcflow"
	"convert/internal/storage"
)

// A conversion whose batches reuse the buffers of released ones writes the
// values of one whose batches all have fresh buffers: with 2 workers,
// batches queued for the writers, batches split across two days (sliced,
// and taken row by row), and classification, which keeps the reader's
// columns and value numbers past the reader's batch. The pool overwrites
// every buffer given back with 0xA5, so a buffer reused while a holder
// still reads it changes the values written.
func TestPooledBuffersConvertTheSame(t *testing.T) {
	in := t.TempDir()
	for o := range 6 {
		require.NoError(t, os.WriteFile(filepath.Join(in, fmt.Sprintf("obj%d.log", o)), []byte(poolLog(o, 6000)), 0o644))
	}
	c, err := classify.New(classify.Config{
		VPCCIDRs:  []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		AWSRanges: []classify.AWSRange{{Prefix: netip.MustParsePrefix("52.0.0.0/8"), Service: "S3", Region: "us-east-1"}},
	})
	require.NoError(t, err)
	for _, kind := range []struct {
		name string
		kind func() pipeline.Kind
	}{
		{"plain", func() pipeline.Kind { return &pipeline.FlowLogs{ChunkRows: 1000} }},
		{"classified", func() pipeline.Kind { return &pipeline.FlowLogs{ChunkRows: 1000, Classifier: c} }},
	} {
		t.Run(kind.name, func(t *testing.T) {
			fresh := convertWith(t, kind.kind(), in, reader.NewBufferPool(0))
			pool := reader.NewBufferPool(64 << 20)
			pool.SetPoison(true)
			pooled := convertWith(t, kind.kind(), in, pool)
			require.Positive(t, pool.Pooled(), "buffers went back to the pool")
			require.Len(t, pooled, 6*6000)
			require.Equal(t, fresh, pooled)
		})
	}
}

// convertWith converts in with the column buffers from pool and returns
// every row written, with its partition, as sorted strings.
func convertWith(t *testing.T, kind pipeline.Kind, in string, pool *reader.BufferPool) []string {
	t.Helper()
	vpcflow.UsePool(t, pool)
	out := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := pipeline.Run(context.Background(), pipeline.Config{Kind: kind, Source: &storage.LocalSource{Root: in},
		Sink: &storage.LocalSink{Root: out}, Workers: 2, MaxRejectRatio: pipeline.DefaultMaxRejectRatio, Mem: mem})
	require.NoError(t, err)
	require.True(t, s.Balanced)
	require.Len(t, s.Partitions, 2)
	mem.AssertSize(t, 0)
	var rows []string
	for _, f := range parquettest.Files(t, out, ".parquet") {
		got := parquettest.Read(t, filepath.Join(out, f))
		for _, r := range got.Rows {
			keys := make([]string, 0, len(r))
			for k := range r {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var b strings.Builder
			b.WriteString(filepath.Dir(f))
			for _, k := range keys {
				fmt.Fprintf(&b, " %s=%v", k, r[k])
			}
			rows = append(rows, b.String())
		}
	}
	slices.Sort(rows)
	return rows
}

// poolLog is object o of a flow log of n records around midnight: most
// batches hold one day, some both, a row in seven from the other day.
func poolLog(o, n int) string {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	const midnight = 1638576000 // 2021-12-04
	for i := range n {
		start := midnight - 3000*(1-o%2) + i/2
		if i%7 == 3 {
			start = midnight - 100 + (o%2)*200
		}
		if i%97 == 0 {
			fmt.Fprintf(&b, "2 123456789012 eni-%017x - - - - - - - %d %d - NODATA\n", (o*n+i)%300, start, start+60)
			continue
		}
		fmt.Fprintf(&b, "2 1234567890%02d eni-%017x 10.%d.%d.%d 52.%d.%d.%d %d 443 6 %d %d %d %d %s OK\n",
			o, (o*n+i)%300, i%4, i%251, i%13, i%7, i%253, (i*7)%256, 32768+i%28000, 1+i%50, 40*(1+i%50)+i, start, start+60,
			[]string{"ACCEPT", "REJECT"}[i%2])
	}
	return b.String()
}
