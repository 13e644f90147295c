package pipeline

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// peakHeap samples the Go heap in use while fn runs and returns its peak.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// writeGzip writes n bytes of fill (with head before and tail after) as a
// gzip file, without holding them in memory.
func writeGzip(t *testing.T, path, head string, fill byte, n int, tail string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	zw.Write([]byte(head))
	chunk := bytes.Repeat([]byte{fill}, 1<<20)
	for left := n; left > 0; left -= len(chunk) {
		zw.Write(chunk[:min(left, len(chunk))])
	}
	zw.Write([]byte(tail))
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
}

// TestGzipBombAndHugeLine: a 1 GiB line from a 1 MB gzip object and a
// 100 MB line in a flow log are rejected with a reason, the rest of the
// object converts, and memory stays bounded.
func TestGzipBombAndHugeLine(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	in := t.TempDir()
	writeGzip(t, filepath.Join(in, "bomb.log.gz"), "version srcaddr start\n", 'A', 1<<30, "\n2 10.0.0.1 1638576000\n")
	writeGzip(t, filepath.Join(in, "line.log.gz"), "version srcaddr start\n2 ", 'x', 100<<20, " 1\n2 10.0.0.2 1638576000\n")
	st, err := os.Stat(filepath.Join(in, "bomb.log.gz"))
	require.NoError(t, err)
	require.Less(t, st.Size(), int64(4<<20), "a bomb: tiny compressed")

	runtime.GC()
	var s Summary
	peak := peakHeap(func() {
		s, err = runInto(t, in, t.TempDir(), &FlowLogs{}, func(c *Config) { c.MaxRejectRatio = 1 })
	})
	require.NoError(t, err)
	require.Equal(t, int64(2), s.RecordsWritten)
	require.Equal(t, int64(2), s.RecordsRejected)
	require.True(t, s.Balanced)
	t.Logf("peak heap %.1f MiB while reading %.0f MB of decompressed data", float64(peak)/(1<<20), float64(s.BytesUncompressed)/1e6)
	require.Less(t, peak, uint64(96<<20), "memory bounded by the line limit, not the line")
}

// TestDeeplyNestedJSON: CloudTrail records nested far deeper than any real
// one are rejected, not recursed into.
func TestDeeplyNestedJSON(t *testing.T) {
	in := t.TempDir()
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	body := `{"Records":[{"eventName":"X","eventTime":"2024-05-01T00:00:00Z","requestParameters":` + deep + `},{"eventName":"Y","eventTime":"2024-05-01T00:00:00Z"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(in, "deep.json"), []byte(body), 0o644))
	_, s := convertKind(t, &CloudTrail{}, in, func(c *Config) {
		c.MaxRejectRatio = 1
		c.PartitionDate = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	})
	require.Equal(t, int64(1), s.RecordsWritten)
	require.Equal(t, int64(1), s.RecordsRejected)
}

// TestHostilePartitionValues: record values become partition directories
// only after sanitising; nothing is written outside the output.
func TestHostilePartitionValues(t *testing.T) {
	in := t.TempDir()
	body := `{"Records":[{"eventName":"X","eventTime":"2024-05-01T00:00:00Z","recipientAccountId":"../../../../tmp/evil","awsRegion":"a/b\\c"},` +
		`{"eventName":"Y","eventTime":"2024-05-01T00:00:00Z","recipientAccountId":"..","awsRegion":"."}]}`
	require.NoError(t, os.WriteFile(filepath.Join(in, "x.json"), []byte(body), 0o644))
	out, s := convertKind(t, &CloudTrail{}, in, nil)
	require.Equal(t, []string{
		"account=.._.._.._.._tmp_evil/region=a_b_c/year=2024/month=05/day=01",
		"account=unknown/region=unknown/year=2024/month=05/day=01",
	}, s.Partitions)
	for _, f := range s.OutputFiles {
		abs, err := filepath.Abs(filepath.Join(out, f.Path))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(abs, out+string(filepath.Separator)), abs)
	}
}
