package cloudtrail_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/pipeline"
	"convert/internal/reader"
	"convert/internal/reader/cloudtrail"
	"convert/internal/storage"
)

// A conversion whose batches reuse the buffers of released ones writes the
// values of one whose batches all have fresh buffers: with 2 workers,
// batches queued for the writers, batches split across partitions (two
// days, two accounts, three regions: sliced, and taken row by row), and
// the partition names built from the batches' strings. The pool overwrites
// every buffer given back with 0xA5, so a buffer reused while a holder
// still reads it changes the values written, or the partitions.
func TestPooledBuffersConvertTheSame(t *testing.T) {
	in := t.TempDir()
	st, err := gen.GenerateCloudTrail(gen.CloudTrailConfig{Dir: in, Bytes: 6 << 20, Files: 6, Days: 2, Seed: 7})
	require.NoError(t, err)
	fresh := convertWith(t, in, reader.NewBufferPool(0))
	pool := reader.NewBufferPool(64 << 20)
	pool.SetPoison(true)
	pooled := convertWith(t, in, pool)
	require.Positive(t, pool.Pooled(), "buffers went back to the pool")
	require.Len(t, pooled, int(st.Records))
	require.Equal(t, fresh, pooled)
}

// convertWith converts in with the batch buffers from pool and returns
// every row written, with its partition, as sorted strings.
func convertWith(t *testing.T, in string, pool *reader.BufferPool) []string {
	t.Helper()
	cloudtrail.UsePool(t, pool)
	out := t.TempDir()
	s, err := pipeline.Run(context.Background(), pipeline.Config{Kind: &pipeline.CloudTrail{ChunkRows: 700},
		Source: &storage.LocalSource{Root: in}, Sink: &storage.LocalSink{Root: out}, Workers: 2,
		MaxRejectRatio: pipeline.DefaultMaxRejectRatio, Mem: memory.DefaultAllocator}) // Go's: the pool's path
	require.NoError(t, err)
	require.True(t, s.Balanced)
	require.Greater(t, len(s.Partitions), 2)
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
