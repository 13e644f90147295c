package cloudtrail

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/testenv"
)

// sampleEvents is the event count of each sample file, from INDEX.md; -1
// marks a digest file.
var sampleEvents = map[string]int64{
	"otel-contrib__cloudtrail_log.json":                                                      7,
	"otel-contrib__cloudtrail_log_empty.json":                                                0,
	"otel-contrib__cloudtrail_digest_empty.json":                                             -1,
	"elastic-integrations__test-cloudtrail-digest-json.log":                                  -1,
	"elastic-beats__awss3-input-aws-cloudtrail.json":                                         63,
	"elastic-integrations__test-assume-role-json.log":                                        2,
	"elastic-integrations__test-assume-role-aws-service-json.log":                            1,
	"elastic-integrations__test-console-login-json.log":                                      3,
	"elastic-integrations__test-put-object-json.log":                                         1,
	"elastic-integrations__test-copy-object-json.log":                                        1,
	"elastic-integrations__test-get-bucket-policy-json.log":                                  1,
	"elastic-integrations__test-tls-details-json.log":                                        3,
	"elastic-integrations__test-user-authentication.log":                                     1,
	"elastic-integrations__test-us-gov-arn.log":                                              1,
	"elastic-integrations__test-converse-json.log":                                           1,
	"elastic-integrations__test-run-instances-json.log":                                      1,
	"elastic-integrations__test-get-caller-identity-json.log":                                1,
	"elastic-integrations__test-update-assume-role-policy-json.log":                          1,
	"elastic-integrations__test-send-command-all-json.log":                                   1,
	"elastic-integrations__test-create-key-pair-json.log":                                    1,
	"elastic-beats__insight-json.log":                                                        1,
	"elastic-beats__describe_configuration_recorders-json.log":                               1,
	"loki__cloudtrail-log-file.json.gz":                                                      2,
	"dynatrace__012345678910_CloudTrail_ap-northeast-1_20220101T0000Z_gkuyIJtLhiT90uem.json": 2,
	"otrf__ec2_proxy_s3_exfiltration_2020-09-14011940.ndjson":                                103,
	"cribl__cribl-cloudtrail-sample.BeVTW2.json":                                             44,
	"derived/cribl__cribl-cloudtrail-sample.records.json":                                    44,
	"derived/elastic-ndjson-combined.records.json":                                           22,
	"derived/otrf__ec2_proxy_s3_exfiltration_2020-09-14011940.records.json":                  103,
}

// TestSamples reads every sample file: each yields its documented number of
// events as rows, with nothing rejected, and digests are flagged.
func TestSamples(t *testing.T) {
	// Third-party sample logs (see their INDEX.md), read in place.
	samplesDir := testenv.SamplesDir(t, "cloudtrail")
	files, err := filepath.Glob(filepath.Join(samplesDir, "*"))
	require.NoError(t, err)
	derived, err := filepath.Glob(filepath.Join(samplesDir, "derived", "*"))
	require.NoError(t, err)
	seen := 0
	for _, path := range append(files, derived...) {
		rel, err := filepath.Rel(samplesDir, path)
		require.NoError(t, err)
		rel = filepath.ToSlash(rel)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() || filepath.Ext(path) == ".md" {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			want, ok := sampleEvents[rel]
			require.True(t, ok, "sample %s is not in the expected table (INDEX.md)", rel)
			seen++
			f, err := os.Open(path)
			require.NoError(t, err)
			dec, err := reader.Decode(f)
			require.NoError(t, err)
			defer dec.Close()
			res := readAll(t, dec, Config{Object: rel})
			require.NoError(t, res.err)
			require.Empty(t, res.rejects)
			if want < 0 {
				require.Equal(t, ShapeDigest, res.shape)
				require.Zero(t, res.stats.Records)
				return
			}
			require.EqualValues(t, want, res.stats.Rows)
			for _, row := range res.rows {
				// Every sample event has an eventVersion.
				require.NotNil(t, row["eventversion"])
			}
		})
	}
	require.Equal(t, len(sampleEvents), seen, "every expected sample was read")
}
