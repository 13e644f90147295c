package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/pipeline"
)

const flowTestdata = "../../testdata/vpcflow"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func summaryOf(t *testing.T, stdout string) pipeline.Summary {
	t.Helper()
	var s pipeline.Summary
	require.NoError(t, json.Unmarshal([]byte(stdout), &s), stdout)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(stdout), "\n")+1, "one JSON line on stdout")
	return s
}

func TestFlowLogsCommand(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", out)
	require.Equal(t, exitOK, code, stderr)
	s := summaryOf(t, stdout)
	require.Equal(t, "ok", s.Status)
	require.Equal(t, int64(484), s.RecordsRead)
	require.Equal(t, int64(482), s.RecordsWritten)
	require.Equal(t, int64(2), s.RecordsRejected)
	require.Len(t, parquettest.Files(t, out, ".parquet"), len(s.OutputFiles))
	require.Contains(t, stderr, "level=INFO msg=done")
}

func TestFailureExitsNonZeroWithReasonLast(t *testing.T) {
	in := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(in, "nat.log"), []byte("instance-id srcaddr\n- 10.0.0.1\n"), 0o644))
	code, stdout, stderr := runCLI(t, "flowlogs", "--in", in, "--out", t.TempDir())
	require.Equal(t, exitFailed, code)
	require.Equal(t, "failed", summaryOf(t, stdout).Status)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	require.Contains(t, last, "level=ERROR")
	require.Contains(t, last, "--partition-date")
}

func TestFlagsFromEnvironment(t *testing.T) {
	out := t.TempDir()
	t.Setenv("CONVERT_IN", flowTestdata)
	t.Setenv("CONVERT_OUT", out)
	t.Setenv("CONVERT_COMPRESSION", "zstd")
	t.Setenv("CONVERT_FROM", "2021-12-05")
	t.Setenv("CONVERT_TO", "2021-12-05")
	code, stdout, stderr := runCLI(t, "flowlogs", "--compression", "gzip")
	require.Equal(t, exitOK, code, stderr)
	s := summaryOf(t, stdout)
	require.Equal(t, int64(1), s.ObjectsRead, "CONVERT_FROM/TO applied")
	require.Len(t, s.OutputFiles, 1)
	require.True(t, strings.HasSuffix(s.OutputFiles[0].Path, ".gz.parquet"), "the flag wins over CONVERT_COMPRESSION")
	require.Equal(t, "GZIP", parquettest.Read(t, filepath.Join(out, s.OutputFiles[0].Path)).Codecs[0])

	t.Setenv("CONVERT_WORKERS", "many")
	code, _, stderr = runCLI(t, "flowlogs")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "CONVERT_WORKERS")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuch"},
		{"flowlogs"},
		{"flowlogs", "--in", flowTestdata},
		{"flowlogs", "--in", flowTestdata, "--out", "x", "--compression", "lz4"},
		{"flowlogs", "--in", flowTestdata, "--out", "x", "--partition-time", "arrival"},
		{"flowlogs", "--in", flowTestdata, "--out", "x", "--from", "2021-13-01"},
		{"flowlogs", "--in", flowTestdata, "--out", "x", "--fields", "${version"},
		{"flowlogs", "--in", flowTestdata, "--out", flowTestdata},
		{"flowlogs", "--in", flowTestdata, "--out", "x", "extra"},
		// CloudTrail bounds records, not lines: the flag would do nothing.
		{"cloudtrail", "--in", flowTestdata, "--out", "x", "--max-line-bytes", "1KiB"},
	} {
		code, _, _ := runCLI(t, args...)
		require.Equal(t, exitUsage, code, "%q", args)
	}
	code, stdout, _ := runCLI(t, "version")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "convert")
	code, _, _ = runCLI(t, "flowlogs", "-h")
	require.Equal(t, exitOK, code)
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "128MB": 128e6, "1048576": 1 << 20, "1.5GiB": 3 << 29, "64K": 64 << 10} {
		got, err := parseBytes(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "x", "-1", "1XB", "MiB"} {
		_, err := parseBytes(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "256MiB", formatBytes(256<<20))
}

func TestDDLCommand(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "cloudtrail", "--in", "../../testdata/cloudtrail/AWSLogs", "--out", out)
	require.Equal(t, exitOK, code, stderr)

	code, stdout, stderr := runCLI(t, "ddl", "cloudtrail", "--location", "s3://b/ct/", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `cloudtrail_logs_parquet`")
	require.Contains(t, stdout, "`unmappedfields` string")
	require.Contains(t, stdout, "'projection.account.values'='111122223333,222233334444'")
	require.Contains(t, stdout, "'storage.location.template'='s3://b/ct/account=${account}/region=${region}/year=${year}/month=${month}/day=${day}/'")

	code, stdout, stderr = runCLI(t, "ddl", "cloudtrail", "--location", "s3://b/ct/")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "'projection.account.type'='injected'")
	require.Contains(t, stderr, "injected")

	code, stdout, _ = runCLI(t, "ddl", "flowlogs", "--location", "s3://b/fl/", "--no-projection", "--out", out)
	require.Equal(t, exitOK, code)
	require.NotContains(t, stdout, "projection")
	require.Contains(t, stdout, "`end` bigint")

	code, stdout, _ = runCLI(t, "ddl", "s3access", "--location", "s3://b/s3/", "--table", "access", "--database", "logs")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "`logs`.`access`")
	require.Contains(t, stdout, "`bytessent` bigint")

	for _, args := range [][]string{{"ddl"}, {"ddl", "nosuch", "--location", "s3://b/"}, {"ddl", "flowlogs"}, {"ddl", "flowlogs", "--location", "s3://b/", "--table", "Bad-Name"}} {
		code, _, _ := runCLI(t, args...)
		require.Equal(t, exitUsage, code, "%q", args)
	}
}

// TestBusyOutputIsTransient: a run refused because another run holds the
// output's lease exits 75, so that schedulers retry it later.
func TestBusyOutputIsTransient(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, pipeline.LedgerDir, "flowlogs", "leases")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	lease := fmt.Sprintf(`{"id":"0123","host":"another-host","pid":1,"input":"s3://src/","started":%q,"expires":%q}`,
		time.Now().UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0123.json"), []byte(lease), 0o644))
	code, stdout, stderr := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", out)
	require.Equal(t, exitTempFail, code, stderr)
	s := summaryOf(t, stdout)
	require.Equal(t, "failed", s.Status)
	require.Contains(t, s.Error, "another-host")
	require.Zero(t, s.ObjectsRead)
}
