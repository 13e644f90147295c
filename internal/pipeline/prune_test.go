package pipeline

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeDirs answers delimiter listings from a set of keys.
func fakeDirs(keys ...string) DirLister {
	return func(_ context.Context, dir string) ([]string, error) {
		set := map[string]bool{}
		for _, k := range keys {
			if !strings.HasPrefix(k, dir) {
				continue
			}
			rest := k[len(dir):]
			if i := strings.Index(rest, "/"); i >= 0 {
				set[dir+rest[:i+1]] = true
			}
		}
		var out []string
		for d := range set {
			out = append(out, d)
		}
		sort.Strings(out)
		return out, nil
	}
}

func TestDayPrefixes(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	keys := []string{
		"AWSLogs/111/vpcflowlogs/cn-north-1/2024/01/01/a.log.gz",
		"AWSLogs/111/vpcflowlogs/cn-north-1/2024/01/03/b.log.gz",
		"AWSLogs/222/vpcflowlogs/cn-northwest-1/2023/12/31/c.log.gz",
		"AWSLogs/222/CloudTrail/cn-northwest-1/2024/01/02/d.json.gz",
		"AWSLogs/aws-account-id=333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=02/e.log.gz",
	}
	got, ok, err := DayPrefixes(context.Background(), fakeDirs(keys...), "AWSLogs/", day(1), day(2),
		func(d string) bool { return strings.HasSuffix(d, "/CloudTrail/") }, false)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []string{
		"AWSLogs/111/vpcflowlogs/cn-north-1/2024/01/01/",
		"AWSLogs/111/vpcflowlogs/cn-north-1/2024/01/02/",
		// 222's years are 2023 only: no 2024 prefixes to list.
		"AWSLogs/aws-account-id=333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=01/",
		"AWSLogs/aws-account-id=333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=02/",
	}, got)

	// Simple S3 access-log prefix: objects named by date under the base.
	got, ok, err = DayPrefixes(context.Background(), fakeDirs("logs/2024-01-01-00-00-00-ABC"), "logs/", day(1), day(2), nil, true)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []string{"logs/2024-01-01", "logs/2024-01-02"}, got)

	_, ok, err = DayPrefixes(context.Background(), fakeDirs(keys...), "AWSLogs/", time.Time{}, time.Time{}, nil, false)
	require.NoError(t, err)
	require.False(t, ok, "no range: list everything")
}
