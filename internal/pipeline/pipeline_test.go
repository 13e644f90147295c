package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/reader"
	"convert/internal/storage"
	"convert/internal/testenv"
	"convert/internal/writer"
)

const testdataFlowLogs = "../../testdata/vpcflow"

// convertFlowLogs runs a flow-log conversion of in into a new temp dir.
func convertFlowLogs(t *testing.T, in string, kind *FlowLogs, mod func(*Config)) (string, Summary, error) {
	t.Helper()
	out := t.TempDir()
	s, err := runInto(t, in, out, kind, mod)
	return out, s, err
}

func runInto(t *testing.T, in, out string, kind *FlowLogs, mod func(*Config)) (Summary, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cfg := Config{
		Kind:           kind,
		Source:         &storage.LocalSource{Root: in},
		Sink:           &storage.LocalSink{Root: out},
		Workers:        3,
		MaxRejectRatio: DefaultMaxRejectRatio,
		Mem:            mem,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Run(context.Background(), cfg)
	mem.AssertSize(t, 0)
	return s, err
}

func TestFlowLogsEndToEnd(t *testing.T) {
	out, s, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, nil)
	require.NoError(t, err)

	// The counts follow from testdata/gen_vpcflow.go.
	require.Equal(t, "ok", s.Status)
	require.Equal(t, int64(4), s.ObjectsRead)
	require.Equal(t, int64(484), s.RecordsRead)
	require.Equal(t, int64(482), s.RecordsWritten)
	require.Equal(t, int64(2), s.RecordsRejected)
	require.True(t, s.Balanced)
	require.Equal(t, 3, s.Units)
	require.Equal(t, []string{"year=2021/month=12/day=03", "year=2021/month=12/day=04", "year=2021/month=12/day=05", "year=2021/month=12/day=06"}, s.Partitions)
	require.Contains(t, strings.Join(s.Warnings, "\n"), "default format")

	// The tree on disk is exactly the files the summary lists.
	files := parquettest.Files(t, out, ".parquet")
	var listed []string
	perPartition := map[string]int64{}
	for _, f := range s.OutputFiles {
		listed = append(listed, f.Path)
		perPartition[f.Partition] += f.Rows
		st, err := os.Stat(filepath.Join(out, f.Path))
		require.NoError(t, err)
		require.Equal(t, f.Bytes, st.Size())
		require.Regexp(t, `^year=\d{4}/month=\d{2}/day=\d{2}/part-[0-9a-f]{16}-\d{5}\.snappy\.parquet$`, f.Path)
	}
	require.Equal(t, files, listed)
	require.Equal(t, map[string]int64{
		"year=2021/month=12/day=03": 3,   // delivered after midnight
		"year=2021/month=12/day=04": 221, // 121 + 100 of the custom v5 file
		"year=2021/month=12/day=05": 248, // 250 less 2 rejects
		"year=2021/month=12/day=06": 10,  // headerless export
	}, perPartition)

	// Read every file back with pqarrow and parquet-go.
	var all []map[string]any
	for _, f := range files {
		got := parquettest.Read(t, filepath.Join(out, f))
		require.Equal(t, int64(len(got.Rows)), got.NumRows)
		require.Equal(t, writer.CreatedBy, got.CreatedBy)
		for _, c := range got.Codecs {
			require.Equal(t, "SNAPPY", c)
		}
		checkPhysicalTypes(t, got.Columns)
		pgRows, n := parquettest.ReadParquetGo(t, filepath.Join(out, f))
		require.Equal(t, got.NumRows, n)
		for i, row := range pgRows {
			for name, v := range row {
				require.Equal(t, got.Rows[i][name], widen(v), "parquet-go %s row %d column %s", f, i, name)
			}
		}
		for _, r := range got.Rows {
			r["_file"] = f
		}
		all = append(all, got.Rows...)
	}
	require.Len(t, all, 482)

	find := func(col string, v any) map[string]any {
		for _, r := range all {
			if r[col] == v {
				return r
			}
		}
		t.Fatalf("no row with %s = %v", col, v)
		return nil
	}
	// NODATA: nulls in numeric and string columns, counters kept.
	nodata := find("log_status", "NODATA")
	require.Nil(t, nodata["srcaddr"])
	require.Nil(t, nodata["srcport"])
	require.Nil(t, nodata["protocol"])
	require.Nil(t, nodata["action"])
	require.Equal(t, int64(1638576300), nodata["start"])
	require.Equal(t, "123456789010", nodata["account_id"])
	// All-zero account id stays a string; IPv6 addresses.
	v6 := find("account_id", "000000000000")
	require.Equal(t, "2001:db8:1234:a100:8d6e:3477:df66:f105", v6["srcaddr"])
	require.Equal(t, int64(34892), v6["srcport"])
	require.Equal(t, int64(8855), v6["bytes"])
	// The custom v5 file: bytes before packets read into the right columns,
	// and its rows are in the file with the v5 columns.
	v5 := find("vpc_id", "vpc-0abc")
	require.Equal(t, int64(5), v5["version"])
	require.Contains(t, []any{"S3", nil, "AMAZON"}, v5["pkt_src_aws_service"])
	require.Equal(t, "cnn1-az1", v5["az_id"])
	require.Nil(t, v5["sublocation_type"])
	// Rows of the v2 file in the same partition have no v5 columns at all.
	v2 := find("srcaddr", "10.0.0.1")
	_, hasVPC := v2["vpc_id"]
	require.False(t, hasVPC, "v2-only file keeps its own columns")
	// Cross-midnight record lands on the day it started.
	early := find("start", int64(1638575990))
	require.True(t, strings.HasPrefix(early["_file"].(string), "year=2021/month=12/day=03/"))

	// Rejects: gzip JSON lines with object, line and the raw line untouched.
	require.Len(t, s.RejectsFiles, 1)
	rj := readRejects(t, filepath.Join(out, s.RejectsFiles[0]))
	require.Len(t, rj, 2)
	require.Equal(t, float64(42), rj[0]["line"]) // header + 40 records + the bad one
	require.Contains(t, rj[0]["reason"], "wrong number of fields")
	require.Contains(t, rj[0]["object"], "aws-region=cn-northwest-1/year=2021/month=12/day=05/")
	require.Equal(t, "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.0.1 10.0.0.2 443 1024 6 10 840 1638664800 1638664860 ACCEPT", rj[0]["raw"])
	require.Contains(t, rj[1]["reason"], "column srcport: not an integer")
}

// checkPhysicalTypes pins the Parquet types Athena's DDL expects.
func checkPhysicalTypes(t *testing.T, cols []parquettest.Column) {
	t.Helper()
	want := map[string]string{
		"version": "INT32", "srcport": "INT32", "dstport": "INT32", "tcp_flags": "INT32", "traffic_path": "INT32",
		"protocol": "INT64", "packets": "INT64", "bytes": "INT64", "start": "INT64", "end": "INT64",
	}
	for _, c := range cols {
		if w, ok := want[c.Name]; ok {
			require.Equal(t, w, c.Physical, c.Name)
			continue
		}
		require.Equal(t, "BYTE_ARRAY", c.Physical, c.Name)
		require.Equal(t, "String", c.Logical, c.Name)
		require.Equal(t, strings.ToLower(c.Name), c.Name)
	}
}

func widen(v any) any {
	if i, ok := v.(int32); ok {
		return int64(i)
	}
	return v
}

func readRejects(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var out []map[string]any
	dec := json.NewDecoder(zr)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		out = append(out, m)
	}
	return out
}

// treeDigest maps every file under dir to its bytes.
func treeDigest(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range parquettest.Files(t, dir, "") {
		if strings.HasPrefix(f, LedgerDir+"/") {
			continue // ledger records carry commit times
		}
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		out[f] = b
	}
	return out
}

func TestRerunIsIdempotentAndDeterministic(t *testing.T) {
	out, s1, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, nil)
	require.NoError(t, err)
	first := treeDigest(t, out)
	// Same command into the same output: same files, no duplicates.
	s2, err := runInto(t, testdataFlowLogs, out, &FlowLogs{}, func(c *Config) { c.Workers = 1 })
	require.NoError(t, err)
	require.Equal(t, first, treeDigest(t, out), "rerun with other worker count: byte-identical tree")
	require.Equal(t, s1.OutputFiles, s2.OutputFiles)
}

func TestPartitionByDelivery(t *testing.T) {
	// The headerless export has no key date: delivery mode needs --partition-date.
	_, s, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{ByDelivery: true}, nil)
	require.ErrorIs(t, err, ErrNoPartitionDate)
	require.Contains(t, err.Error(), "--partition-date")
	require.Equal(t, "failed", s.Status)

	_, s, err = convertFlowLogs(t, testdataFlowLogs, &FlowLogs{ByDelivery: true}, func(c *Config) {
		c.PartitionDate = time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC)
	})
	require.NoError(t, err)
	got := map[string]int64{}
	for _, f := range s.OutputFiles {
		got[f.Partition] += f.Rows
	}
	require.Equal(t, map[string]int64{
		"year=2021/month=12/day=04": 224, // every row of the 2021/12/04 keys, the after-midnight ones included
		"year=2021/month=12/day=05": 248,
		"year=2021/month=12/day=31": 10,
	}, got)
}

func TestFromToSelectsByKeyDate(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2021, 12, d, 0, 0, 0, 0, time.UTC) }
	_, s, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, func(c *Config) { c.From, c.To = day(5), day(5) })
	require.NoError(t, err)
	require.Equal(t, int64(1), s.ObjectsRead)
	require.Equal(t, int64(250), s.RecordsRead)
	require.Equal(t, map[string]int64{"key date outside --from/--to": 2, "no date in key (--from/--to given)": 1}, s.ObjectsSkipped)
}

func TestNoStartAndNoDate(t *testing.T) {
	in := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(in, "nat.log"), []byte("instance-id interface-id srcaddr\n- eni-1 10.0.1.5\n"), 0o644))
	_, _, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.ErrorIs(t, err, ErrNoPartitionDate)
	require.Contains(t, err.Error(), "--partition-date YYYY-MM-DD")
	require.Contains(t, err.Error(), "nat.log")

	_, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.PartitionDate = time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC) })
	require.NoError(t, err)
	require.Equal(t, []string{"year=2020/month=01/day=02"}, s.Partitions)
}

// badTree is testdata plus one corrupt (truncated) gzip object.
func badTree(t *testing.T) (string, string) {
	t.Helper()
	in := t.TempDir()
	require.NoError(t, os.CopyFS(in, os.DirFS(testdataFlowLogs)))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("version start\n" + strings.Repeat("2 1638576000\n", 20000)))
	zw.Close()
	bad := "AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04/123456789012_vpcflowlogs_cn-north-1_fl-0a1b2c3d_20211204T0010Z_deadbeef.log.gz"
	require.NoError(t, os.WriteFile(filepath.Join(in, bad), buf.Bytes()[:buf.Len()/2], 0o644))
	return in, bad
}

func TestCorruptObjectFailsTheRunNamingIt(t *testing.T) {
	in, bad := badTree(t)
	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.ErrorIs(t, err, reader.ErrCorruptObject)
	require.Contains(t, err.Error(), bad)
	require.Equal(t, "failed", s.Status)
	// The unit that held it committed nothing: no file of day 04 is visible,
	// and no temporary is left behind.
	for _, f := range parquettest.Files(t, out, "") {
		require.NotContains(t, f, "day=04")
		require.NotContains(t, f, ".tmp-")
	}
}

func TestSkipBadObjects(t *testing.T) {
	in, bad := badTree(t)
	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.SkipBadObjects = true })
	require.NoError(t, err)
	require.Len(t, s.BadObjects, 1)
	require.True(t, strings.HasSuffix(s.BadObjects[0].Object, bad))
	// Exactly the rows of the good objects, none of the bad one.
	require.Equal(t, int64(482), s.RecordsWritten)
	require.True(t, s.Balanced)
	var rows int64
	for _, f := range parquettest.Files(t, out, ".parquet") {
		rows += parquettest.Read(t, filepath.Join(out, f)).NumRows
	}
	require.Equal(t, int64(482), rows)
}

func TestRejectRatioFailsTheUnit(t *testing.T) {
	in := t.TempDir()
	var b strings.Builder
	b.WriteString("version start action\n")
	for i := 0; i < 1960; i++ {
		b.WriteString("2 1638576000 ACCEPT\n")
	}
	for i := 0; i < 20; i++ {
		b.WriteString("2 x ACCEPT\n2 1638576000\n") // 40 of 2000 rejected
	}
	require.NoError(t, os.WriteFile(filepath.Join(in, "a.log"), []byte(b.String()), 0o644))

	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "--max-reject-ratio")
	require.Contains(t, err.Error(), "unit ")
	require.Empty(t, parquettest.Files(t, out, ""), "nothing committed")
	require.Equal(t, "failed", s.Status)

	_, s, err = convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.MaxRejectRatio = 0.05 })
	require.NoError(t, err)
	require.Equal(t, int64(1960), s.RecordsWritten)
	require.Equal(t, int64(40), s.RecordsRejected)
}

// A small unit is judged by the run's share, not its own: one bad line in a
// day of ten does not fail a run of thousands.
func TestRejectRatioOfSmallUnitsCountsInTheRun(t *testing.T) {
	in := t.TempDir()
	day := func(d, good, bad int) {
		var b strings.Builder
		b.WriteString("version start action\n")
		for i := 0; i < good; i++ {
			fmt.Fprintf(&b, "2 %d ACCEPT\n", 1638576000+d*86400)
		}
		for i := 0; i < bad; i++ {
			b.WriteString("2 x ACCEPT\n")
		}
		dir := filepath.Join(in, "AWSLogs", "123456789012", "vpcflowlogs", "us-east-1", "2021", "12", fmt.Sprintf("%02d", 4+d))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f.log"), []byte(b.String()), 0o644))
	}
	day(0, 9, 1)
	day(1, 2000, 0)
	_, s, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(2009), s.RecordsWritten)
	require.Equal(t, int64(1), s.RecordsRejected)

	// Alone, the small day is over the ratio: the run fails, the summary
	// says what was read and rejected, and the unit is not kept, so that an
	// --incremental retry fails the same way instead of skipping it.
	in2 := t.TempDir()
	in = in2
	day(0, 9, 1)
	out, s, err := convertFlowLogs(t, in2, &FlowLogs{}, nil)
	require.ErrorContains(t, err, "--max-reject-ratio")
	require.Equal(t, "failed", s.Status)
	require.Equal(t, int64(10), s.RecordsRead)
	require.Equal(t, int64(1), s.RecordsRejected)
	require.Empty(t, parquettest.Files(t, out, ".parquet"))
	s, err = runInto(t, in2, out, &FlowLogs{}, func(c *Config) { c.Incremental = true })
	require.ErrorContains(t, err, "--max-reject-ratio")
	require.Equal(t, int64(1), s.ObjectsRead, "the retry converts the object again")
	rep, err := Verify(context.Background(), &storage.LocalSink{Root: out})
	require.ErrorIs(t, err, ErrNoLedger, "no unit kept")
	require.Zero(t, rep.Units)
}

func TestRollingAndMemoryBudget(t *testing.T) {
	// 300k varied records in one day: a small target size rolls files and a
	// small row-group size cuts row groups; every row is written once.
	in := t.TempDir()
	var b strings.Builder
	b.WriteString("version srcaddr dstaddr srcport bytes start action\n")
	for i := 0; i < 300000; i++ {
		fmt.Fprintf(&b, "2 10.%d.%d.%d 172.16.%d.%d %d %d %d ACCEPT\n", i%250, (i/250)%250, i%199, i%97, i%211, 1024+i%60000, i*7919%1000003, 1638576000+i%86400)
	}
	require.NoError(t, os.WriteFile(filepath.Join(in, "big.log"), []byte(b.String()), 0o644))
	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) {
		c.Writer.TargetFileBytes = 1 << 20
		c.Writer.RowGroupBytes = 256 << 10
	})
	require.NoError(t, err)
	require.Greater(t, len(s.OutputFiles), 2)
	var rows int64
	rowGroups := 0
	for _, f := range s.OutputFiles {
		rows += f.Rows
		got := parquettest.Read(t, filepath.Join(out, f.Path))
		require.Equal(t, f.Rows, got.NumRows)
		require.Equal(t, f.RowGroups, got.RowGroups)
		rowGroups += got.RowGroups
		require.Less(t, f.Bytes, int64(2<<20), "rolled near the target")
	}
	require.Greater(t, rowGroups, len(s.OutputFiles), "row groups cut within files")
	require.Equal(t, int64(300000), rows)
}

func TestCancelledRunLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err := Run(ctx, Config{Kind: &FlowLogs{}, Source: &storage.LocalSource{Root: testdataFlowLogs},
		Sink: &storage.LocalSink{Root: out}, Workers: 2, Mem: mem})
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.Empty(t, parquettest.Files(t, out, ""))
	mem.AssertSize(t, 0)
}

// TestCancelledRunSaysWhy stops a run before it starts, as a signal does
// (a cancellation with a cause): the error carries the cause, whichever step
// (here the lease) met the cancellation first.
func TestCancelledRunSaysWhy(t *testing.T) {
	why := errors.New("interrupted: received terminated")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	out := t.TempDir()
	s, err := Run(ctx, Config{Kind: &FlowLogs{}, Source: &storage.LocalSource{Root: testdataFlowLogs},
		Sink: &storage.LocalSink{Root: out}, Workers: 1})
	require.ErrorIs(t, err, why)
	require.ErrorIs(t, err, context.Canceled)
	require.Contains(t, s.Error, "interrupted")
}

// TestSamples converts every flow-log sample in ../shared/samples/vpcflow
// (third-party files, read in place) and checks the balance and the counts
// INDEX.md gives. Headerless files get the field list INDEX.md names.
func TestSamples(t *testing.T) {
	dir := testenv.SamplesDir(t, "vpcflow")
	fields := SampleFlowLogFields()
	// records, rejected per file (INDEX.md).
	want := map[string][2]int64{
		"elastic-integrations__test-v5-all-fields.log":      {1, 0},
		"elastic-integrations__test-extra-samples.log":      {7, 0},
		"elastic-integrations__test-tgw-samples.log":        {10, 0},
		"elastic-integrations__test-ecs-samples.log":        {10, 0},
		"elastic-integrations__test-v8-samples.log":         {1, 0},
		"elastic-integrations__test-tcp-flag-sequence.log":  {3, 0},
		"elastic-integrations__test-with-message-field.log": {1, 0},
		"elastic-beats__accept-reject-traffic.log":          {4, 0},
		"elastic-beats__bad.log":                            {1, 1},
		"elastic-beats__custom-nat-gateway.log":             {2, 0},
		"elastic-beats__custom-transit-gateway.log":         {1, 0},
		"elastic-beats__ipv6.log":                           {1, 0},
		"elastic-beats__no-data-skip-data.log":              {2, 0},
		"elastic-beats__tcp-flag-sequence.log":              {1, 0},
		"elastic-beats__tcp-flag-sequence-skip-data.log":    {2, 0},
		"otel-contrib__valid_vpc_flow_log.log":              {1, 0},
		"otel-contrib__valid_vpc_flow_log_multi.log":        {2, 0},
		"otel-contrib__valid_vpc_flow_log_ecs.log":          {1, 0},
		"otel-contrib__valid_tgw_flow_log.log":              {1, 0},
		"otel-contrib__vpc_flow_log_too_few_fields.log":     {1, 1},
		"otel-contrib__vpc_flow_log_too_many_fields.log":    {1, 1},
		"loki__vpcflowlog.log.gz":                           {3, 0},
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".log") || strings.HasSuffix(e.Name(), ".log.gz") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	require.Len(t, names, len(want), "a sample file without an expectation")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			k := &FlowLogs{Fields: fields[name]}
			_, s, err := convertFlowLogs(t, filepath.Join(dir, name), k, func(c *Config) {
				c.MaxRejectRatio = 1
				c.PartitionDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			})
			require.NoError(t, err)
			require.True(t, s.Balanced)
			require.Equal(t, want[name], [2]int64{s.RecordsRead, s.RecordsRejected})
		})
	}
}

// A start far from the date of its AWS delivery key is a broken value: the
// record goes to the key's day, the start column keeps the value, and the
// summary counts such records once, even when the unit is redone without a
// bad object.
func TestImplausibleStartUsesKeyDate(t *testing.T) {
	in := t.TempDir()
	dir := filepath.Join(in, "AWSLogs", "123456789012", "vpcflowlogs", "us-east-1", "2021", "12", "04")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	body := "version start action\n" +
		"2 1638576000 ACCEPT\n" + // 2021-12-04
		"2 1638575000 ACCEPT\n" + // 2021-12-03, delivered after midnight
		"2 0 ACCEPT\n" + // 1970
		"2 9223372036854775807 ACCEPT\n" +
		"2 164000066 ACCEPT\n" // 1975
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.log"), []byte(body), 0o644))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("version start\n" + strings.Repeat("2 1638576000\n", 20000)))
	zw.Close()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.log.gz"), buf.Bytes()[:buf.Len()/2], 0o644))

	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.SkipBadObjects = true })
	require.NoError(t, err)
	require.Len(t, s.BadObjects, 1)
	require.Equal(t, int64(5), s.RecordsWritten)
	files := parquettest.Files(t, out, ".parquet")
	require.Len(t, files, 2)
	rows := map[string][]any{}
	for _, f := range files {
		day := strings.Split(f, "/")[2]
		for _, r := range parquettest.Read(t, filepath.Join(out, f)).Rows {
			rows[day] = append(rows[day], r["start"])
		}
	}
	require.Equal(t, map[string][]any{
		"day=03": {int64(1638575000)},
		"day=04": {int64(1638576000), int64(0), int64(9223372036854775807), int64(164000066)},
	}, rows)
	require.Len(t, s.Warnings, 1)
	require.Contains(t, s.Warnings[0], "3 records had a start")

	// A user's folder dated by a path says nothing about its records: their
	// starts decide.
	in2 := t.TempDir()
	dir2 := filepath.Join(in2, "archive", "2024", "01", "01")
	require.NoError(t, os.MkdirAll(dir2, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir2, "january-export.log"),
		[]byte("version start action\n2 1704067200 ACCEPT\n2 1705708800 ACCEPT\n2 1706659200 ACCEPT\n"), 0o644))
	_, s, err = convertFlowLogs(t, in2, &FlowLogs{}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"year=2024/month=01/day=01", "year=2024/month=01/day=20", "year=2024/month=01/day=31"}, s.Partitions)
	require.Empty(t, s.Warnings)
}
