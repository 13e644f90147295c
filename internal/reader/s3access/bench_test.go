package s3access

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/gen"
)

// benchLines builds n realistic lines (mixed operations, 24-27 fields, user
// agents with spaces, some quoted user agents with quotes) from a fixed seed.
func benchLines(n int) []byte {
	r := rand.New(rand.NewPCG(3, 5))
	uas := []string{
		`"aws-cli/2.15.10 md/awscrt#0.19.19 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.6 md/command#s3.cp"`,
		`"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"`,
		`"aws-sdk-java/2.21.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc."`,
		`"S3Console/0.4"`,
		`"curl/8.5.0 "probe""`,
	}
	ops := []string{"REST.GET.OBJECT", "REST.GET.OBJECT", "REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.HEAD.OBJECT", "REST.COPY.OBJECT_GET"}
	var b bytes.Buffer
	for i := range n {
		op := ops[r.IntN(len(ops))]
		key := fmt.Sprintf("data/2024/01/%02d/part-%05d.json.gz", 1+r.IntN(28), r.IntN(100000))
		fmt.Fprintf(&b, "%s my-bucket [%02d/Jan/2024:%02d:%02d:%02d +0000] 10.%d.%d.%d arn:aws:iam::111122223333:user/u%d %016X %s %s \"GET /my-bucket/%s HTTP/1.1\" 200 - %d %d %d %d \"-\" %s - %s SigV4 TLS_AES_128_GCM_SHA256 AuthHeader my-bucket.s3.eu-west-1.amazonaws.com TLSv1.3",
			tOwner, 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(50), r.Uint64(),
			op, key, key, r.IntN(1<<24), r.IntN(1<<24), r.IntN(500), r.IntN(100), uas[r.IntN(len(uas))], tHostID)
		switch i % 4 {
		case 1:
			b.WriteString(" -")
		case 2:
			b.WriteString(" - -")
		case 3:
			b.WriteString(" - - eu-west-1")
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkParseLine measures the tokenizer and field checks alone.
func BenchmarkParseLine(b *testing.B) {
	data := benchLines(10000)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	b.ReportAllocs()
	var f fields
	i := 0
	for b.Loop() {
		if _, _, reason := parseLine(lines[i], &f); reason != "" {
			b.Fatal(reason)
		}
		i++
		if i == len(lines) {
			i = 0
		}
	}
}

// BenchmarkReader measures the whole reader: lines, tokenizer, checks and
// Arrow building, in batches of DefaultChunkRows.
func BenchmarkReader(b *testing.B) {
	data := benchLines(50000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data), Config{Object: "bench", Mem: memory.DefaultAllocator})
		if err != nil {
			b.Fatal(err)
		}
		var rows int64
		for rd.Next() {
			rows += rd.RecordBatch().NumRows()
		}
		if rd.Err() != nil || rows != 50000 {
			b.Fatal(rd.Err(), rows)
		}
		rd.Release()
	}
}

// BenchmarkReaderGenerated reads a data set of internal/gen (both key
// formats' content is the same): the realistic mix of operations, field
// counts and user agents, file by file as the pipeline does.
func BenchmarkReaderGenerated(b *testing.B) {
	dir := b.TempDir()
	st, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: dir, Bytes: 32 << 20, Files: 16, Days: 2, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var files [][]byte
	for _, p := range st.Paths {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	b.SetBytes(st.UncompressedBytes)
	b.ReportAllocs()
	for b.Loop() {
		var rows int64
		for _, data := range files {
			rd, err := NewReader(bytes.NewReader(data), Config{Object: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			for rd.Next() {
				rows += rd.RecordBatch().NumRows()
			}
			if rd.Err() != nil || rd.Stats().Rejected != 0 {
				b.Fatal(rd.Err(), rd.Stats())
			}
			rd.Release()
		}
		if rows != st.Records {
			b.Fatal(rows, st.Records)
		}
	}
}

// TestBenchLinesParse keeps the benchmark input honest: every line parses.
func TestBenchLinesParse(t *testing.T) {
	data := benchLines(2000)
	rd, err := NewReader(io.Reader(strings.NewReader(string(data))), Config{Object: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	for rd.Next() {
	}
	if st := rd.Stats(); st.Rows != 2000 || st.Rejected != 0 {
		t.Fatalf("%+v", st)
	}
}
