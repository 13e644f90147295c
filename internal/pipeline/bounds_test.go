package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"

	"convert/internal/bench"
	"convert/internal/storage"
	"convert/internal/writer"
)

// TestInterleavedDaysFewFilesPerDay: one object whose rows interleave more
// days than a unit keeps files open (a month-long CloudWatch export) makes
// one file per day, not one per batch that visits the day; every row is
// read back in its day.
func TestInterleavedDaysFewFilesPerDay(t *testing.T) {
	const days, rowsPerDay = 45, 4000
	require.Greater(t, days, writer.DefaultMaxOpenFiles)
	in := t.TempDir()
	writeInterleavedDays(t, filepath.Join(in, "export.log.gz"), days, rowsPerDay)

	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.Workers = 1 })
	require.NoError(t, err)
	require.Equal(t, int64(days*rowsPerDay), s.RecordsWritten)
	perDay := map[string]int{}
	for _, fi := range s.OutputFiles {
		perDay[fi.Partition]++
	}
	require.Len(t, perDay, days)
	for day, n := range perDay {
		require.Equal(t, 1, n, "files of %s", day)
	}
	rowsByDay := map[string]int{}
	for _, r := range readTree(t, out) {
		rowsByDay[r["_partition"].(string)]++
		day := time.Unix(r["start"].(int64), 0).UTC().Format("year=2006/month=01/day=02")
		require.Equal(t, day, r["_partition"])
	}
	for day, n := range rowsByDay {
		require.Equal(t, rowsPerDay, n, day)
	}
}

// writeInterleavedDays writes a gzip flow log whose rows visit days days in
// turn, rowsPerDay rows for each, as one export of a month would.
func writeInterleavedDays(tb testing.TB, file string, days, rowsPerDay int) {
	tb.Helper()
	f, err := os.Create(file)
	require.NoError(tb, err)
	zw := gzip.NewWriter(f)
	bw := bufio.NewWriter(zw)
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	fmt.Fprintln(bw, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	for i := range rowsPerDay {
		for d := range days {
			ts := start + int64(d)*86400 + int64(i%4000)*20
			fmt.Fprintf(bw, "2 123456789012 eni-%08x 10.0.%d.%d 10.1.0.1 443 %d 6 10 %d %d %d ACCEPT OK\n",
				i%97, d, i%250, 1024+i%5000, 1000+i, ts, ts+60)
		}
	}
	require.NoError(tb, bw.Flush())
	require.NoError(tb, zw.Close())
	require.NoError(tb, f.Close())
}

// writeNearLimitLines writes a gzip flow log of n lines just under the
// default 1 MiB line limit: the interface-id field carries almost all of it.
// The records start on 2025-03-01 plus seed days.
func writeNearLimitLines(t testing.TB, file string, n int, seed uint64) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	f, err := os.Create(file)
	require.NoError(t, err)
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	require.NoError(t, err)
	bw := bufio.NewWriterSize(zw, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 1))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	chunk := make([]byte, 2048)
	for i := range chunk {
		chunk[i] = alphabet[rng.IntN(len(alphabet))]
	}
	long := make([]byte, 0, 1<<20)
	fmt.Fprintln(bw, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	for i := range n {
		long = long[:0]
		for len(long) < 1<<20-200 {
			k := rng.IntN(len(chunk))
			long = append(append(long, chunk[k:]...), chunk[:k]...)
		}
		long = long[:1<<20-200]
		ts := 1740787200 + int64(seed)*86400 + int64(i)
		fmt.Fprintf(bw, "2 123456789012 eni-%s 10.0.0.1 10.0.0.2 443 5555 6 10 1000 %d %d ACCEPT OK\n", long, ts, ts+60)
	}
	require.NoError(t, bw.Flush())
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
}

// peakLiveHeap samples the heap live after each GC while fn runs and returns
// its peak. Unlike HeapInuse it does not count garbage not yet collected,
// which the runtime lets grow up to twice the live heap (or --memory-limit):
// it is what the program holds.
func peakLiveHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	runtime.GC() // the live heap at the end counts too
	close(done)
	wg.Wait()
	return peak.Load()
}

// TestNearLimitLinesMemoryBounded: lines just under the line limit are
// rows, and memory is bounded by bytes (batches, messages in flight, pages),
// not by lines, and does not grow with --workers. Before, a batch could hold
// 64 MiB of such lines and a unit a handful of batches plus a page of a
// whole batch per column: 404 and 1123 MiB of live heap at --workers 1 and
// 4 on this input (78 and 190 MiB now).
func TestNearLimitLinesMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const objects, lines = 4, 100
	in := t.TempDir()
	writeNearLimitObjects(t, in, objects, lines)
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			runtime.GC()
			var s Summary
			var err error
			peak := peakLiveHeap(func() {
				_, s, err = convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.Workers = workers })
			})
			require.NoError(t, err)
			require.Equal(t, int64(objects*lines), s.RecordsWritten)
			require.Zero(t, s.RecordsRejected)
			t.Logf("peak live heap %.1f MiB converting %.0f MB of near-limit lines with %d workers",
				float64(peak)/(1<<20), float64(s.BytesUncompressed)/1e6, workers)
			require.Less(t, peak, uint64(256<<20), "memory bounded by bytes, not lines or workers")
		})
	}
}

// BenchmarkResourceBounds converts the two shapes of input that used to
// break the memory and file bounds, each at two sizes four times apart,
// under the CLI's default --memory-limit, and reports the peak RSS of the
// conversion (peak-rss-MiB) and the files per partition (files/day: one per
// unit and day). MB/s is of uncompressed input. Memory grows with a unit's
// output only until the row-group budget (128 MiB run-wide) is full; what
// bounds it are the budgets (batches and messages in flight in bytes, eight
// open files with shared page and dictionary allowances, the row-group
// budget) and the memory limit, not the input.
//
//	go test -run '^$' -bench ResourceBounds -benchtime 1x ./internal/pipeline
func BenchmarkResourceBounds(b *testing.B) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(384 << 20))
	cases := []struct {
		name    string
		workers int
		write   func(tb testing.TB, dir string)
	}{
		{"interleaved-45-days/256MiB/workers=2", 2, func(tb testing.TB, dir string) {
			writeInterleavedDays(tb, filepath.Join(dir, "export.log.gz"), 45, 256<<20/45/90)
		}},
		{"interleaved-45-days/1GiB/workers=2", 2, func(tb testing.TB, dir string) {
			writeInterleavedDays(tb, filepath.Join(dir, "export.log.gz"), 45, 1<<30/45/90)
		}},
	}
	for _, size := range []int{250, 1000} {
		for _, workers := range []int{1, 4} {
			cases = append(cases, struct {
				name    string
				workers int
				write   func(tb testing.TB, dir string)
			}{fmt.Sprintf("near-limit-lines/4x%d/workers=%d", size, workers), workers,
				func(tb testing.TB, dir string) { writeNearLimitObjects(tb, dir, 4, size) }})
		}
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			in := b.TempDir()
			tc.write(b, in)
			b.ReportAllocs()
			var peak int64
			var s Summary
			for b.Loop() {
				out := b.TempDir()
				runtime.GC()
				debug.FreeOSMemory()
				meter := bench.StartRSS()
				var err error
				s, err = Run(context.Background(), Config{Kind: &FlowLogs{}, Source: &storage.LocalSource{Root: in},
					Sink: &storage.LocalSink{Root: out}, Workers: tc.workers, MaxRejectRatio: DefaultMaxRejectRatio})
				if err != nil || !s.Balanced {
					b.Fatal(err)
				}
				if p, err := meter.Peak(); err == nil {
					peak = max(peak, p)
				}
				os.RemoveAll(out)
			}
			b.SetBytes(s.BytesUncompressed)
			days := map[string]bool{}
			for _, f := range s.OutputFiles {
				days[f.Partition] = true
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
			b.ReportMetric(float64(len(s.OutputFiles))/float64(len(days)), "files/day")
		})
	}
}

// writeNearLimitObjects writes objects flow-log objects of lines lines just
// under 1 MiB, one per key date (so one unit each).
func writeNearLimitObjects(tb testing.TB, in string, objects, lines int) {
	for i := range objects {
		day := fmt.Sprintf("2025/03/%02d", i+1)
		key := path.Join("AWSLogs/123456789012/vpcflowlogs/us-east-1", day,
			fmt.Sprintf("123456789012_vpcflowlogs_us-east-1_fl-0123_202503%02dT0000Z_abcd.log.gz", i+1))
		writeNearLimitLines(tb, filepath.Join(in, filepath.FromSlash(key)), lines, uint64(i))
	}
}

// TestInterleavedDaysWithoutSpillDir: with no writable temporary directory
// the run still converts every row and warns why it made more files.
func TestInterleavedDaysWithoutSpillDir(t *testing.T) {
	in := t.TempDir()
	writeInterleavedDays(t, filepath.Join(in, "export.log.gz"), 40, 100)
	_, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) {
		c.Workers = 1
		c.Writer.SpillDir = filepath.Join(t.TempDir(), "missing")
	})
	require.NoError(t, err)
	require.Equal(t, int64(40*100), s.RecordsWritten)
	require.Len(t, s.Warnings, 1)
	require.Contains(t, s.Warnings[0], "could not be spilled")
	require.Contains(t, s.Warnings[0], "TMPDIR")
}

// TestNearLimitS3AccessLinesMemoryBounded: S3 server access log lines just
// under the line limit (a user agent of almost 1 MiB) are bounded by bytes
// as flow-log lines are, at --workers 1 and 4. Before, a batch held up to
// 64 MiB of them.
func TestNearLimitS3AccessLinesMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const objects, lines = 4, 60
	in := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	chunk := make([]byte, 2048)
	for i := range chunk {
		chunk[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)]
	}
	for d := 1; d <= objects; d++ {
		dir := filepath.Join(in, "logs", "892177825824", "eu-west-1", "bucket-1", "2025", "03", fmt.Sprintf("%02d", d))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("2025-03-%02d-00-00-00-04A0830D54F415A7", d)))
		require.NoError(t, err)
		bw := bufio.NewWriterSize(f, 1<<20)
		ua := make([]byte, 0, 1<<20)
		for i := range lines {
			ua = ua[:0]
			for len(ua) < 1<<20-600 {
				k := rng.IntN(len(chunk))
				ua = append(append(ua, chunk[k:]...), chunk[:k]...)
			}
			ua = ua[:1<<20-600]
			fmt.Fprintf(bw, "f49b99295fed007a94025d0ac2130b6284330fb02657e8cd7555695fe30f2328 bucket-1 [%02d/Mar/2025:00:00:%02d +0000] "+
				"68.248.177.182 arn:aws:iam::892177825824:user/u 5C56A091A1332BD5 REST.HEAD.OBJECT a/b.pdf \"HEAD /a/b.pdf HTTP/1.1\" "+
				"200 - - 1128 74 11 \"-\" \"%s\" - LQX3+jyK7dFZcd6S0C9i2yV+kZE5dfdeBDyFXD8mHIYqloKo0FsoHKNIdSN3dWoO6XlLFZ/gm9J= "+
				"SigV4 TLS_AES_128_GCM_SHA256 AuthHeader bucket-1.s3.eu-west-1.amazonaws.com TLSv1.2 - -\n", d, i%60, ua)
		}
		require.NoError(t, bw.Flush())
		require.NoError(t, f.Close())
	}
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			runtime.GC()
			var s Summary
			peak := peakLiveHeap(func() {
				_, s = convertKind(t, &S3Access{}, in, func(c *Config) { c.Workers = workers })
			})
			require.Equal(t, int64(objects*lines), s.RecordsWritten)
			t.Logf("peak live heap %.1f MiB with %d workers", float64(peak)/(1<<20), workers)
			// 87 and 217 MiB here; 189 and 538 MiB with 64 MiB batches.
			limit := map[int]uint64{1: 150 << 20, 4: 300 << 20}[workers]
			require.Less(t, peak, limit, "memory bounded by bytes, not lines")
		})
	}
}
