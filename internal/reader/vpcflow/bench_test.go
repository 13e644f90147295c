package vpcflow

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// benchInput is realistic default-format text: many ENIs and addresses,
// heavy-tailed counters, a few NODATA rows.
func benchInput(lines int) []byte {
	rng := rand.New(rand.NewPCG(7, 7))
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := 0; i < lines; i++ {
		if i%200 == 0 {
			fmt.Fprintf(&b, "2 123456789012 eni-%017x - - - - - - - %d %d - NODATA\n", rng.IntN(300), 1638576000+i, 1638576060+i)
			continue
		}
		p := 1 + rng.IntN(2000)
		fmt.Fprintf(&b, "2 123456789012 eni-%017x 10.%d.%d.%d 52.%d.%d.%d %d %d %d %d %d %d %d %s OK\n",
			rng.IntN(300), rng.IntN(4), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256),
			32768+rng.IntN(28000), []int{443, 80, 22, 53}[rng.IntN(4)], []int{6, 17, 1}[rng.IntN(3)],
			p, p*(40+rng.IntN(1400)), 1638576000+i/10, 1638576000+i/10+rng.IntN(60), []string{"ACCEPT", "REJECT"}[rng.IntN(2)])
	}
	return b.Bytes()
}

// BenchmarkReader measures parsing into Arrow batches, in MB/s of text.
func BenchmarkReader(b *testing.B) {
	input := benchInput(200_000)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(input), Config{Object: "bench", Mem: memory.DefaultAllocator})
		if err != nil {
			b.Fatal(err)
		}
		rows := int64(0)
		for rd.Next() {
			rows += rd.RecordBatch().NumRows()
		}
		if rd.Err() != nil || rows != 200_000 {
			b.Fatal(rd.Err(), rows)
		}
		rd.Release()
	}
}

// BenchmarkReaderObjects reads objects of 40,000 lines, each by a new
// Reader, as the pipeline does (a 5-minute object is 1-2 batches): the
// first batch of each has no previous batch to size its buffers by.
func BenchmarkReaderObjects(b *testing.B) {
	const lines, objects = 40_000, 5
	input := benchInput(lines)
	b.SetBytes(int64(len(input)) * objects)
	b.ReportAllocs()
	for b.Loop() {
		for range objects {
			rd, err := NewReader(bytes.NewReader(input), Config{Object: "bench", Mem: memory.DefaultAllocator})
			if err != nil {
				b.Fatal(err)
			}
			rows := int64(0)
			for rd.Next() {
				rows += rd.RecordBatch().NumRows()
			}
			if rd.Err() != nil || rows != lines {
				b.Fatal(rd.Err(), rows)
			}
			rd.Release()
		}
	}
}
