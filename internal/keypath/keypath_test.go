package keypath

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func TestParse(t *testing.T) {
	tests := []struct {
		key  string
		want Info
	}{
		{"bucket/prefix/AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04/123456789012_vpcflowlogs_cn-north-1_fl-1234abcd_20211204T1620Z_fe123456.log.gz",
			Info{Account: "123456789012", Service: "vpcflowlogs", Region: "cn-north-1", Date: day(2021, 12, 4)}},
		{"AWSLogs/aws-account-id=000000000000/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=01/day=05/x.log.gz",
			Info{Account: "000000000000", Service: "vpcflowlogs", Region: "us-east-1", Date: day(2024, 1, 5)}},
		{"AWSLogs/aws-account-id=1/service=vpcflowlogs/aws-region=r/year=2024/month=01/day=05/hour=23/x.log.gz",
			Info{Account: "1", Service: "vpcflowlogs", Region: "r", Date: day(2024, 1, 5)}},
		{"AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/02/29/07/x.log.gz",
			Info{Account: "123456789012", Service: "vpcflowlogs", Region: "us-east-1", Date: day(2024, 2, 29)}},
		{"AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
			Info{Org: "o-exampleorgid", Account: "111122223333", Service: "CloudTrail", Region: "us-east-2", Date: day(2015, 8, 1)}},
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/x.json.gz",
			Info{Account: "111122223333", Service: "CloudTrail-Digest", Region: "us-east-2", Date: day(2015, 8, 17)}},
		// Outside the layout: the file-name stamp still gives date, account, region.
		{"/tmp/downloads/123456789012_vpcflowlogs_us-east-1_fl-1_20180620T1620Z_fe123456.log.gz",
			Info{Account: "123456789012", Service: "vpcflowlogs", Region: "us-east-1", Date: day(2018, 6, 20)}},
		// S3 access logs: simple prefix and date-based keys.
		{"logs/2013-11-01-21-32-16-E568B2907131C0C0", Info{Date: day(2013, 11, 1)}},
		{"logs/123456789012/eu-west-1/mybucket/2024/03/09/2024-03-09-00-00-00-ABCDEF", Info{Date: day(2024, 3, 9)}},
		// No date anywhere; impossible dates are not dates.
		{"samples/vpcflow/otel.log", Info{}},
		{"AWSLogs/1/vpcflowlogs/r/2023/02/31/x.log.gz", Info{Account: "1", Service: "vpcflowlogs", Region: "r"}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			require.Equal(t, tc.want, Parse(tc.key))
		})
	}
}
