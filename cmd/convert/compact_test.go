package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/pipeline"
)

// convert compact on a day converted unit by unit: the JSON summary counts
// files and rows, verify passes after, and a second compaction has nothing
// to do.
func TestCompactCommand(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "flowlogs", "--in", "../../testdata/vpcflow", "--out", out, "--unit-size", "1KiB", "--progress", "never")
	require.Equal(t, exitOK, code, stderr)

	code, stdout, stderr := runCLI(t, "compact", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	var s pipeline.CompactSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &s))
	require.Equal(t, "ok", s.Status)
	require.Equal(t, 1, s.GroupsCompacted, "%+v", s)
	require.Equal(t, 2, s.UnitsBefore)
	require.Less(t, s.FilesAfter, s.FilesBefore)
	require.Equal(t, int64(224), s.RowsMoved, "the key day of two objects: 221 rows of 2021-12-04 and 3 of the day before")

	code, _, stderr = runCLI(t, "verify", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	code, stdout, _ = runCLI(t, "compact", "--out", out, "--kind", "flowlogs")
	require.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &s))
	require.Zero(t, s.GroupsCompacted)

	code, _, stderr = runCLI(t, "compact", "--out", out, "--kind", "vpc")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "unknown kind")
	code, _, _ = runCLI(t, "compact")
	require.Equal(t, exitUsage, code)
	code, stdout, _ = runCLI(t, "compact", "--out", t.TempDir())
	require.Equal(t, exitFailed, code, "a tree without a ledger is an error, as for verify")
	require.Contains(t, stdout, "no ledger")
}
