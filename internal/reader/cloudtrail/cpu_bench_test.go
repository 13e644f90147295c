package cloudtrail

import (
	"testing"

	"convert/internal/bench"
)

// BenchmarkReaderCPU is BenchmarkReader reporting the process CPU per read
// (cpu-ns/op, the garbage collector's threads included): on a shared
// machine CPU time, unlike wall time, does not grow with the other load.
func BenchmarkReaderCPU(b *testing.B) {
	in := benchInput()
	cpu := bench.ProcessCPU()
	benchmarkReader(b, in)
	b.ReportMetric(float64((bench.ProcessCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
