package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/reader"
)

// tinyFlowLogs generates a small gzip data set and returns its stats.
func tinyFlowLogs(t testing.TB, dir string) gen.FlowLogsStats {
	t.Helper()
	st, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: dir, Bytes: 1 << 20, Files: 5, Days: 2, Seed: 11})
	require.NoError(t, err)
	return st
}

func TestGunzipFloorCountsExactBytes(t *testing.T) {
	dir := t.TempDir()
	st := tinyFlowLogs(t, dir)
	files, err := ListFiles(dir)
	require.NoError(t, err)
	require.Len(t, files, 5)

	for _, workers := range []int{0, 1, 2, 9} {
		res, err := GunzipFloor(context.Background(), files, workers)
		require.NoError(t, err)
		require.Equal(t, 5, res.Files)
		require.Equal(t, st.UncompressedBytes, res.UncompressedBytes)
		require.Equal(t, st.CompressedBytes, res.CompressedBytes)
		want := workers
		if want == 0 {
			want = runtime.GOMAXPROCS(0)
		}
		require.Equal(t, min(want, 5), res.Workers, "no more workers than files")
		require.Positive(t, res.Seconds)
		require.InDelta(t, float64(res.UncompressedBytes)/1e6/res.Seconds, res.MBps, 1e-9)
	}
}

func TestGunzipFloorReadsEveryMemberAndPlainFiles(t *testing.T) {
	dir := t.TempDir()
	var concatenated bytes.Buffer
	for _, part := range []string{"first member\n", "second member\n"} {
		zw := gzip.NewWriter(&concatenated)
		_, err := zw.Write([]byte(part))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
	}
	multi := filepath.Join(dir, "multi.gz")
	plain := filepath.Join(dir, "plain.log")
	require.NoError(t, os.WriteFile(multi, concatenated.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(plain, []byte("not compressed\n"), 0o644))

	res, err := GunzipFloor(context.Background(), []string{multi, plain}, 2)
	require.NoError(t, err)
	require.Equal(t, int64(len("first member\nsecond member\n")+len("not compressed\n")), res.UncompressedBytes)
	require.Equal(t, int64(concatenated.Len()+len("not compressed\n")), res.CompressedBytes)
}

func TestGunzipFloorFailsOnCorruptFile(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(bytes.Repeat([]byte("flow log line\n"), 1000))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	truncated := filepath.Join(dir, "truncated.log.gz")
	require.NoError(t, os.WriteFile(truncated, buf.Bytes()[:buf.Len()/2], 0o644))

	_, err = GunzipFloor(context.Background(), []string{truncated}, 1)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "truncated.log.gz")

	_, err = GunzipFloor(context.Background(), []string{filepath.Join(dir, "missing.gz")}, 1)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestGunzipFloorStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	tinyFlowLogs(t, dir)
	files, err := ListFiles(dir)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = GunzipFloor(ctx, files, 2)
	require.ErrorIs(t, err, context.Canceled)
}

func TestListFiles(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"b/2.gz", "a/z/1.gz", "a/0.gz", "c.log", ".hidden/x.gz", "a/.tmp-partial", "_rejects/r.gz"} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(rel), 0o644))
	}
	got, err := ListFiles(dir)
	require.NoError(t, err)
	var rel []string
	for _, p := range got {
		r, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		rel = append(rel, filepath.ToSlash(r))
	}
	require.Equal(t, []string{"_rejects/r.gz", "a/0.gz", "a/z/1.gz", "b/2.gz", "c.log"}, rel)

	single, err := ListFiles(filepath.Join(dir, "c.log"))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "c.log")}, single)

	_, err = ListFiles(filepath.Join(dir, "nope"))
	require.ErrorIs(t, err, os.ErrNotExist)

	n, size, err := TreeSize(filepath.Join(dir, "a"))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, int64(len("a/z/1.gz")+len("a/0.gz")), size)
	n, size, err = TreeSize(filepath.Join(dir, "nope"))
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, size)
}

// A peak the meter must see: 96 MiB touched after StartRSS, released before
// Peak is read.
func TestRSSMeterSeesPeakOfMeasuredWork(t *testing.T) {
	meter := StartRSS()
	require.Contains(t, []string{RSSMethodHWM, RSSMethodRusage}, meter.Method())
	if runtime.GOOS == "linux" {
		require.Equal(t, RSSMethodHWM, meter.Method(), "clear_refs is writable on this machine")
	}
	before, err := meter.Peak()
	require.NoError(t, err)

	const size = 96 << 20
	block := make([]byte, size)
	for i := 0; i < len(block); i += 4096 {
		block[i] = 1
	}
	runtime.KeepAlive(block)
	block = nil
	runtime.GC()

	after, err := meter.Peak()
	require.NoError(t, err)
	require.GreaterOrEqual(t, after, before+size*9/10)

	if meter.Method() == RSSMethodHWM {
		// A new meter starts from the current RSS, not from the old peak.
		runtime.GC()
		debug.FreeOSMemory()
		cur, err := CurrentRSS()
		require.NoError(t, err)
		fresh := StartRSS()
		peak, err := fresh.Peak()
		require.NoError(t, err)
		require.Less(t, peak, after, "the mark was reset")
		require.InDelta(t, cur, peak, 16<<20)
	}
}

// fakeConversion decompresses every file the way a conversion reads input and
// writes a small output file.
func fakeConversion(files []string, outDir string) func(ctx context.Context) (Conversion, error) {
	return func(ctx context.Context) (Conversion, error) {
		var conv Conversion
		for _, p := range files {
			f, err := os.Open(p)
			if err != nil {
				return conv, err
			}
			d, err := reader.Decode(f)
			if err != nil {
				return conv, err
			}
			data, err := io.ReadAll(d)
			d.Close()
			if err != nil {
				return conv, err
			}
			conv.InputBytes += int64(len(data))
			conv.Records += int64(bytes.Count(data, []byte("\n")) - 1)
		}
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return conv, err
		}
		return conv, os.WriteFile(filepath.Join(outDir, "part-0.parquet"), make([]byte, 1234), 0o644)
	}
}

func TestMeasure(t *testing.T) {
	in := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	st := tinyFlowLogs(t, in)
	files, err := ListFiles(in)
	require.NoError(t, err)

	rep, err := Measure(context.Background(), MeasureConfig{InputDir: in, OutputDir: out, Workers: 2, FloorRuns: 3},
		fakeConversion(files, out))
	require.NoError(t, err)
	require.Equal(t, 5, rep.InputFiles)
	require.Equal(t, st.UncompressedBytes, rep.InputBytes)
	require.Equal(t, st.CompressedBytes, rep.CompressedBytes)
	require.Equal(t, st.Records, rep.Records)
	require.Len(t, rep.FloorRunsMBps, 3)
	for _, v := range rep.FloorRunsMBps {
		require.LessOrEqual(t, v, rep.FloorMBps, "the floor is the fastest run")
	}
	require.Equal(t, 2, rep.FloorWorkers)
	require.Positive(t, rep.ConvertSeconds)
	require.InDelta(t, float64(rep.InputBytes)/1e6/rep.ConvertSeconds, rep.ConvertMBps, 1e-9)
	require.InDelta(t, rep.ConvertMBps/rep.FloorMBps, rep.Ratio, 1e-12)
	require.Positive(t, rep.PeakRSSMiB)
	require.NotEmpty(t, rep.PeakRSSMethod)
	require.Equal(t, int64(1234), rep.OutputBytes)
	require.Equal(t, 1, rep.OutputFiles)
	require.Equal(t, runtime.GOMAXPROCS(0), rep.GOMAXPROCS)
	require.Equal(t, runtime.NumCPU(), rep.NumCPU)
	require.Empty(t, rep.Warnings)

	text := rep.Format()
	require.Contains(t, text, "5 files")
	require.Contains(t, text, rep.PeakRSSMethod)
	require.Contains(t, text, "the floor")

	js, err := rep.JSON()
	require.NoError(t, err)
	var back Report
	require.NoError(t, json.Unmarshal(js, &back))
	require.Equal(t, rep, back)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(js, &fields))
	for _, k := range []string{"input_bytes", "records", "floor_mb_per_s", "convert_mb_per_s", "ratio_to_floor", "peak_rss_mib", "output_bytes", "gomaxprocs", "num_cpu"} {
		require.Contains(t, fields, k)
	}
}

func TestMeasureWarnsWhenConversionReadsOtherBytes(t *testing.T) {
	in := t.TempDir()
	tinyFlowLogs(t, in)
	files, err := ListFiles(in)
	require.NoError(t, err)
	rep, err := Measure(context.Background(), MeasureConfig{Files: files[:2], FloorRuns: 1}, fakeConversion(files, t.TempDir()))
	require.NoError(t, err)
	require.Len(t, rep.FloorRunsMBps, 1)
	require.Len(t, rep.Warnings, 1)
	require.Contains(t, rep.Warnings[0], "different work")
}

func TestMeasureReportsConversionError(t *testing.T) {
	in := t.TempDir()
	tinyFlowLogs(t, in)
	boom := errors.New("boom")
	_, err := Measure(context.Background(), MeasureConfig{InputDir: in}, func(context.Context) (Conversion, error) {
		return Conversion{}, boom
	})
	require.ErrorIs(t, err, boom)

	_, err = Measure(context.Background(), MeasureConfig{}, nil)
	require.ErrorContains(t, err, "give Files or InputDir")
	_, err = Measure(context.Background(), MeasureConfig{InputDir: t.TempDir()}, nil)
	require.ErrorContains(t, err, "no input files")
}

// BenchmarkGunzipFloor measures the decompression floor of 4 MiB of
// generated flow-log text, 2 files at a time.
func BenchmarkGunzipFloor(b *testing.B) {
	dir := b.TempDir()
	st, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: dir, Bytes: 4 << 20, Files: 4, Seed: 1})
	require.NoError(b, err)
	files, err := ListFiles(dir)
	require.NoError(b, err)
	b.SetBytes(st.UncompressedBytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GunzipFloor(context.Background(), files, 2); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGeneratedFlowLogsFloor is an opt-in measurement, the numbers behind
// the benchmark documentation: it generates BENCH_FLOWLOGS_MIB MiB of
// default-format flow logs over 2 days, logs the generator's speed, and runs
// the floor with 2 workers, twice. Run it with
//
//	BENCH_FLOWLOGS_MIB=256 go test -run TestGeneratedFlowLogsFloor -v ./internal/bench
func TestGeneratedFlowLogsFloor(t *testing.T) {
	mibs, _ := strconv.Atoi(os.Getenv("BENCH_FLOWLOGS_MIB"))
	if mibs <= 0 {
		t.Skip("BENCH_FLOWLOGS_MIB not set")
	}
	dir := t.TempDir()
	start := time.Now()
	st, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: dir, Bytes: int64(mibs) << 20, Days: 2, Seed: 1})
	require.NoError(t, err)
	secs := time.Since(start).Seconds()
	t.Logf("generated %d files, %d records, %.1f MB text, %.1f MB gzip (%.2fx) in %.2f s: %.1f MB/s of text, GOMAXPROCS %d",
		st.Files, st.Records, float64(st.UncompressedBytes)/MB, float64(st.CompressedBytes)/MB,
		float64(st.UncompressedBytes)/float64(st.CompressedBytes), secs, float64(st.UncompressedBytes)/MB/secs, runtime.GOMAXPROCS(0))
	files, err := ListFiles(dir)
	require.NoError(t, err)
	for range 2 {
		res, err := GunzipFloor(context.Background(), files, 2)
		require.NoError(t, err)
		require.Equal(t, st.UncompressedBytes, res.UncompressedBytes)
		t.Logf("gunzip floor, 2 workers: %.1f MB/s (%.2f s)", res.MBps, res.Seconds)
	}
}

// bench/compare measures its gunzip floor with its own copy of
// klauspost/compress: it must be the version convert decompresses with, or
// the ratio to the floor compares two decoders (v1.18.3 inflates about 12%
// slower than v1.20.4 on the flow-log files).
func TestCompareFloorUsesConvertsGzip(t *testing.T) {
	version := func(gomod string) string {
		t.Helper()
		b, err := os.ReadFile(gomod)
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "github.com/klauspost/compress" {
				return f[1]
			}
		}
		t.Fatalf("%s does not require github.com/klauspost/compress", gomod)
		return ""
	}
	require.Equal(t, version("../../go.mod"), version("../../bench/compare/go.mod"))
}
