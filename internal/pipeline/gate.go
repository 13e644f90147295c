package pipeline

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"convert/internal/writer"
)

// inFlightBytes bounds, run-wide, the bytes of the batches and rejects that
// decoders have handed to unit writers and that are not written yet. Batches
// are bounded by bytes in the readers; this bounds how many of them wait,
// whatever --workers is, in bytes rather than in messages.
const inFlightBytes = 32 << 20

// byteGate is a counting semaphore in bytes. A request larger than the limit
// waits until nothing else is held, so one huge batch still passes.
type byteGate struct {
	mu    sync.Mutex
	limit int64
	used  int64
	freed chan struct{} // closed, and replaced, when bytes are released
}

func newByteGate(limit int64) *byteGate {
	return &byteGate{limit: limit, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting for them; false when ctx ends first. It
// returns the bytes to release, which are n capped at the limit.
func (g *byteGate) acquire(ctx context.Context, n int64) (int64, bool) {
	n = min(n, g.limit)
	for {
		g.mu.Lock()
		if g.used+n <= g.limit {
			g.used += n
			g.mu.Unlock()
			return n, true
		}
		freed := g.freed
		g.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return 0, false
		}
	}
}

// release returns bytes taken by acquire.
func (g *byteGate) release(n int64) {
	if n == 0 {
		return
	}
	g.mu.Lock()
	g.used -= n
	close(g.freed)
	g.freed = make(chan struct{})
	g.mu.Unlock()
}

// messageBytes is what a message holds in memory: its batch's buffers at
// their capacity (writer.HeldBytes) and its rejects' raw lines.
func messageBytes(rec arrow.RecordBatch, rejectBytes int) int64 {
	n := int64(rejectBytes)
	if rec != nil {
		for _, c := range rec.Columns() {
			n += writer.HeldBytes(c.Data())
		}
	}
	return n
}
