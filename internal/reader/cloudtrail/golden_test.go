package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/reader"
)

var update = flag.Bool("update", false, "rewrite testdata/cloudtrail's gzip files and golden outputs")

var testdataDir = filepath.Join("..", "..", "..", "testdata", "cloudtrail")

// testdataFiles maps each hand-written source (testdata/cloudtrail/src) to
// where it is delivered, gzip-compressed and compact as CloudTrail writes
// it, under testdata/cloudtrail/AWSLogs. "" means it is only read from src.
var testdataFiles = map[string]string{
	"111122223333_CloudTrail_us-east-1_20240501T1205Z_k9Xw2LpQmR4tZs7A.json":              "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1205Z_k9Xw2LpQmR4tZs7A.json.gz",
	"222233334444_CloudTrail_cn-north-1_20240502T0005Z_Qm7Zp3Lw8Rt2Xv5B.json":             "AWSLogs/o-exampleorgid/222233334444/CloudTrail/cn-north-1/2024/05/02/222233334444_CloudTrail_cn-north-1_20240502T0005Z_Qm7Zp3Lw8Rt2Xv5B.json.gz",
	"111122223333_CloudTrail-Digest_us-east-1_management_us-east-1_20240501T130000Z.json": "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_management_us-east-1_20240501T130000Z.json.gz",
	"edge-cases.ndjson": "",
}

// compactSource is what a delivered file holds: the source without
// insignificant whitespace.
func compactSource(t *testing.T, name string) []byte {
	src, err := os.ReadFile(filepath.Join(testdataDir, "src", name))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, json.Compact(&out, src))
	return out.Bytes()
}

// TestTestdataMatchesSources keeps the gzip files equal to their readable
// sources (go test -update rewrites them).
func TestTestdataMatchesSources(t *testing.T) {
	for src, dst := range testdataFiles {
		if dst == "" {
			continue
		}
		want := compactSource(t, src)
		path := filepath.Join(testdataDir, filepath.FromSlash(dst))
		if *update {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf) // no name, zero time: reproducible
			_, err := zw.Write(want)
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		}
		f, err := os.Open(path)
		require.NoError(t, err)
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		got, err := io.ReadAll(zr)
		require.NoError(t, err)
		f.Close()
		require.Equal(t, string(want), string(got), dst)
	}
}

// goldenOutput is what a golden file records for one input.
type goldenOutput struct {
	Shape    string           `json:"shape"`
	Stats    Stats            `json:"stats"`
	Rejects  []goldenReject   `json:"rejects,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
	Rows     []map[string]any `json:"rows"`
}

type goldenReject struct {
	Record int64  `json:"record"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`
}

func readTestdata(t *testing.T, src string) result {
	t.Helper()
	dst := testdataFiles[src]
	path := filepath.Join(testdataDir, "src", src)
	if dst != "" {
		path = filepath.Join(testdataDir, filepath.FromSlash(dst))
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	dec, err := reader.Decode(f)
	require.NoError(t, err)
	defer dec.Close()
	res := readAll(t, dec, Config{Object: src})
	require.NoError(t, res.err)
	return res
}

// TestGolden compares every column of every row with
// testdata/cloudtrail/golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for src := range testdataFiles {
		t.Run(src, func(t *testing.T) {
			res := readTestdata(t, src)
			out := goldenOutput{Shape: res.shape.String(), Stats: res.stats, Warnings: res.warnings, Rows: res.rows}
			for _, rj := range res.rejects {
				out.Rejects = append(out.Rejects, goldenReject{rj.Record, rj.Reason, string(rj.Raw)})
			}
			got, err := json.MarshalIndent(out, "", "  ")
			require.NoError(t, err)
			path := filepath.Join(testdataDir, "golden", strings.TrimSuffix(src, filepath.Ext(src))+".golden.json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
		})
	}
}

// TestGoldenValues checks the nested values the golden files hold, one by
// one, so that a wrong golden file cannot pass unnoticed.
func TestGoldenValues(t *testing.T) {
	res := readTestdata(t, "111122223333_CloudTrail_us-east-1_20240501T1205Z_k9Xw2LpQmR4tZs7A.json")
	require.Equal(t, ShapeRecords, res.shape)
	require.Equal(t, Stats{Records: 8, Rows: 8, Unmapped: 8}, res.stats)
	byID := map[string]map[string]any{}
	for _, r := range res.rows {
		byID[r["eventid"].(string)[len("7d1e8b4e-0000-4000-8000-0000000000"):]] = r
	}
	assumeRole, login, get, put, describe, rotate, getFederated, sso := byID["01"], byID["02"], byID["03"], byID["04"], byID["05"], byID["06"], byID["07"], byID["08"]

	// AssumeRole by an AWS service.
	require.Equal(t, "AWSService", get2(assumeRole, "useridentity", "type"))
	require.Equal(t, "ec2.amazonaws.com", get2(assumeRole, "useridentity", "invokedby"))
	require.Nil(t, get2(assumeRole, "useridentity", "sessioncontext"))
	require.Equal(t, "9b5f0e3a-0000-4000-8000-000000000001", assumeRole["sharedeventid"])
	require.Equal(t, "true", assumeRole["readonly"])
	require.Equal(t, []any{map[string]any{"arn": "arn:aws:iam::111122223333:role/EC2InstanceRole", "accountid": "111122223333", "type": "AWS::IAM::Role"}}, assumeRole["resources"])
	requireJSON(t, `{"roleArn":"arn:aws:iam::111122223333:role/EC2InstanceRole","roleSessionName":"i-0abc1234def567890","durationSeconds":3600}`, assumeRole["requestparameters"])
	require.Equal(t, `{"managementEvent":true}`, assumeRole["unmappedfields"])

	// A failed console sign-in: errorMessage without errorCode.
	require.Equal(t, "ConsoleLogin", login["eventname"])
	require.Nil(t, login["errorcode"])
	require.Equal(t, "Failed authentication", login["errormessage"])
	require.Nil(t, login["requestparameters"])
	requireJSON(t, `{"ConsoleLogin":"Failure"}`, login["responseelements"])
	require.Equal(t, "false", login["readonly"])
	require.Equal(t, map[string]any{"tlsversion": "TLSv1.3", "ciphersuite": "TLS_AES_128_GCM_SHA256", "clientprovidedhostheader": "signin.aws.amazon.com"}, login["tlsdetails"])

	// An S3 data event by an assumed role.
	require.Equal(t, "arn:aws:sts::111122223333:assumed-role/DataScientist/bob", get2(get, "useridentity", "arn"))
	require.Equal(t, "arn:aws:iam::111122223333:role/DataScientist", get2(get, "useridentity", "sessioncontext", "sessionissuer", "arn"))
	require.Equal(t, "2024-05-01T11:30:00Z", get2(get, "useridentity", "sessioncontext", "attributes", "creationdate"))
	require.Equal(t, map[string]any{"federatedprovider": nil, "attributes": nil}, get2(get, "useridentity", "sessioncontext", "webidfederationdata"))
	require.Equal(t, []any{
		map[string]any{"arn": "arn:aws:s3:::example-reports/2024/04/q1 report.pdf", "accountid": nil, "type": "AWS::S3::Object"},
		map[string]any{"arn": "arn:aws:s3:::example-reports", "accountid": "111122223333", "type": "AWS::S3::Bucket"},
	}, get["resources"])
	require.Equal(t, "Data", get["eventcategory"])
	require.Equal(t, `{"userIdentity":{"sessionContext":{"sourceIdentity":"bob@example.com"}},"managementEvent":false,"tlsDetails":{"keyExchange":"x25519"}}`, get["unmappedfields"])
	var extra map[string]any
	require.NoError(t, json.Unmarshal([]byte(get["additionaleventdata"].(string)), &extra))
	require.Equal(t, 1024.0, extra["bytesTransferredOut"])

	// PutObject through a VPC endpoint.
	require.Equal(t, "vpce-0a1b2c3d4e5f60718", put["vpcendpointid"])
	require.Equal(t, "111122223333", put["vpcendpointaccountid"])
	requireJSON(t, `{"x-amz-server-side-encryption":"aws:kms","x-amz-version-id":"3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}`, put["responseelements"])

	// A failed call.
	require.Equal(t, "Client.UnauthorizedOperation", describe["errorcode"])
	require.Equal(t, "You are not authorized to perform this operation.", describe["errormessage"])
	require.Nil(t, describe["resources"])

	// A service event: userIdentity without type.
	require.Equal(t, "AwsServiceEvent", rotate["eventtype"])
	require.Nil(t, get2(rotate, "useridentity", "type"))
	require.Equal(t, "kms.amazonaws.com", get2(rotate, "useridentity", "invokedby"))
	require.Equal(t, `{"keyRotationStatus":"ROTATED","rotationPeriodInDays":365}`, rotate["serviceeventdetails"])

	// Web-identity federation: the attributes map.
	require.Equal(t, "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
		get2(getFederated, "useridentity", "sessioncontext", "webidfederationdata", "federatedprovider"))
	require.Equal(t, map[string]any{
		"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
		"token.actions.githubusercontent.com:sub": "repo:example-org/app:ref:refs/heads/main",
	}, get2(getFederated, "useridentity", "sessioncontext", "webidfederationdata", "attributes"))

	// IAM Identity Center: onBehalfOf, addendum, sessionCredentialFromConsole.
	require.Equal(t, map[string]any{"userid": "94482488-3041-7026-18f3-be45837cd0e4", "identitystorearn": "arn:aws:identitystore::111122223333:identitystore/d-9067230000"},
		get2(sso, "useridentity", "onbehalfof"))
	require.Equal(t, "UPDATED_DATA", get2(sso, "addendum", "reason"))
	require.Equal(t, "userIdentity", get2(sso, "addendum", "updatedfields"))
	require.Equal(t, "true", sso["sessioncredentialfromconsole"])
	require.Equal(t, `{"userIdentity":{"credentialId":"EXAMPLEcredentialId"},"managementEvent":true}`, sso["unmappedfields"])

	// The organization trail in China.
	cn := readTestdata(t, "222233334444_CloudTrail_cn-north-1_20240502T0005Z_Qm7Zp3Lw8Rt2Xv5B.json")
	require.Len(t, cn.rows, 2)
	require.Equal(t, "arn:aws-cn:s3:::example-cn-data", get2(cn.rows[0], "resources").([]any)[1].(map[string]any)["arn"])
	require.Equal(t, "2.0", get2(cn.rows[0], "useridentity", "sessioncontext", "ec2roledelivery"))
	require.Equal(t, "2024-05-01T23:58:10Z", cn.rows[0]["eventtime"])
	require.Equal(t, "cn-north-1", cn.rows[1]["awsregion"])
	require.Equal(t, "Root", get2(cn.rows[1], "useridentity", "type"))

	// The digest.
	digest := readTestdata(t, "111122223333_CloudTrail-Digest_us-east-1_management_us-east-1_20240501T130000Z.json")
	require.Equal(t, ShapeDigest, digest.shape)
	require.Empty(t, digest.rows)

	// Type drift.
	edge := readTestdata(t, "edge-cases.ndjson")
	require.Equal(t, Stats{Records: 4, Rows: 3, Rejected: 1, Unmapped: 3}, edge.stats)
	require.Len(t, edge.rejects, 1)
	require.EqualValues(t, 3, edge.rejects[0].Record)
	require.Equal(t, `{"eventVersion": "1.08", "eventName": tru}`, string(edge.rejects[0].Raw))
	mfa, noTime, drift := edge.rows[0], edge.rows[1], edge.rows[2]
	require.Equal(t, `{"MFAUsed":true}`, mfa["additionaleventdata"])
	require.Equal(t, "false", mfa["readonly"])
	require.Equal(t, "000000000000", get2(mfa, "useridentity", "accountid"))
	require.Equal(t, `{"userIdentity":{"accountid":"0"}}`, mfa["unmappedfields"])
	require.Nil(t, noTime["eventtime"])
	require.Equal(t, "0123456789012", noTime["resources"].([]any)[0].(map[string]any)["accountid"])
	require.Equal(t, `{"@timestamp":"2020-09-14T01:19:40Z","resources":[{"ARNPrefix":"arn:aws:s3:::b/"}]}`, noTime["unmappedfields"])
	require.Equal(t, "200", drift["errorcode"])
	require.Equal(t, "81.2.69.142, 192.168.10.10", drift["sourceipaddress"])
	require.Nil(t, drift["useridentity"])
	require.Equal(t, `{"userIdentity":"redacted"}`, drift["unmappedfields"])
}

func get2(row map[string]any, path ...string) any { return get(row, path...) }

func requireJSON(t *testing.T, want string, got any) {
	t.Helper()
	s, ok := got.(string)
	require.True(t, ok, "want JSON text, got %v", got)
	require.JSONEq(t, want, s)
}
