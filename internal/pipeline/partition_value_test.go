package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPartitionValue(t *testing.T) {
	for _, tc := range []struct{ in, fallback, want string }{
		{"123456789012", "999", "123456789012"},
		{"", "210987654321", "210987654321"},
		{"", "", "unknown"},
		{"cn-north-1", "", "cn-north-1"},
		{"../etc", "", ".._etc"},
		{"..", "", "unknown"},
		{"a/b c", "", "a_b_c"},
	} {
		require.Equal(t, tc.want, partitionValue(tc.in, tc.fallback), tc.in)
	}

	long := strings.Repeat("1", 300)
	got := partitionValue(long, "")
	require.Len(t, got, maxPartitionValue)
	require.True(t, strings.HasPrefix(got, strings.Repeat("1", maxPartitionValue-17)+"_"))
	require.Equal(t, got, partitionValue(long, ""), "deterministic")
	require.NotEqual(t, got, partitionValue(long+"2", ""), "distinct values stay distinct")
}

// An eventTime that does not parse sends its record to the key's day, and
// the summary counts it.
func TestCloudTrailBadEventTimeUsesKeyDate(t *testing.T) {
	in := t.TempDir()
	dir := filepath.Join(in, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2024", "05", "01")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	body := `{"Records":[` +
		`{"eventVersion":"1.08","eventTime":"2024-04-30T23:59:58Z","eventName":"A","awsRegion":"us-east-1","recipientAccountId":"111122223333"},` +
		`{"eventVersion":"1.08","eventTime":"yesterday","eventName":"B","awsRegion":"us-east-1","recipientAccountId":"111122223333"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "111122223333_CloudTrail_us-east-1_20240501T0000Z_x.json"), []byte(body), 0o644))
	_, s := convertKind(t, &CloudTrail{}, in, nil)
	require.Equal(t, int64(2), s.RecordsWritten)
	require.Equal(t, []string{
		"account=111122223333/region=us-east-1/year=2024/month=04/day=30",
		"account=111122223333/region=us-east-1/year=2024/month=05/day=01",
	}, s.Partitions)
	require.Len(t, s.Warnings, 1)
	require.Contains(t, s.Warnings[0], "1 records had an eventTime")
}
