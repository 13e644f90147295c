package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"convert/internal/bench"
	"convert/internal/classify"
	"convert/internal/storage"
)

// writeBenchFlowLogs writes files gzip flow-log objects of about perFile
// bytes of text each, in the AWS layout over two days, and returns the total
// uncompressed size.
func writeBenchFlowLogs(tb testing.TB, dir string, files, perFile int) int64 {
	rng := rand.New(rand.NewPCG(3, 4))
	var total int64
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	for f := 0; f < files; f++ {
		day := 4 + f*2/files
		key := fmt.Sprintf("AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/%02d/123456789012_vpcflowlogs_cn-north-1_fl-0a1b2c3d_202112%02dT%02d%02dZ_%08x.log.gz", day, day, f%24, f%60, f)
		var text bytes.Buffer
		text.WriteString(header)
		base := int64(1638576000 + (day-4)*86400 + f*300)
		for text.Len() < perFile {
			p := 1 + rng.IntN(2000)
			fmt.Fprintf(&text, "2 123456789012 eni-%017x 10.%d.%d.%d 52.%d.%d.%d %d %d %d %d %d %d %d %s OK\n",
				rng.IntN(300), rng.IntN(4), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256),
				32768+rng.IntN(28000), []int{443, 80, 22, 53}[rng.IntN(4)], []int{6, 17, 1}[rng.IntN(3)],
				p, p*(40+rng.IntN(1400)), base+int64(rng.IntN(300)), base+300+int64(rng.IntN(60)), []string{"ACCEPT", "REJECT"}[rng.IntN(2)])
		}
		total += int64(text.Len())
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(text.Bytes())
		zw.Close()
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return total
}

// BenchmarkFlowLogsPipeline converts 64 MiB of flow-log text (16 gzip
// objects) end to end to local Parquet; MB/s is of uncompressed input.
func BenchmarkFlowLogsPipeline(b *testing.B) {
	benchFlowLogsPipeline(b, &FlowLogs{})
}

// BenchmarkFlowLogsPipelineClassified is BenchmarkFlowLogsPipeline with
// --classify, against a prefix table the size of AWS's ip-ranges.json.
// Compare its cpu-s/op with BenchmarkFlowLogsPipeline's: the target is at
// most 10% more.
func BenchmarkFlowLogsPipelineClassified(b *testing.B) {
	benchFlowLogsPipeline(b, &FlowLogs{Classifier: benchClassifier(b)})
}

func benchFlowLogsPipeline(b *testing.B, kind *FlowLogs) {
	in := b.TempDir()
	total := writeBenchFlowLogs(b, in, 16, 4<<20)
	b.SetBytes(total)
	b.ReportAllocs()
	cpu := bench.ProcessCPU()
	for b.Loop() {
		out := b.TempDir()
		s, err := Run(context.Background(), Config{
			Kind:    kind,
			Source:  &storage.LocalSource{Root: in},
			Sink:    &storage.LocalSink{Root: out},
			Workers: 2,
		})
		if err != nil || !s.Balanced {
			b.Fatal(err)
		}
		os.RemoveAll(out)
	}
	// The process's CPU time: on a shared machine it measures the
	// conversion, where wall time measures the neighbours as well.
	b.ReportMetric((bench.ProcessCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// benchClassifier classifies the benchmark's addresses (10.0-3.x.x to
// 52.x.x.x) against the VPC 10.0.0.0/14 and some 10,000 made-up AWS
// prefixes, IPv4 and IPv6, nested as AWS's are (AMAZON around services).
func benchClassifier(tb testing.TB) *classify.Classifier {
	rng := rand.New(rand.NewPCG(7, 8))
	services := []string{"S3", "EC2", "DYNAMODB", "CLOUDFRONT", "ROUTE53"}
	regions := []string{"us-east-1", "eu-west-1", "cn-north-1", "cn-northwest-1", "ap-southeast-1"}
	var ranges []classify.AWSRange
	for i := 0; i < 8000; i++ {
		a := netip.AddrFrom4([4]byte{byte(rng.IntN(224)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
		p := netip.PrefixFrom(a, 14+rng.IntN(11)).Masked()
		region := regions[rng.IntN(len(regions))]
		ranges = append(ranges, classify.AWSRange{Prefix: p, Service: "AMAZON", Region: region})
		if rng.IntN(2) == 0 {
			ranges = append(ranges, classify.AWSRange{Prefix: p, Service: services[rng.IntN(len(services))], Region: region})
		}
	}
	for i := 0; i < 2000; i++ {
		var a [16]byte
		a[0], a[1], a[2], a[3] = 0x26, 0x00, 0x1f, byte(rng.IntN(256))
		a[4], a[5] = byte(rng.IntN(256)), byte(rng.IntN(256))
		p := netip.PrefixFrom(netip.AddrFrom16(a), 32+rng.IntN(25)).Masked()
		ranges = append(ranges, classify.AWSRange{Prefix: p, Service: services[rng.IntN(len(services))], Region: regions[rng.IntN(len(regions))]})
	}
	c, err := classify.New(classify.Config{
		VPCCIDRs:       []netip.Prefix{netip.MustParsePrefix("10.0.0.0/14")},
		NATGatewayENIs: []string{"eni-00000000000000001", "eni-00000000000000002"},
		AWSRanges:      ranges,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
