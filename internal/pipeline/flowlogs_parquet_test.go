package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/s3test"
	"convert/internal/storage"
)

// genFlowTree writes a generated flow-log tree and returns its directory and
// stats.
func genFlowTree(t *testing.T, cfg gen.FlowLogsConfig) (string, gen.FlowLogsStats) {
	t.Helper()
	cfg.Dir = t.TempDir()
	st, err := gen.GenerateFlowLogs(cfg)
	require.NoError(t, err)
	return cfg.Dir, st
}

// hourly moves every file into an hour folder below its day, the layout of a
// flow log with per-hour partitions: hour=HH/ in a Hive-compatible tree, HH/
// in the classic one. The hour comes from the file name's stamp.
func hourly(t *testing.T, dir string, hive bool) {
	t.Helper()
	for _, rel := range parquettest.Files(t, dir, ".log.gz") {
		base := filepath.Base(rel)
		i := strings.Index(base, "T")
		require.Positive(t, i)
		hour := base[i+1 : i+3]
		sub := hour
		if hive {
			sub = "hour=" + hour
		}
		to := filepath.Join(dir, filepath.Dir(rel), sub, base)
		require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
		require.NoError(t, os.Rename(filepath.Join(dir, rel), to))
	}
}

// AWS-delivered Parquet objects, alone or mixed with text in one tree, in the
// classic, Hive-compatible and hourly layouts, convert to the rows of the same
// records delivered as text: same partitions (by record time), same columns
// and types, the same summary balance; --incremental then skips them.
func TestParquetFlowLogInput(t *testing.T) {
	for _, tc := range []struct {
		name         string
		hive, hourly bool
		pick         func(i int) bool
	}{
		{"classic, all Parquet", false, false, func(int) bool { return true }},
		{"classic hourly, mixed", false, true, func(i int) bool { return i%2 == 0 }},
		{"hive, mixed", true, false, func(i int) bool { return i%2 == 1 }},
		{"hive hourly, all Parquet", true, true, func(int) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, st := genFlowTree(t, gen.FlowLogsConfig{Bytes: 400 << 10, Files: 6, Days: 2, Seed: 3, Hive: tc.hive, Fields: parquetTestFields})
			if tc.hourly {
				hourly(t, in, tc.hive)
			}
			textOut, ts, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
			require.NoError(t, err)
			want := outputRows(t, textOut)
			require.Equal(t, st.Records, ts.RecordsWritten)

			i := -1
			converted := parquettest.AWSFlowLogParquetTree(t, in, 200, func(string) bool { i++; return tc.pick(i) })
			require.NotEmpty(t, converted)
			out, s, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
			require.NoError(t, err)
			require.Equal(t, int64(st.Files), s.ObjectsRead)
			require.Equal(t, st.Records, s.RecordsRead)
			require.Equal(t, st.Records, s.RecordsWritten)
			require.Zero(t, s.RecordsRejected)
			require.True(t, s.Balanced)
			require.Equal(t, ts.Partitions, s.Partitions)
			require.Equal(t, want, outputRows(t, out), "the same rows, partitions and columns")
			for _, f := range parquettest.Files(t, out, ".parquet") {
				checkPhysicalTypes(t, parquettest.Read(t, filepath.Join(out, f)).Columns)
			}
			verifyOK(t, out)

			again, err := runInto(t, in, out, &FlowLogs{}, incremental)
			require.NoError(t, err)
			require.Zero(t, again.ObjectsRead)
			require.Equal(t, int64(st.Files), again.ObjectsSkipped["already converted (--incremental)"])
		})
	}
}

// parquetTestFields is a custom format with the fields AWS types as INT_32
// (protocol among them) and INT_64.
var parquetTestFields = []string{"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status", "vpc-id", "tcp-flags", "flow-direction", "traffic-path"}

// Rows of a Parquet object that do not fit the schema are rejected with the
// object and row, counted in the balance, and a Parquet object that cannot
// be read is a bad object like a damaged gzip file.
func TestParquetFlowLogRejectsAndBadObjects(t *testing.T) {
	in, st := genFlowTree(t, gen.FlowLogsConfig{Bytes: 200 << 10, Files: 2, Seed: 5})
	parquettest.AWSFlowLogParquetTree(t, in, 1000, nil)
	files := parquettest.Files(t, in, ".log.parquet")
	require.Len(t, files, 2)
	junk := filepath.Join(in, filepath.Dir(files[0]), "123456789012_vpcflowlogs_cn-north-1_fl-0f_20250301T0000Z_junk.log.parquet")
	require.NoError(t, os.WriteFile(junk, []byte("PAR1 truncated by a failed upload"), 0o644))

	// An object whose srcport is INT64, one value beyond int's range.
	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "start", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "srcport", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, sc)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1740787200, 1740787201, 1740787202}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{443, 1 << 40, 80}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	odd := filepath.Join(in, filepath.Dir(files[0]), "123456789012_vpcflowlogs_cn-north-1_fl-0e_20250301T0000Z_wide.log.parquet")
	f, err := os.Create(odd)
	require.NoError(t, err)
	require.NoError(t, pqarrow.WriteTable(array.NewTableFromRecords(sc, []arrow.RecordBatch{rec}), f, 1024, nil, pqarrow.DefaultWriterProps())) // closes f
	rec.Release()

	// A Parquet table someone made (no AWS key layout, no AWS file name) is
	// not input: its rows would be converted twice.
	table := filepath.Join(in, "tables", "year=2025", "month=03", "day=01", "part-0.snappy.parquet")
	require.NoError(t, os.MkdirAll(filepath.Dir(table), 0o755))
	raw, err := os.ReadFile(filepath.Join(in, files[0]))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(table, raw, 0o644))

	_, _, err = convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.ErrorContains(t, err, "junk.log.parquet")
	require.ErrorContains(t, err, "corrupt object")

	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(c *Config) { c.SkipBadObjects = true })
	require.NoError(t, err)
	require.Len(t, s.BadObjects, 1)
	require.Equal(t, int64(1), s.ObjectsSkipped["Parquet object outside AWS's flow-log key layout"])
	require.Equal(t, st.Records+3, s.RecordsRead)
	require.Equal(t, st.Records+2, s.RecordsWritten)
	require.Equal(t, int64(1), s.RecordsRejected)
	require.True(t, s.Balanced)
	verifyOK(t, out)
	require.Len(t, s.RejectsFiles, 1)
	rj := readRejects(t, filepath.Join(out, s.RejectsFiles[0]))
	require.Len(t, rj, 1)
	require.Equal(t, odd, rj[0]["object"])
	require.EqualValues(t, 2, rj[0]["line"])
	require.Contains(t, rj[0]["reason"], "column srcport")
	require.Equal(t, "1740787201 1099511627776", rj[0]["raw"])
}

// Parquet objects read from S3 (versitygw) convert like local ones.
func TestParquetFlowLogInputS3(t *testing.T) {
	in, st := genFlowTree(t, gen.FlowLogsConfig{Bytes: 300 << 10, Files: 3, Seed: 9, Hive: true})
	want := outputRows(t, func() string {
		o, _, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
		require.NoError(t, err)
		return o
	}())
	parquettest.AWSFlowLogParquetTree(t, in, 1000, nil)
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "src")
	srv.Upload(t, "src", in)
	c, err := storage.NewS3Client(context.Background(), storage.S3Config{Region: srv.Region, EndpointURL: srv.Endpoint, PathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""), CACertsPEM: srv.CAPEM})
	require.NoError(t, err)
	out, s, err := convertFlowLogs(t, in, &FlowLogs{}, func(cfg *Config) { cfg.Source = &storage.S3Source{Client: c, Bucket: "src"} })
	require.NoError(t, err)
	require.Equal(t, int64(st.Files), s.ObjectsRead)
	require.Equal(t, st.Records, s.RecordsWritten)
	require.Equal(t, want, outputRows(t, out))
}
