package pipeline

import (
	"os"
	"testing"
)

// TestWriteBenchData writes benchmark input to $BENCH_DATA_DIR for manual
// profiling runs; it does nothing unless that variable is set.
func TestWriteBenchData(t *testing.T) {
	dir := os.Getenv("BENCH_DATA_DIR")
	if dir == "" {
		t.Skip("BENCH_DATA_DIR not set")
	}
	t.Logf("wrote %d bytes", writeBenchFlowLogs(t, dir, 32, 8<<20))
}
