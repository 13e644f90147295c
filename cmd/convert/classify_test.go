package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/schema"
)

const classifyFixtures = "../../internal/classify/testdata"

// classifiedInput writes a version 5 flow log covering every class (the
// VPC and NAT gateway of classifyFixtures) and a default-format one.
func classifiedInput(t *testing.T) string {
	in := t.TempDir()
	dir := filepath.Join(in, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/01")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	const start = "1767225600 1767225660" // 2026-01-01
	v5 := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr flow-direction traffic-path pkt-src-aws-service pkt-dst-aws-service\n"
	for _, r := range []string{
		"eni-0bbb0000000000002 10.0.1.5 10.0.2.9 - - egress 1 - -",
		"eni-0bbb0000000000002 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5 egress 8 - -",
		"eni-0aaa0000000000001 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5 ingress - - -",
		"eni-0aaa0000000000001 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5 egress 8 - -",
		"eni-0bbb0000000000002 10.0.1.5 52.16.5.6 10.0.1.5 52.16.5.6 egress 7 - S3",
		"eni-0bbb0000000000002 198.51.100.9 100.64.0.7 198.51.100.9 100.64.0.7 ingress - - -",
		"eni-0bbb0000000000002 2600:1f18:a:b00::10 2600:1fa0:4000::5 2600:1f18:a:b00::10 2600:1fa0:4000::5 egress 2 - -",
		"eni-0bbb0000000000002 10.0.1.5 192.168.7.7 10.0.1.5 192.168.7.7 egress 3 - -",
		"eni-0bbb0000000000003 172.20.0.5 203.0.113.5 172.20.0.5 203.0.113.5 - - - -",
	} {
		f := strings.Fields(r)
		v5 += fmt.Sprintf("5 123456789012 %s %s %s 40000 443 6 10 1000 %s ACCEPT OK %s\n", f[0], f[1], f[2], start, strings.Join(f[3:], " "))
	}
	v5 += "5 123456789012 eni-0bbb0000000000004 - - - - - - - " + start + " - NODATA - - - - - -\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "123456789012_vpcflowlogs_us-east-1_fl-1_20260101T0005Z_1.log"), []byte(v5), 0o644))
	v2 := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789012 eni-0ccc0000000000005 10.0.1.5 52.17.8.9 40000 443 6 10 1000 " + start + " ACCEPT OK\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "123456789012_vpcflowlogs_us-east-1_fl-2_20260101T0005Z_2.log"), []byte(v2), 0o644))
	return in
}

func TestClassifyEndToEnd(t *testing.T) {
	in, out := classifiedInput(t), t.TempDir()
	// Flags and CONVERT_* both work; CIDRs given inline and as describe-vpcs.
	t.Setenv("CONVERT_NAT_GATEWAY_ENIS", classifyFixtures+"/describe-nat-gateways.json")
	code, stdout, stderr := runCLI(t, "flowlogs", "--in", in, "--out", out, "--classify",
		"--vpc-cidrs", "10.0.0.0/16,"+classifyFixtures+"/describe-vpcs.json",
		"--aws-ip-ranges", classifyFixtures+"/ip-ranges.json")
	require.Equal(t, exitOK, code, stderr)
	s := summaryOf(t, stdout)
	require.Equal(t, int64(11), s.RecordsWritten)

	type row struct {
		class, remote, service, region any
		viaNAT                         any
	}
	got := map[string]row{}
	for _, p := range parquettest.Files(t, out, ".parquet") {
		f := parquettest.Read(t, filepath.Join(out, p))
		// The classification columns come last, in order, with the
		// documented types, in the Arrow schema and in Parquet.
		names := f.Schema.Fields()[len(f.Schema.Fields())-len(schema.VPCClassFields):]
		for i, want := range schema.VPCClassFields {
			require.Equal(t, want.Name, names[i].Name)
			require.True(t, arrow.TypeEqual(want.Type, names[i].Type), names[i].Type.String())
		}
		last := f.Columns[len(f.Columns)-5:]
		require.Equal(t, []parquettest.Column{{Name: "traffic_class", Physical: "BYTE_ARRAY", Logical: "String"},
			{Name: "remote_addr", Physical: "BYTE_ARRAY", Logical: "String"}, {Name: "remote_aws_service", Physical: "BYTE_ARRAY", Logical: "String"},
			{Name: "remote_aws_region", Physical: "BYTE_ARRAY", Logical: "String"}, {Name: "via_nat", Physical: "BOOLEAN"}}, last,
			"plain Parquet strings and a boolean, whatever the Arrow types")
		// An independent reader sees the same values.
		pgRows, n := parquettest.ReadParquetGo(t, filepath.Join(out, p))
		require.EqualValues(t, len(f.Rows), n)
		for i, r := range pgRows {
			require.Equal(t, f.Rows[i]["traffic_class"], r["traffic_class"])
			require.Equal(t, f.Rows[i]["via_nat"], r["via_nat"])
		}
		for _, r := range f.Rows {
			key := fmt.Sprintf("%v %v>%v", r["interface_id"], r["srcaddr"], r["dstaddr"])
			got[key] = row{r["traffic_class"], r["remote_addr"], r["remote_aws_service"], r["remote_aws_region"], r["via_nat"]}
		}
	}
	require.Equal(t, map[string]row{
		"eni-0bbb0000000000002 10.0.1.5>10.0.2.9":                     {"intra_vpc", nil, nil, nil, nil},
		"eni-0bbb0000000000002 10.0.1.5>203.0.113.5":                  {"internet_egress", "203.0.113.5", nil, nil, nil},
		"eni-0aaa0000000000001 10.0.1.5>10.0.0.220":                   {"internet_egress", "203.0.113.5", nil, nil, false},
		"eni-0aaa0000000000001 10.0.0.220>203.0.113.5":                {"internet_egress", "203.0.113.5", nil, nil, true},
		"eni-0bbb0000000000002 10.0.1.5>52.16.5.6":                    {"aws_service", "52.16.5.6", "S3", "us-east-1", nil},
		"eni-0bbb0000000000002 198.51.100.9>100.64.0.7":               {"internet_ingress", "198.51.100.9", nil, nil, nil},
		"eni-0bbb0000000000002 2600:1f18:a:b00::10>2600:1fa0:4000::5": {"aws_service", "2600:1fa0:4000::5", "S3", "us-east-1", nil},
		"eni-0bbb0000000000002 10.0.1.5>192.168.7.7":                  {"private_other", "192.168.7.7", nil, nil, nil},
		"eni-0bbb0000000000003 172.20.0.5>203.0.113.5":                {"unknown", nil, nil, nil, nil},
		"eni-0bbb0000000000004 <nil>><nil>":                           {nil, nil, nil, nil, nil},
		"eni-0ccc0000000000005 10.0.1.5>52.17.8.9":                    {"aws_service", "52.17.8.9", "DYNAMODB", "eu-west-1", nil},
	}, got)

	// The DDL of --classify describes the files' columns.
	code, ddl, stderr := runCLI(t, "ddl", "flowlogs", "--location", "s3://bucket/flowlogs/", "--classify")
	require.Equal(t, exitOK, code, stderr)
	for _, f := range schema.VPCClassFields {
		typ, err := schema.AthenaType(f.Type)
		require.NoError(t, err)
		require.Contains(t, ddl, fmt.Sprintf("`%s` %s", f.Name, typ))
	}
	require.Less(t, strings.Index(ddl, "`asg_tag_2`"), strings.Index(ddl, "`traffic_class`"), "after the flow-log columns")
	code, ddl, _ = runCLI(t, "ddl", "flowlogs", "--location", "s3://bucket/flowlogs/")
	require.Equal(t, exitOK, code)
	require.NotContains(t, ddl, "traffic_class")
}

func TestClassifyUsageErrors(t *testing.T) {
	in := classifiedInput(t)
	for args, want := range map[string]string{
		"--classify":                                                     "--classify needs --vpc-cidrs",
		"--vpc-cidrs 10.0.0.0/16":                                        "--vpc-cidrs is given without --classify",
		"--aws-ip-ranges x.json":                                         "--aws-ip-ranges is given without --classify",
		"--classify --vpc-cidrs 10.0.0.0/33":                             `"10.0.0.0/33" is not a CIDR`,
		"--classify --vpc-cidrs 10.0.0.0":                                `"10.0.0.0" is not a CIDR`,
		"--classify --vpc-cidrs missing.json":                            `"missing.json" is neither a CIDR nor a readable file`,
		"--classify --vpc-cidrs " + classifyFixtures + "/ip-ranges.json": "not the output of aws ec2 describe-vpcs",
		"--classify --vpc-cidrs 10.0.0.0/16 --nat-gateway-enis nat-0123": `"nat-0123" is neither an ENI id`,
		"--classify --vpc-cidrs 10.0.0.0/16 --aws-ip-ranges " + classifyFixtures + "/describe-vpcs.json": "not the layout of ip-ranges.json",
	} {
		code, stdout, stderr := runCLI(t, append([]string{"flowlogs", "--in", in, "--out", t.TempDir()}, strings.Fields(args)...)...)
		require.Equal(t, exitUsage, code, args)
		require.Contains(t, stderr, want, args)
		require.Equal(t, "failed", summaryOf(t, stdout).Status)
	}
	code, _, stderr := runCLI(t, "cloudtrail", "--in", in, "--out", t.TempDir(), "--classify")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "unknown flag --classify")
	code, _, stderr = runCLI(t, "ddl", "s3access", "--location", "s3://b/p/", "--classify")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "--classify is for flowlogs only")
}

// TestUnclassifiedOutputUnchanged checks that without --classify the
// Parquet files are byte for byte those of the code before classification
// existed (digests taken at commit 0ae33de). A deliberate change of the
// writer's output updates them: go test ./cmd/convert -run TestUnclassifiedOutputUnchanged -update
func TestUnclassifiedOutputUnchanged(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", out)
	require.Equal(t, exitOK, code, stderr)
	var lines []string
	for _, p := range parquettest.Files(t, out, ".parquet") {
		data, err := os.ReadFile(filepath.Join(out, p))
		require.NoError(t, err)
		rel := filepath.Dir(p)
		// File names hold unit ids, which depend on the input's absolute
		// path: compare each partition's file contents only.
		lines = append(lines, fmt.Sprintf("%s %x", filepath.ToSlash(rel), sha256.Sum256(data)))
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	const golden = "testdata/flowlogs-unclassified.sha256"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got, "the output without --classify changed; if intended: go test ./cmd/convert -run TestUnclassifiedOutputUnchanged -update")
}
