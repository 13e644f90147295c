//go:build ignore

// gen_vpcflow writes the flow-log testdata: go run testdata/gen_vpcflow.go
//
// It is deterministic; the files it writes are committed. The tests assert
// counts and values that follow from what this program writes (the comments
// say which).
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const root = "testdata/vpcflow"

var rng = rand.New(rand.NewPCG(1, 2))

func main() {
	os.RemoveAll(filepath.Join(root, "AWSLogs"))
	os.RemoveAll(filepath.Join(root, "headerless"))

	v2 := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	// 1. Classic layout, cn-north-1, 2021-12-04 00:05 delivery: 120 records, of
	// which the first 3 started on 2021-12-03 (delivered after midnight).
	var b strings.Builder
	b.WriteString(v2 + "\n")
	for i := 0; i < 120; i++ {
		start := int64(1638576000) + int64(i) // 2021-12-04T00:00:00Z
		if i < 3 {
			start = 1638575990 + int64(i) // 2021-12-03T23:59:50Z
		}
		b.WriteString(v2Line(i, start))
	}
	// Edge cases at known positions (lines 122..125):
	b.WriteString("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1638576300 1638576360 - NODATA\n")
	b.WriteString("2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1638576300 1638576360 - SKIPDATA\n")
	b.WriteString("2 000000000000 eni-0a1b2c3d4e5f60718 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1638576400 1638576460 ACCEPT OK\n")
	b.WriteString("2 123456789012 eni-0a1b2c3d4e5f60718 203.0.113.12 172.31.16.139 0 0 1 4 336 1638576500 1638576560 REJECT OK\n")
	write("AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04/123456789012_vpcflowlogs_cn-north-1_fl-0a1b2c3d_20211204T0005Z_3f2a1b4c.log.gz", b.String(), true)

	// 2. Same day, a custom v5 format with bytes before packets: 100 records.
	v5 := "version account-id interface-id srcaddr dstaddr srcport dstport protocol bytes packets start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
	b.Reset()
	b.WriteString(v5 + "\n")
	for i := 0; i < 100; i++ {
		start := int64(1638634800) + int64(i) // 2021-12-04T16:20:00Z
		src, dst := ip(i), ip(i+7)
		fmt.Fprintf(&b, "5 123456789012 eni-%017x %s %s %d %d 6 %d %d %d %d ACCEPT OK vpc-0abc subnet-0def i-0%015x %d IPv4 %s %s cn-north-1 cnn1-az1 - - %s - %s %d\n",
			i%5, src, dst, 1024+i, 443, 1000+i*37, 1+i%9, start, start+30, i, []int{2, 18, 19, 3}[i%4], src, dst,
			[]string{"S3", "-", "AMAZON"}[i%3], []string{"ingress", "egress"}[i%2], 1+i%8)
	}
	write("AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04/123456789012_vpcflowlogs_cn-north-1_fl-0a1b2c3d_20211204T1620Z_9a8b7c6d.log.gz", b.String(), true)

	// 3. Hive-compatible layout, cn-northwest-1, 2021-12-05, plain text (not
	// gzip), the header repeated (concatenated files), one line with a missing
	// field and one with a non-numeric port: 250 records, 2 rejected (0.8%).
	b.Reset()
	b.WriteString(v2 + "\n")
	for i := 0; i < 250; i++ {
		if i == 125 {
			b.WriteString(v2 + "\n")
		}
		start := int64(1638662400) + int64(i)*60 // 2021-12-05T00:00:00Z
		line := v2Line(1000+i, start)
		switch i {
		case 40:
			line = "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.0.1 10.0.0.2 443 1024 6 10 840 1638664800 1638664860 ACCEPT\n"
		case 41:
			line = "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.0.1 10.0.0.2 https 1024 6 10 840 1638664860 1638664920 ACCEPT OK\n"
		}
		b.WriteString(line)
	}
	write("AWSLogs/aws-account-id=000000000000/aws-service=vpcflowlogs/aws-region=cn-northwest-1/year=2021/month=12/day=05/000000000000_vpcflowlogs_cn-northwest-1_fl-9f8e7d6c_20211205T0100Z_0badf00d.log", b.String(), false)

	// 4. A headerless CloudWatch-Logs export (default format) outside the AWS
	// layout: 10 records, no date in the key.
	b.Reset()
	for i := 0; i < 10; i++ {
		b.WriteString(v2Line(2000+i, 1638748800+int64(i))) // 2021-12-06
	}
	write("headerless/cloudwatch-export.txt", b.String(), false)
}

func v2Line(i int, start int64) string {
	proto := []int{6, 6, 6, 17, 17, 1}[i%6]
	sp, dp := 32768+i%28000, []int{443, 80, 22, 53, 3306, 8080}[i%6]
	if proto == 1 {
		sp, dp = 0, 0
	}
	action := "ACCEPT"
	if i%11 == 0 {
		action = "REJECT"
	}
	packets := 1 + rng.IntN(500)
	bytes := packets * (40 + rng.IntN(1400))
	return fmt.Sprintf("2 123456789012 eni-%017x %s %s %d %d %d %d %d %d %d %s OK\n",
		i%7, ip(i), ip(i*31+5), sp, dp, proto, packets, bytes, start, start+rng.Int64N(60), action)
}

func ip(i int) string {
	if i%4 == 3 {
		return fmt.Sprintf("52.%d.%d.%d", 80+i%20, (i*7)%256, (i*13)%256)
	}
	return fmt.Sprintf("10.%d.%d.%d", i%3, (i/3)%256, 1+i%250)
}

func write(rel, content string, compress bool) {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		panic(err)
	}
	data := []byte(content)
	if compress {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf) // no name, zero mtime: deterministic bytes
		w.Write(data)
		w.Close()
		data = buf.Bytes()
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		panic(err)
	}
}
