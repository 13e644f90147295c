package reader

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestReadAheadPooledBlocks reads many objects through DecodeAhead at once,
// some closed part way (their blocks go back to the pool while others are
// in flight), and checks every byte: a block reused too early, or one whose
// old bytes showed past a short read, would mix objects.
func TestReadAheadPooledBlocks(t *testing.T) {
	objects := make([][]byte, 24)
	for i := range objects {
		var text bytes.Buffer
		// Sizes around the block size, so short last blocks and exact
		// multiples both occur; every line names its object.
		for j := 0; text.Len() < (i%5)*readAheadBlockSize/2+i*977; j++ {
			fmt.Fprintf(&text, "object %d line %d\n", i, j)
		}
		objects[i] = text.Bytes()
	}
	gzipped := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		for i, want := range objects {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := DecodeAhead(io.NopCloser(bytes.NewReader(gzipped(want))))
				if err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 { // closed after a first read, blocks still in flight
					p := make([]byte, 100)
					n, _ := io.ReadFull(d, p)
					if !bytes.Equal(p[:n], want[:n]) {
						t.Errorf("object %d: first bytes differ", i)
					}
					d.Close()
					if _, err := d.Read(p); err == nil {
						t.Errorf("object %d: read after Close gave no error", i)
					}
					return
				}
				got, err := io.ReadAll(d)
				d.Close()
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("object %d: %d bytes read (%v), want %d equal bytes", i, len(got), err, len(want))
				}
			}()
		}
		wg.Wait()
	}
}
