package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/reader/cloudtrail"
)

var ctKeyPattern = regexp.MustCompile(`^AWSLogs/(o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8})T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)

func TestGenerateCloudTrailIsDeterministic(t *testing.T) {
	cfg := CloudTrailConfig{Bytes: 400 << 10, Files: 5, Days: 2, Seed: 42, Workers: 1}
	dirA, dirB := t.TempDir(), t.TempDir()
	cfg.Dir = dirA
	a, err := GenerateCloudTrail(cfg)
	require.NoError(t, err)
	cfg.Dir, cfg.Workers = dirB, 3
	b, err := GenerateCloudTrail(cfg)
	require.NoError(t, err)
	require.Equal(t, a, b)
	for _, p := range a.Paths {
		x, err := os.ReadFile(filepath.Join(dirA, filepath.FromSlash(p)))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(dirB, filepath.FromSlash(p)))
		require.NoError(t, err)
		require.NotEmpty(t, x)
		require.True(t, bytes.Equal(x, y), "%s differs between runs", p)
	}
	cfg.Seed, cfg.Dir = 43, t.TempDir()
	c, err := GenerateCloudTrail(cfg)
	require.NoError(t, err)
	require.NotEqual(t, a.Paths, c.Paths)
}

// TestGenerateCloudTrailReads reads every generated file back and checks the
// layout, the counts the stats promise, and the China partition.
func TestGenerateCloudTrailReads(t *testing.T) {
	for _, org := range []string{"", "o-exampleorgid"} {
		t.Run("org="+org, func(t *testing.T) {
			dir := t.TempDir()
			st, err := GenerateCloudTrail(CloudTrailConfig{Dir: dir, Bytes: 1 << 20, Files: 6, Days: 2, Seed: 7, OrgID: org})
			require.NoError(t, err)
			require.Equal(t, 6, st.Files)
			require.Len(t, st.Paths, 6)
			require.Greater(t, st.UncompressedBytes, int64(1<<20))
			require.Less(t, st.CompressedBytes, st.UncompressedBytes/3)

			partitions := map[string]int64{}
			names := map[string]int64{}
			bytesOut := map[string]int64{}
			var records, errs, chinaARNs int64
			for _, p := range st.Paths {
				m := ctKeyPattern.FindStringSubmatch(p)
				require.NotNil(t, m, p)
				if org == "" {
					require.Empty(t, m[1], p)
				} else {
					require.Equal(t, org+"/", m[1], p)
				}
				require.Equal(t, m[2], m[7], "account in path and name")
				require.Equal(t, m[3], m[8], "region in path and name")
				require.Equal(t, m[4]+m[5]+m[6], m[9], "date in path and name")
				rows := readGenerated(t, filepath.Join(dir, filepath.FromSlash(p)))
				for _, r := range rows {
					records++
					require.Equal(t, m[2], r.Account)
					require.Equal(t, m[3], r.Region)
					partitions[fmt.Sprintf("account=%s/region=%s/year=%s/month=%s/day=%s", r.Account, r.Region, r.Time[:4], r.Time[5:7], r.Time[8:10])]++
					names[r.Name]++
					if r.ErrorCode != "" {
						errs++
					}
					if r.Name == "GetObject" && r.ErrorCode == "" {
						bytesOut[r.IP] += r.BytesOut
					}
					if strings.HasPrefix(r.Region, "cn-") {
						require.NotContains(t, r.All, `arn:aws:`, "China events use arn:aws-cn:")
						if strings.Contains(r.All, "arn:aws-cn:") {
							chinaARNs++
						}
					}
				}
			}
			require.Equal(t, st.Records, records)
			require.Equal(t, st.RecordsByPartition, partitions)
			require.Equal(t, st.EventNames, names)
			require.Equal(t, st.Errors, errs)
			require.Equal(t, st.GetObjectBytesOut, bytesOut)
			for _, name := range []string{"GetObject", "PutObject", "AssumeRole", "ConsoleLogin", "DescribeInstances", "RotateKey"} {
				require.Positive(t, names[name], name)
			}
			require.Positive(t, errs)
			require.Positive(t, chinaARNs)
		})
	}
}

type ctGenRow struct {
	Account, Region, Time, Name, ErrorCode, IP, All string
	BytesOut                                        int64
}

// readGenerated reads a generated file with the CloudTrail reader and
// returns what the checks need of each row.
func readGenerated(t *testing.T, path string) []ctGenRow {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, err := os.Open(path)
	require.NoError(t, err)
	dec, err := reader.Decode(f)
	require.NoError(t, err)
	defer dec.Close()
	require.True(t, dec.Gzip)
	rd, err := cloudtrail.NewReader(dec, cloudtrail.Config{Object: path, Mem: mem, Reject: func(r reader.Reject) {
		t.Errorf("reject %d: %s", r.Line, r.Reason)
	}})
	require.NoError(t, err)
	defer rd.Release()
	var out []ctGenRow
	for rd.Next() {
		rec := rd.RecordBatch()
		js, err := rec.MarshalJSON()
		require.NoError(t, err)
		var raws []json.RawMessage
		require.NoError(t, json.Unmarshal(js, &raws))
		require.Len(t, raws, int(rec.NumRows()))
		for _, raw := range raws {
			var r map[string]any
			require.NoError(t, json.Unmarshal(raw, &r))
			row := ctGenRow{All: string(raw)}
			row.Account, _ = r["recipientaccountid"].(string)
			row.Region, _ = r["awsregion"].(string)
			row.Time, _ = r["eventtime"].(string)
			row.Name, _ = r["eventname"].(string)
			row.ErrorCode, _ = r["errorcode"].(string)
			row.IP, _ = r["sourceipaddress"].(string)
			require.Len(t, row.Time, len("2025-03-01T00:00:00Z"))
			if s, ok := r["additionaleventdata"].(string); ok {
				var extra struct {
					BytesTransferredOut int64 `json:"bytesTransferredOut"`
				}
				require.NoError(t, json.Unmarshal([]byte(s), &extra))
				row.BytesOut = extra.BytesTransferredOut
			}
			out = append(out, row)
		}
	}
	require.NoError(t, rd.Err())
	require.Equal(t, cloudtrail.ShapeRecords, rd.Shape())
	return out
}

func TestCloudTrailSample(t *testing.T) {
	b := CloudTrailSample(1, 64<<10)
	require.True(t, json.Valid(b))
	require.GreaterOrEqual(t, len(b), 64<<10)
	require.Equal(t, b, CloudTrailSample(1, 64<<10))
	var v struct{ Records []map[string]any }
	require.NoError(t, json.Unmarshal(b, &v))
	require.Greater(t, len(v.Records), 20)
}

func TestGenerateCloudTrailRejectsBadConfig(t *testing.T) {
	_, err := GenerateCloudTrail(CloudTrailConfig{Bytes: 1})
	require.Error(t, err)
	_, err = GenerateCloudTrail(CloudTrailConfig{Dir: t.TempDir()})
	require.Error(t, err)
	_, err = GenerateCloudTrail(CloudTrailConfig{Dir: t.TempDir(), Bytes: 1, OrgID: "org"})
	require.Error(t, err)
	_, err = GenerateCloudTrail(CloudTrailConfig{Dir: t.TempDir(), Bytes: 1, Regions: []string{"../x"}})
	require.Error(t, err)
}
