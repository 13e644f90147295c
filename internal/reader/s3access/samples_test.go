package s3access

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/testenv"
)

// TestSamples parses every third-party sample with the record counts
// INDEX.md gives and checks values against INDEX.md and the upstream
// expectations (elastic beats test.log-expected.json, OpenTelemetry
// *_expected.yaml).
func TestSamples(t *testing.T) {
	// Third-party sample logs (see their INDEX.md), read in place.
	samplesDir := testenv.SamplesDir(t, "s3access")
	entries, err := os.ReadDir(samplesDir)
	require.NoError(t, err)

	type sample struct {
		rows, rejected, extra int64
		check                 func(t *testing.T, rows []map[string]any, rejects []reader.Reject)
	}
	samples := map[string]sample{
		"elastic-integrations__test-s3-server-access.log": {rows: 10, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			// 24, 25 and 26-field lines mixed.
			require.Equal(t, "AWS-Support-TrustedAdvisor, aws-internal/3 aws-sdk-java/1.11.590 Linux/4.9.137-0.1.ac.218.74.329.metal1.x86_64 OpenJDK_64-Bit_Server_VM/25.212-b03 java/1.8.0_212 vendor/Oracle_Corporation", rows[0]["useragent"])
			require.Equal(t, "GET /test-s3-ks/?location&aws-account=627959692251 HTTP/1.1", rows[0]["request_uri"])
			require.Nil(t, rows[0]["referrer"])
			require.Nil(t, rows[0]["accesspointarn"])
			// Batch delete with bare "-" where quoted fields usually are.
			require.Equal(t, "BATCH.DELETE.OBJECT", rows[4]["operation"])
			require.Equal(t, "jolokia-war-1.5.0.war", rows[4]["key"])
			require.Nil(t, rows[4]["request_uri"])
			require.Nil(t, rows[4]["useragent"])
			require.Equal(t, "204", rows[4]["httpstatus"])
			require.Nil(t, rows[4]["bytessent"])
			require.Equal(t, int64(344017), rows[4]["objectsize"])
			require.Equal(t, "Screen+Shot+2019-09-09+at+9.08.44+AM.png", rows[5]["key"])
			// Log delivery: remote ip "-", 25 fields.
			require.Nil(t, rows[6]["remoteip"])
			require.Equal(t, "svc:delivery.logs.amazonaws.com", rows[6]["requester"])
			require.Equal(t, int64(773), rows[6]["objectsize"])
			require.Equal(t, "TLSv1.2", rows[6]["tlsversion"])
			require.Nil(t, rows[6]["accesspointarn"])
			require.Nil(t, rows[6]["aclrequired"])
			// Access point + aclRequired.
			require.Equal(t, "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP", rows[7]["accesspointarn"])
			require.Equal(t, "Yes", rows[7]["aclrequired"])
			require.Nil(t, rows[8]["httpstatus"])
			require.Nil(t, rows[8]["aclrequired"])
			// Lifecycle expiry: request-uri "-" and every TLS field "-".
			require.Equal(t, "S3.EXPIRE.OBJECT", rows[9]["operation"])
			require.Equal(t, "AmazonS3", rows[9]["requester"])
			require.Equal(t, "25/Mar/2025:19:28:02 +0000", rows[9]["requestdatetime"])
			require.Nil(t, rows[9]["request_uri"])
			require.Equal(t, int64(317), rows[9]["objectsize"])
			require.Equal(t, "qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij", rows[9]["versionid"])
			for _, c := range []string{"sigv", "ciphersuite", "authtype", "endpoint", "tlsversion", "accesspointarn", "aclrequired", "sourceregion"} {
				require.Nil(t, rows[9][c], c)
			}
		}},
		"elastic-beats__s3_server_access.log": {rows: 5, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			require.Equal(t, "72.21.217.31", rows[0]["remoteip"])
			require.Equal(t, "01/Aug/2019:00:24:41 +0000", rows[0]["requestdatetime"])
			require.Equal(t, int64(142), rows[0]["bytessent"])
			require.Equal(t, "17", rows[0]["totaltime"])
			require.Equal(t, "1", rows[2]["turnaroundtime"])
			require.Equal(t, "s3.ap-southeast-1.amazonaws.com", rows[0]["endpoint"])
		}},
		"elastic-beats__test.log": {rows: 6, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			// Values from the upstream test.log-expected.json.
			require.Equal(t, "GET /awsexamplebucket?versioning HTTP/1.1", rows[0]["request_uri"])
			require.Equal(t, "SigV2", rows[0]["sigv"])
			require.Equal(t, "TLSV1.1", rows[0]["tlsversion"])
			require.Equal(t, "S3Console/0.4", rows[0]["useragent"])
			require.Equal(t, "404", rows[2]["httpstatus"])
			require.Equal(t, "NoSuchBucketPolicy", rows[2]["errorcode"])
			require.Equal(t, int64(297), rows[2]["bytessent"])
			require.Equal(t, "PUT /awsexamplebucket/s3-dg.pdf HTTP/1.1", rows[4]["request_uri"])
			require.Nil(t, rows[4]["bytessent"])
			require.Equal(t, int64(4406583), rows[4]["objectsize"])
			require.Equal(t, "41754", rows[4]["totaltime"])
			require.Equal(t, "28", rows[4]["turnaroundtime"])
			// The +0200 line: kept as written, 12:48:42 UTC.
			require.Equal(t, "09/Feb/2021:14:48:42 +0200", rows[5]["requestdatetime"])
			require.Equal(t, "OPTIONS * HTTP/1.0", rows[5]["request_uri"])
			ts, err := RequestTime(rows[5]["requestdatetime"].(string))
			require.NoError(t, err)
			require.Equal(t, time.Date(2021, 2, 9, 12, 48, 42, 0, time.UTC), ts)
			ts, err = RequestTime(rows[3]["requestdatetime"].(string))
			require.NoError(t, err)
			require.Equal(t, "2019-02-06T00:01:00Z", ts.Format(time.RFC3339))
		}},
		"otel-contrib__valid_s3_access_log.log": {rows: 1, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			require.Equal(t, "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP", rows[0]["accesspointarn"])
			require.Equal(t, "Yes", rows[0]["aclrequired"])
			require.Nil(t, rows[0]["sourceregion"])
		}},
		"otel-contrib__valid_log_multi.log": {rows: 3, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			require.Nil(t, rows[1]["accesspointarn"])
			require.Nil(t, rows[1]["aclrequired"])
			require.Nil(t, rows[2]["accesspointarn"])
			require.Equal(t, "Yes", rows[2]["aclrequired"])
			require.Equal(t, "404", rows[2]["httpstatus"])
		}},
		"otel-contrib__unknown_request_uri.log": {rows: 1, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			require.Nil(t, rows[0]["request_uri"])
			require.Equal(t, "200", rows[0]["httpstatus"])
		}},
		"otel-contrib__too_many_values.log": {rows: 1, extra: 1, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			// too_many_values_expected.yaml: source region us-east-1,
			// time 1549411238 s, the unknown field ignored.
			require.Equal(t, "us-east-1", rows[0]["sourceregion"])
			require.Equal(t, "Yes", rows[0]["aclrequired"])
			require.Equal(t, "TLSV1.2", rows[0]["tlsversion"])
			require.Equal(t, int64(113), rows[0]["bytessent"])
			ts, err := RequestTime(rows[0]["requestdatetime"].(string))
			require.NoError(t, err)
			require.Equal(t, int64(1549411238), ts.Unix())
		}},
		"otel-contrib__too_few_values.log": {rejected: 1, check: func(t *testing.T, _ []map[string]any, rejects []reader.Reject) {
			require.Contains(t, rejects[0].Reason, "wrong number of fields: got 10, need at least 18")
			require.Equal(t, int64(1), rejects[0].Line)
		}},
		"loki__s3accesslog.log": {rows: 1, check: func(t *testing.T, rows []map[string]any, _ []reader.Reject) {
			require.Equal(t, "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.0 os/macos#24.3.0 md/arch#amd64 lang/python#3.12.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.cp", rows[0]["useragent"])
			require.Equal(t, "REST.HEAD.OBJECT", rows[0]["operation"])
			require.Equal(t, "TLS_AES_128_GCM_SHA256", rows[0]["ciphersuite"])
			require.Equal(t, "TLSv1.3", rows[0]["tlsversion"])
			require.Nil(t, rows[0]["bytessent"])
			require.Equal(t, int64(453183), rows[0]["objectsize"])
			require.Equal(t, "33", rows[0]["totaltime"])
			require.Nil(t, rows[0]["turnaroundtime"])
			require.Nil(t, rows[0]["accesspointarn"])
		}},
	}

	seen := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			s, ok := samples[name]
			require.True(t, ok, "a sample without expectations: add it to this test")
			f, err := os.Open(filepath.Join(samplesDir, name))
			require.NoError(t, err)
			defer f.Close()
			dec, err := reader.Decode(f)
			require.NoError(t, err)
			defer dec.Close()
			rows, rejects, rd := readAll(t, dec, Config{Object: name})
			st := rd.Stats()
			require.Equal(t, s.rows, st.Rows)
			require.Equal(t, s.rejected, st.Rejected)
			require.Equal(t, s.extra, st.ExtraFields)
			for _, r := range rows {
				_, err := RequestTime(r["requestdatetime"].(string))
				require.NoError(t, err, "every row's time parses")
			}
			s.check(t, rows, rejects)
		})
	}
	require.Equal(t, len(samples), seen, "every sample INDEX.md lists was found")
}
