package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// convert ddl projects every year the output holds: a flow record that
// starts in 1975 (a real sample's) and one in 2031 land in year=1975 and
// year=2031, and the table's range reaches both (issue 16, item 3).
func TestDDLYearsCoverTheOutput(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	log := "version account-id interface-id start end action log-status\n" +
		"2 123456789012 eni-1 157766400 157766460 ACCEPT OK\n" + // 1975-01-01
		"2 123456789012 eni-1 1924992000 1924992060 ACCEPT OK\n" // 2031-01-01
	require.NoError(t, os.WriteFile(filepath.Join(in, "export.log"), []byte(log), 0o644))
	code, _, stderr := runCLI(t, "flowlogs", "--in", in, "--out", out)
	require.Equal(t, exitOK, code, stderr)
	require.DirExists(t, filepath.Join(out, "year=1975"))

	code, stdout, stderr := runCLI(t, "ddl", "flowlogs", "--location", "s3://b/fl/", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "'projection.year.range'='1970,2031'")

	code, stdout, stderr = runCLI(t, "ddl", "flowlogs", "--location", "s3://b/fl/")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "'projection.year.range'='1970,NOW'")

	code, stdout, stderr = runCLI(t, "ddl", "flowlogs", "--location", "s3://b/fl/", "--out", out, "--years", "2013,NOW")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "'projection.year.range'='2013,NOW'")
	require.Contains(t, stderr, "[1975 2031]")
}
