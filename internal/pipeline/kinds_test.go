package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/storage"
	"convert/internal/testenv"
)

// convertKind runs a conversion of in with kind into a new temp dir.
func convertKind(t *testing.T, kind Kind, in string, mod func(*Config)) (string, Summary) {
	t.Helper()
	out := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cfg := Config{Kind: kind, Source: &storage.LocalSource{Root: in}, Sink: &storage.LocalSink{Root: out},
		Workers: 2, MaxRejectRatio: DefaultMaxRejectRatio, Mem: mem}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.True(t, s.Balanced)
	mem.AssertSize(t, 0)
	return out, s
}

// readTree reads every Parquet file under dir; rows carry "_partition".
func readTree(t *testing.T, dir string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		got := parquettest.Read(t, filepath.Join(dir, f))
		for _, r := range got.Rows {
			r["_partition"] = filepath.ToSlash(filepath.Dir(f))
			rows = append(rows, r)
		}
	}
	return rows
}

func TestCloudTrailTestdata(t *testing.T) {
	out, s := convertKind(t, &CloudTrail{}, "../../testdata/cloudtrail/AWSLogs", nil)
	require.Equal(t, int64(10), s.RecordsWritten)
	require.Equal(t, map[string]int64{"not a CloudTrail event folder (CloudTrail-Digest)": 1}, s.ObjectsSkipped)
	require.Equal(t, []string{
		"account=111122223333/region=us-east-1/year=2024/month=05/day=01",
		"account=222233334444/region=cn-north-1/year=2024/month=05/day=01", // the org trail event of the day before its key date
		"account=222233334444/region=cn-north-1/year=2024/month=05/day=02",
	}, s.Partitions)

	rows := readTree(t, out)
	byName := map[string]map[string]any{}
	for _, r := range rows {
		if n, ok := r["eventname"].(string); ok {
			byName[n] = r
		}
	}
	// Nested identity, resources list, tlsdetails struct, JSON-text columns.
	put := byName["PutObject"]
	require.NotNil(t, put)
	require.Equal(t, "s3.amazonaws.com", put["eventsource"])
	ident := put["useridentity"].(map[string]any)
	require.NotEmpty(t, ident["arn"])
	res := put["resources"].([]any)
	require.NotEmpty(t, res)
	require.Contains(t, res[0].(map[string]any), "arn")
	var params map[string]any
	require.NoError(t, json.Unmarshal([]byte(put["requestparameters"].(string)), &params))
	require.NotEmpty(t, params["bucketName"])
	require.Equal(t, "TLSv1.3", byName["ConsoleLogin"]["tlsdetails"].(map[string]any)["tlsversion"])
	// Lossless: fields without a column are in unmappedfields.
	var unmapped int
	for _, r := range rows {
		if u, ok := r["unmappedfields"].(string); ok {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(u), &m), u)
			unmapped++
		}
	}
	require.Greater(t, unmapped, 0)
	// China ARNs survive.
	var cn bool
	for _, r := range rows {
		if id, ok := r["useridentity"].(map[string]any); ok {
			if arn, _ := id["arn"].(string); strings.HasPrefix(arn, "arn:aws-cn:") {
				cn = true
			}
		}
	}
	require.True(t, cn, "an arn:aws-cn: identity")
}

// TestCloudTrailSeedQueries runs the seed's example queries' logic on the
// Parquet of generated CloudTrail logs and compares with what the generator
// wrote: requests by useridentity.arn for S3, GetObject by sourceipaddress
// (bytes out from additionaleventdata), requests by eventname, and
// json_extract_scalar(requestparameters, '$.bucketName').
func TestCloudTrailSeedQueries(t *testing.T) {
	in := t.TempDir()
	st, err := gen.GenerateCloudTrail(gen.CloudTrailConfig{Dir: in, Bytes: 4 << 20, Days: 2, Seed: 11})
	require.NoError(t, err)
	out, s := convertKind(t, &CloudTrail{}, in, nil)
	require.Equal(t, st.Records, s.RecordsWritten)

	perPartition := map[string]int64{}
	for _, f := range s.OutputFiles {
		perPartition[f.Partition] += f.Rows
	}
	require.Equal(t, st.RecordsByPartition, perPartition)

	events := map[string]int64{}
	bytesOut := map[string]int64{}
	byArn := map[string]int64{}
	buckets := 0
	for _, r := range readTree(t, out) {
		events[r["eventname"].(string)]++
		if r["eventsource"] != "s3.amazonaws.com" {
			continue
		}
		if id, ok := r["useridentity"].(map[string]any); ok {
			arn, _ := id["arn"].(string)
			byArn[arn]++
		}
		if p, ok := r["requestparameters"].(string); ok {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(p), &m))
			if _, ok := m["bucketName"].(string); ok {
				buckets++
			}
		}
		if r["eventname"] == "GetObject" {
			var add struct {
				BytesOut float64 `json:"bytesTransferredOut"`
			}
			if a, ok := r["additionaleventdata"].(string); ok {
				require.NoError(t, json.Unmarshal([]byte(a), &add))
			}
			bytesOut[r["sourceipaddress"].(string)] += int64(add.BytesOut)
		}
	}
	require.Equal(t, st.EventNames, events)
	require.Equal(t, st.GetObjectBytesOut, bytesOut)
	require.NotEmpty(t, byArn)
	require.Greater(t, buckets, 0)
}

func TestS3AccessTestdata(t *testing.T) {
	out, s := convertKind(t, &S3Access{}, "../../testdata/s3access", func(c *Config) { c.MaxRejectRatio = 0.5 })
	// testdata/s3access.md: 13 rows, 2 rejects; by request day.
	require.Equal(t, int64(13), s.RecordsWritten)
	require.Equal(t, int64(2), s.RecordsRejected)
	got := map[string]int64{}
	for _, f := range s.OutputFiles {
		got[f.Partition] += f.Rows
	}
	require.Equal(t, map[string]int64{"year=2024/month=01/day=05": 6, "year=2024/month=01/day=06": 7}, got)
	var tz bool
	for _, r := range readTree(t, out) {
		if r["requestdatetime"] == "06/Jan/2024:02:10:00 +0200" {
			tz = true
			require.Equal(t, "year=2024/month=01/day=06", r["_partition"], "kept as written, partitioned by UTC")
		}
	}
	require.True(t, tz)
}

// TestS3AccessSeedQueries: the seed's "Top 50 download IPs" logic on the
// Parquet of generated access logs.
func TestS3AccessSeedQueries(t *testing.T) {
	in := t.TempDir()
	st, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: in, Bytes: 4 << 20, Days: 2, Seed: 5, DateBased: true})
	require.NoError(t, err)
	out, s := convertKind(t, &S3Access{}, in, nil)
	require.Equal(t, st.Records, s.RecordsWritten)
	got := map[string]int64{}
	for _, f := range s.OutputFiles {
		got[f.Partition] += f.Rows
	}
	want := map[string]int64{}
	for day, n := range st.RecordsByDay {
		d, err := time.Parse("2006-01-02", day)
		require.NoError(t, err)
		want[DayPartition(d)] = n
	}
	require.Equal(t, want, got)
	ops := map[string]int64{}
	download := map[string]int64{}
	for _, r := range readTree(t, out) {
		ops[r["operation"].(string)]++
		if r["operation"] == "REST.GET.OBJECT" {
			if n, ok := r["objectsize"].(int64); ok {
				download[r["remoteip"].(string)] += n
			}
		}
	}
	require.Equal(t, st.RecordsByOperation, ops)
	require.NotEmpty(t, download)
}

// TestCloudTrailAndS3AccessSamples converts every third-party sample and
// checks the balance and the event counts INDEX.md gives.
func TestSamplesCloudTrailAndS3Access(t *testing.T) {
	for _, kind := range []Kind{&CloudTrail{}, &S3Access{}} {
		dir := testenv.SamplesDir(t, map[string]string{"cloudtrail": "cloudtrail", "s3access": "s3access"}[kind.Name()])
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var total, rejected int64
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".md") {
				continue
			}
			_, s := convertKind(t, kind, filepath.Join(dir, e.Name()), func(c *Config) {
				c.MaxRejectRatio = 1
				c.PartitionDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			})
			total += s.RecordsRead
			rejected += s.RecordsRejected
		}
		switch kind.Name() {
		case "cloudtrail":
			require.Equal(t, int64(243), total, "INDEX.md: 243 events")
			require.Equal(t, int64(0), rejected)
		case "s3access":
			require.Equal(t, int64(29), total, "INDEX.md: 29 lines")
			require.Equal(t, int64(1), rejected, "the truncated line")
		}
	}
}
