package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
)

// --parquet-profile compat writes no DELTA encoding in any column chunk or
// page (Spark before 3.3 cannot read them), and the same rows as the default
// profile, which does use DELTA_BINARY_PACKED for integers.
func TestParquetProfileCompat(t *testing.T) {
	for _, tc := range []struct{ kind, in string }{
		{"flowlogs", "../../testdata/vpcflow"},
		{"s3access", "../../testdata/s3access"},
		{"cloudtrail", "../../testdata/cloudtrail/AWSLogs"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			encodings := map[string]map[string]bool{}
			digests := map[string]map[string]uint64{}
			for _, profile := range []string{"athena", "compat"} {
				out := t.TempDir()
				code, _, stderr := runCLI(t, tc.kind, "--in", tc.in, "--out", out, "--parquet-profile", profile, "--max-reject-ratio", "-1")
				require.Equal(t, exitOK, code, stderr)
				encodings[profile], digests[profile] = map[string]bool{}, map[string]uint64{}
				files := parquettest.Files(t, out, ".parquet")
				require.NotEmpty(t, files)
				for _, f := range files {
					p := filepath.Join(out, f)
					for e := range parquettest.Encodings(t, p) {
						encodings[profile][e] = true
					}
					_, sum := parquettest.Digest(t, p)
					digests[profile][filepath.Dir(f)] += sum
					parquettest.CheckStatistics(t, p)
				}
			}
			for e := range encodings["compat"] {
				require.False(t, strings.HasPrefix(e, "DELTA"), "compat output uses %s", e)
			}
			if tc.kind != "cloudtrail" { // no integer columns
				require.True(t, encodings["athena"]["DELTA_BINARY_PACKED"], "the default profile delta-encodes integers: %v", encodings["athena"])
			}
			require.Equal(t, digests["athena"], digests["compat"], "same rows in the same partitions")
		})
	}
	code, _, stderr := runCLI(t, "flowlogs", "--in", "../../testdata/vpcflow", "--out", t.TempDir(), "--parquet-profile", "spark2")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "want athena or compat")
}
