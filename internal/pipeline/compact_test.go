package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"convert/internal/classify"
	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/s3test"
	"convert/internal/storage"
	"convert/internal/writer"
)

// hourlyRuns writes a generated day of flow logs (files objects, with
// records from the previous day in the first ones) into a new input folder
// one object at a time, with an --incremental run into out after each, as an
// hourly schedule does. It returns the input folder.
func hourlyRuns(t *testing.T, out string, files int, seed int64) string {
	t.Helper()
	return hourlyRunsOf(t, out, files, 12<<10, seed)
}

// hourlyRunsOf is hourlyRuns with objects of about perFile bytes of text.
func hourlyRunsOf(t *testing.T, out string, files int, perFile, seed int64) string {
	t.Helper()
	src, _ := genFlowTree(t, gen.FlowLogsConfig{Bytes: int64(files) * perFile, Files: files, Days: 1, Seed: seed, CrossDay: 0.05})
	in := t.TempDir()
	rels := parquettest.Files(t, src, ".log.gz")
	require.Len(t, rels, files)
	for _, rel := range rels {
		require.NoError(t, os.MkdirAll(filepath.Join(in, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.Rename(filepath.Join(src, rel), filepath.Join(in, rel)))
		s, err := runInto(t, in, out, &FlowLogs{}, incremental)
		require.NoError(t, err)
		require.Equal(t, int64(1), s.ObjectsRead)
	}
	return in
}

func compactInto(t *testing.T, sink storage.Sink, mod func(*CompactConfig)) (CompactSummary, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cfg := CompactConfig{Sink: sink, Mem: mem}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Compact(context.Background(), cfg)
	mem.AssertSize(t, 0)
	return s, err
}

// treeDigestRows is the order-independent digest of every row of every
// Parquet file under dir, and the files.
func treeDigestRows(t *testing.T, dir string) (rows int64, sum uint64, files int) {
	t.Helper()
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		n, s := parquettest.Digest(t, filepath.Join(dir, f))
		rows += n
		sum += s
		files++
	}
	return rows, sum, files
}

// seedQuery answers the seed's flow-log query (SUM(bytes) by srcaddr,
// dstaddr for a day partition) for every partition, read with parquet-go
// (no code shared with the arrow-go reader compaction uses).
func seedQuery(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		rows, _ := parquettest.ReadParquetGo(t, filepath.Join(dir, f))
		for _, r := range rows {
			b, _ := r["bytes"].(int64)
			key := fmt.Sprintf("%s %v %v", filepath.Dir(f), r["srcaddr"], r["dstaddr"])
			out[key] += b
		}
	}
	return out
}

// A day converted by 24 hourly --incremental runs compacts to the rows of one
// run (order-independent digest, and the rows themselves), in far fewer
// files; verify stays clean; the seed's query gives the same answers; an
// --incremental run afterwards converts nothing; a late object and another
// compaction, and a full conversion after that, keep every row once.
func TestCompactHourlyRuns(t *testing.T) {
	out := t.TempDir()
	in := hourlyRuns(t, out, 24, 21)
	oneRun, _, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.NoError(t, err)
	wantRows, wantSum, oneRunFiles := treeDigestRows(t, oneRun)
	gotRows, gotSum, before := treeDigestRows(t, out)
	require.Equal(t, wantRows, gotRows)
	require.Equal(t, wantSum, gotSum)
	require.GreaterOrEqual(t, before, 24)
	want := outputRows(t, oneRun)
	answers := seedQuery(t, out)
	verifyOK(t, out)

	s, err := compactInto(t, &storage.LocalSink{Root: out}, nil)
	require.NoError(t, err, "%+v", s)
	require.Equal(t, "ok", s.Status)
	require.Equal(t, 1, s.GroupsCompacted)
	require.Equal(t, 24, s.UnitsBefore)
	require.Equal(t, 1, s.UnitsAfter)
	require.Equal(t, before, s.FilesBefore)
	require.Equal(t, wantRows, s.RowsMoved)
	require.Len(t, s.Partitions, 2, "the day and the day before (records that start before midnight)")
	gotRows, gotSum, after := treeDigestRows(t, out)
	require.Equal(t, s.FilesAfter, after)
	require.Equal(t, len(s.Partitions), after, "one file per partition")
	require.LessOrEqual(t, after, oneRunFiles, "no more files than one run makes")
	require.Equal(t, wantRows, gotRows)
	require.Equal(t, wantSum, gotSum)
	require.Equal(t, want, outputRows(t, out))
	require.Equal(t, answers, seedQuery(t, out))
	rep := verifyOK(t, out)
	require.Equal(t, 1, rep.Units)

	// Nothing left to do.
	s, err = compactInto(t, &storage.LocalSink{Root: out}, nil)
	require.NoError(t, err)
	require.Zero(t, s.GroupsCompacted)
	require.Equal(t, 1, s.GroupsSkipped[compactAlready])

	// --incremental still finds every object converted.
	again, err := runInto(t, in, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	require.Zero(t, again.ObjectsRead)
	require.Equal(t, int64(24), again.ObjectsSkipped["already converted (--incremental)"])

	// A late object: one more unit, then compacted with the first compaction.
	writeLateDay(t, in)
	s2, err := runInto(t, in, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	require.Equal(t, int64(1), s2.ObjectsRead)
	want = cleanRows(t, in)
	requireRows(t, want, outputRows(t, out))
	s, err = compactInto(t, &storage.LocalSink{Root: out}, nil)
	require.NoError(t, err)
	require.Equal(t, 2, s.UnitsBefore)
	requireRows(t, want, outputRows(t, out))
	verifyOK(t, out)

	// A full conversion replaces the compacted unit.
	full, err := runInto(t, in, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), full.SupersededUnits)
	requireRows(t, want, outputRows(t, out))
	verifyOK(t, out)
}

// writeLateDay adds an object for the generated day's key date.
func writeLateDay(t *testing.T, in string) {
	t.Helper()
	rels := parquettest.Files(t, in, ".log.gz")
	dir := filepath.Join(in, filepath.Dir(rels[0]))
	name := strings.Replace(filepath.Base(rels[0]), "T00", "T23", 1)
	name = strings.TrimSuffix(name, ".log.gz") + "late.log"
	day := gen.FlowLogsDefaultStart.Unix()
	body := fmt.Sprintf("version account-id start end action\n2 123456789012 %d %d ACCEPT\n2 123456789012 %d %d REJECT\n",
		day+80000, day+80060, day+80001, day+80061)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
}

// Compaction killed at each of its commits and removals in turn, followed by
// another compaction or by an --incremental conversion, ends with every row
// once and verify clean.
func TestCompactCrashEverywhere(t *testing.T) {
	base := t.TempDir()
	in := hourlyRuns(t, base, 4, 33)
	want := outputRows(t, base)
	crashes := 0
	for n := int64(1); ; n++ {
		out := copyTree(t, base)
		local := &storage.LocalSink{Root: out}
		sink := rangeCrashSink{crashSink: &crashSink{Sink: local, n: n}, RangeReader: local}
		_, err := compactInto(t, sink, nil)
		if err == nil {
			require.Greater(t, crashes, 10, "the compaction commits files and records and removes four units")
			requireRows(t, want, outputRows(t, out))
			verifyOK(t, out)
			return
		}
		crashes++
		require.ErrorIs(t, err, errInjected, "crash at step %d", n)
		if n%2 == 0 {
			s, err := compactInto(t, &storage.LocalSink{Root: out}, nil)
			require.NoError(t, err, "compaction after a crash at step %d", n)
			require.LessOrEqual(t, s.GroupsCompacted, 1)
		} else {
			s, err := runInto(t, in, out, &FlowLogs{}, incremental)
			require.NoError(t, err, "conversion after a crash at step %d", n)
			require.Zero(t, s.ObjectsRead, "after a crash at step %d", n)
		}
		require.Equal(t, want, outputRows(t, out), "after a crash at step %d", n)
		verifyOK(t, out, "after a crash at step %d", n)
	}
}

// rangeCrashSink is a crashSink that reads by range (reads do not crash).
type rangeCrashSink struct {
	*crashSink
	storage.RangeReader
}

// Files of one day with different column sets (a custom format added
// mid-day) compact into files of the union of the columns, in documented
// order, the rows of each with NULLs where they had no value; with a small
// target, a partition becomes several files, each near the target.
func TestCompactUnionOfColumnsAndTarget(t *testing.T) {
	out := t.TempDir()
	in := hourlyRunsOf(t, out, 8, 40<<10, 41)
	writeLateDay(t, in) // a five-field format
	_, err := runInto(t, in, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	want := outputRows(t, out)
	// The day's rows in one file (the default target) take merged bytes.
	trial, err := compactInto(t, &storage.LocalSink{Root: copyTree(t, out)}, nil)
	require.NoError(t, err)
	var merged int64
	for _, f := range trial.OutputFiles {
		if strings.HasSuffix(f.Partition, "day=01") {
			merged += f.Bytes
		}
	}
	target := merged * 2 / 5

	s, err := compactInto(t, &storage.LocalSink{Root: out}, func(c *CompactConfig) {
		c.Writer.TargetFileBytes = target
		c.Writer.RowGroupBytes = target / 4 // files roll at row-group boundaries
	})
	require.NoError(t, err)
	require.Equal(t, 9, s.UnitsBefore)
	requireRows(t, want, outputRows(t, out))
	verifyOK(t, out)
	var day []writer.FileInfo
	for _, f := range s.OutputFiles {
		if strings.HasSuffix(f.Partition, "day=01") {
			day = append(day, f)
		}
	}
	require.Greater(t, len(day), 1, "a target of 2/5 of the merged bytes makes more than one file")
	for _, f := range day {
		got := parquettest.Read(t, filepath.Join(out, f.Path))
		var names []string
		for _, c := range got.Columns {
			names = append(names, c.Name)
		}
		require.Equal(t, []string{"version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
			"protocol", "packets", "bytes", "start", "end", "action", "log_status"}, names)
	}
	// Every file but the last of the partition reached the target.
	sort.Slice(day, func(i, j int) bool { return day[i].Path < day[j].Path })
	for _, f := range day[:len(day)-1] {
		require.GreaterOrEqual(t, f.Bytes, target)
	}
}

// Compaction of an output on S3 (versitygw) reads the files by range and
// commits like a local one.
func TestCompactS3(t *testing.T) {
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "dst")
	c, err := storage.NewS3Client(context.Background(), storage.S3Config{Region: srv.Region, EndpointURL: srv.Endpoint, PathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""), CACertsPEM: srv.CAPEM})
	require.NoError(t, err)
	sink := func() storage.Sink { return &storage.S3Sink{Client: c, Bucket: "dst", Prefix: "table"} }

	src, _ := genFlowTree(t, gen.FlowLogsConfig{Bytes: 6 * 12 << 10, Files: 6, Days: 1, Seed: 8})
	in := t.TempDir()
	for _, rel := range parquettest.Files(t, src, ".log.gz") {
		require.NoError(t, os.MkdirAll(filepath.Join(in, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.Rename(filepath.Join(src, rel), filepath.Join(in, rel)))
		_, err := runInto(t, in, t.TempDir(), &FlowLogs{}, func(cfg *Config) { cfg.Sink = sink(); cfg.Incremental = true })
		require.NoError(t, err)
	}
	download := func() string {
		d := t.TempDir()
		srv.Download(t, "dst", "table/", d)
		verifyOK(t, d)
		return d
	}
	before := download()
	want := outputRows(t, before)
	_, _, filesBefore := treeDigestRows(t, before)
	s, err := compactInto(t, sink(), nil)
	require.NoError(t, err)
	require.Equal(t, 6, s.UnitsBefore)
	after := download()
	require.Equal(t, want, outputRows(t, after))
	_, _, filesAfter := treeDigestRows(t, after)
	require.Less(t, filesAfter, filesBefore)
	require.Equal(t, seedQuery(t, before), seedQuery(t, after))
}

// rowSet is every row of the tree as sorted JSON with its partition: equal
// sets mean the same rows, each as often.
func rowSet(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, r := range readTree(t, dir) {
		js, err := json.Marshal(r)
		require.NoError(t, err)
		out = append(out, string(js))
	}
	sort.Strings(out)
	return out
}

// CloudTrail (nested columns, account and region partitions) and S3 access
// logs converted unit by unit compact to the same rows and rejects.
func TestCompactCloudTrailAndS3Access(t *testing.T) {
	ct := t.TempDir()
	_, err := gen.GenerateCloudTrail(gen.CloudTrailConfig{Dir: ct, Bytes: 600 << 10, Files: 12, Days: 2, Seed: 4, Accounts: []string{"123456789012"}, Regions: []string{"cn-north-1"}})
	require.NoError(t, err)
	sa := t.TempDir()
	_, err = gen.GenerateS3Access(gen.S3AccessConfig{Dir: sa, Bytes: 300 << 10, Files: 10, Days: 2, Seed: 4})
	require.NoError(t, err)
	out := t.TempDir()
	for _, c := range []struct {
		kind Kind
		in   string
	}{{&CloudTrail{}, ct}, {&S3Access{}, sa}, {&S3Access{}, "../../testdata/s3access"}} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		_, err := Run(context.Background(), Config{Kind: c.kind, Source: &storage.LocalSource{Root: c.in}, Sink: &storage.LocalSink{Root: out},
			Workers: 2, UnitBytes: 1, MaxRejectRatio: -1, Mem: mem})
		require.NoError(t, err)
		mem.AssertSize(t, 0)
	}
	want := rowSet(t, out)
	rejectsBefore := 0
	for _, f := range parquettest.Files(t, out, ".jsonl.gz") {
		rejectsBefore += len(readRejects(t, filepath.Join(out, f)))
	}
	require.Positive(t, rejectsBefore)

	s, err := compactInto(t, &storage.LocalSink{Root: out}, nil)
	require.NoError(t, err)
	kinds := map[string]bool{}
	for _, p := range s.Partitions {
		kinds[strings.Split(p, "/")[0]] = true
	}
	require.Equal(t, map[string]bool{"cloudtrail": true, "s3access": true}, kinds, "%+v", s)
	require.Less(t, s.FilesAfter, s.FilesBefore)
	require.Equal(t, want, rowSet(t, out))
	verifyOK(t, out)
	for _, f := range s.OutputFiles {
		parquettest.CheckStatistics(t, filepath.Join(out, f.Path))
	}
	rejectsAfter := 0
	rejectFiles := parquettest.Files(t, out, ".jsonl.gz")
	for _, f := range rejectFiles {
		rejectsAfter += len(readRejects(t, filepath.Join(out, f)))
	}
	require.Equal(t, rejectsBefore, rejectsAfter, "rejects files are carried over")
}

// Classified flow logs (a dictionary column, classification columns last)
// compact to the same rows, columns in the same order and the same types.
func TestCompactClassifiedFlowLogs(t *testing.T) {
	c, err := classify.New(classify.Config{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	require.NoError(t, err)
	src, _ := genFlowTree(t, gen.FlowLogsConfig{Bytes: 6 * 12 << 10, Files: 6, Days: 1, Seed: 12})
	in, out := t.TempDir(), t.TempDir()
	for _, rel := range parquettest.Files(t, src, ".log.gz") {
		require.NoError(t, os.MkdirAll(filepath.Join(in, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.Rename(filepath.Join(src, rel), filepath.Join(in, rel)))
		_, err := runInto(t, in, out, &FlowLogs{Classifier: c}, incremental)
		require.NoError(t, err)
	}
	want := rowSet(t, out)
	verifyOK(t, out)
	first := parquettest.Files(t, out, ".parquet")[0]
	before := parquettest.Read(t, filepath.Join(out, first))

	s, err := compactInto(t, &storage.LocalSink{Root: out}, nil)
	require.NoError(t, err)
	require.Equal(t, 6, s.UnitsBefore)
	require.Equal(t, want, rowSet(t, out))
	verifyOK(t, out)
	for _, f := range s.OutputFiles {
		got := parquettest.Read(t, filepath.Join(out, f.Path))
		require.True(t, before.Schema.Equal(got.Schema), "before %s\nafter %s", before.Schema, got.Schema)
	}
}

// BenchmarkCompact compacts a day of 24 hourly runs (24 MiB of text); the
// bytes are the Parquet read. The README's numbers are from convert compact
// on a larger day.
func BenchmarkCompact(b *testing.B) {
	src := b.TempDir()
	st, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: src, Bytes: 24 << 20, Files: 24, Days: 1, Seed: 2})
	require.NoError(b, err)
	in, base := b.TempDir(), b.TempDir()
	for _, rel := range st.Paths {
		require.NoError(b, os.MkdirAll(filepath.Join(in, filepath.Dir(rel)), 0o755))
		require.NoError(b, os.Rename(filepath.Join(src, rel), filepath.Join(in, rel)))
		_, err := Run(context.Background(), Config{Kind: &FlowLogs{}, Source: &storage.LocalSource{Root: in},
			Sink: &storage.LocalSink{Root: base}, Workers: 2, Incremental: true, MaxRejectRatio: -1})
		require.NoError(b, err)
	}
	var rows int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		out := b.TempDir()
		require.NoError(b, os.CopyFS(out, os.DirFS(base)))
		b.StartTimer()
		s, err := Compact(context.Background(), CompactConfig{Sink: &storage.LocalSink{Root: out}})
		require.NoError(b, err)
		require.Equal(b, 1, s.GroupsCompacted)
		b.SetBytes(s.BytesBefore)
		rows = s.RowsMoved
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
