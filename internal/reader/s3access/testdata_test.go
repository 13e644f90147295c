package s3access

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The project's hand-written access logs (testdata/s3access/README.md says
// what each line exercises).
const (
	simpleLog     = "../../../testdata/s3access/simple/logs/2024-01-06-00-15-42-5C1A2B3C4D5E6F70"
	dateBasedLog  = "../../../testdata/s3access/date-based/logs/111122223333/eu-west-1/my-bucket/2024/01/05/2024-01-05-00-00-00-0A1B2C3D4E5F6A7B"
	testdataOwner = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
)

func readFile(t *testing.T, path string) ([]map[string]any, Stats, []int64) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, rejects, rd := readAll(t, f, Config{Object: path})
	var lines []int64
	for _, r := range rejects {
		lines = append(lines, r.Line)
	}
	return rows, rd.Stats(), lines
}

func rowsByDay(t *testing.T, rows []map[string]any) map[string]int {
	days := map[string]int{}
	for _, r := range rows {
		ts, err := RequestTime(r["requestdatetime"].(string))
		require.NoError(t, err)
		days[ts.Format(time.DateOnly)]++
	}
	return days
}

func TestTestdataSimplePrefix(t *testing.T) {
	rows, st, rejected := readFile(t, simpleLog)
	require.Equal(t, Stats{Lines: 12, Records: 11, Rows: 9, Rejected: 2, ExtraFields: 1}, st)
	require.Equal(t, []int64{9, 10}, rejected)
	require.Equal(t, map[string]int{"2024-01-05": 2, "2024-01-06": 7}, rowsByDay(t, rows))
	for _, r := range rows {
		require.Equal(t, testdataOwner, r["bucketowner"])
		require.Equal(t, "my-bucket", r["bucket_name"])
	}
	require.Equal(t, `curl/8.5.0 "probe" "x"`, rows[1]["useragent"])
	require.Nil(t, rows[1]["referrer"])
	require.Equal(t, `GET /index.html" HTTP/1.1`, rows[2]["request_uri"])
	require.Equal(t, "404", rows[2]["httpstatus"])
	require.Equal(t, `() { :;}; echo; echo "pwned"`, rows[2]["referrer"])
	require.Equal(t, `() { :;}; echo; echo "pwned"`, rows[2]["useragent"])
	require.Equal(t, "REST.COPY.OBJECT_GET", rows[3]["operation"])
	require.Equal(t, int64(734003), rows[3]["objectsize"])
	require.Equal(t, "3HL4kqtJvjVBH40Nrjfkd", rows[3]["versionid"])
	require.Nil(t, rows[3]["sourceregion"])
	require.Equal(t, "BATCH.DELETE.OBJECT", rows[5]["operation"])
	require.Equal(t, "tmp/a+b.txt", rows[5]["key"])
	require.Equal(t, "S3.EXPIRE.OBJECT", rows[6]["operation"])
	require.Nil(t, rows[6]["remoteip"])
	require.Nil(t, rows[6]["tlsversion"])
	require.Nil(t, rows[6]["sourceregion"])
	require.Equal(t, "06/Jan/2024:02:10:00 +0200", rows[7]["requestdatetime"])
	require.Equal(t, "eu-west-1", rows[7]["sourceregion"])
	require.Equal(t, "Yes", rows[7]["aclrequired"])
	require.Equal(t, "S3Console/0.4", rows[8]["useragent"])
	require.Nil(t, rows[8]["versionid"])
	require.Nil(t, rows[8]["hostid"])
}

func TestTestdataDateBased(t *testing.T) {
	rows, st, rejected := readFile(t, dateBasedLog)
	require.Equal(t, Stats{Lines: 4, Records: 4, Rows: 4}, st)
	require.Empty(t, rejected)
	require.Equal(t, map[string]int{"2024-01-05": 4}, rowsByDay(t, rows))
	require.Equal(t, `https://intranet.example.com/reports?q="q4"`, rows[0]["referrer"])
	require.Equal(t, `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"`, rows[0]["useragent"])
	require.Equal(t, "QueryString", rows[0]["authtype"])
	require.Equal(t, "WEBSITE.GET.OBJECT", rows[1]["operation"])
	require.Equal(t, "my-bucket.s3-website-eu-west-1.amazonaws.com", rows[1]["endpoint"])
	require.Nil(t, rows[1]["sigv"])
	require.Equal(t, int64(4294967296), rows[2]["objectsize"])
	require.Equal(t, int64(10485760), rows[2]["bytessent"])
	require.Nil(t, rows[3]["bytessent"])
	require.Nil(t, rows[3]["objectsize"])
	require.Nil(t, rows[3]["accesspointarn"])
}
