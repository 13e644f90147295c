package reader

import (
	"errors"
	"io"
	"sync"
)

// Read-ahead block size and depth: a few blocks in flight keep the
// decompressing goroutine busy while the parser works on the previous block,
// and bound the memory to readAheadBlocks*readAheadBlockSize per object.
const (
	readAheadBlockSize = 256 << 10
	readAheadBlocks    = 4
)

// readAhead reads its source in its own goroutine, so that decompressing an
// object overlaps with parsing it.
type readAhead struct {
	filled chan block
	free   chan []byte
	done   chan struct{}
	wg     sync.WaitGroup
	cur    block
	off    int
}

type block struct {
	data []byte
	err  error
}

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{
		filled: make(chan block, readAheadBlocks),
		free:   make(chan []byte, readAheadBlocks),
		done:   make(chan struct{}),
	}
	for range readAheadBlocks {
		ra.free <- getBlock()
	}
	ra.wg.Add(1)
	go func() {
		defer ra.wg.Done()
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
			n, err := io.ReadFull(r, buf)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF // a short last block, not a truncation
			}
			select {
			case ra.filled <- block{data: buf[:n], err: err}:
			case <-ra.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.data) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.data != nil {
			ra.free <- ra.cur.data[:cap(ra.cur.data)]
		}
		ra.cur, ra.off = <-ra.filled, 0
	}
	n := copy(p, ra.cur.data[ra.off:])
	ra.off += n
	return n, nil
}

// close stops the goroutine and waits for it, so the source can be closed.
// The blocks go back to blockPool: Read copies out of them, so nothing
// else holds their bytes once the goroutine is gone.
func (ra *readAhead) close() {
	close(ra.done)
	ra.wg.Wait()
	if ra.cur.data != nil {
		putBlock(ra.cur.data)
	}
	ra.cur, ra.off = block{err: errReadAheadClosed}, 0
	for {
		select {
		case b := <-ra.free:
			putBlock(b)
		case b := <-ra.filled:
			putBlock(b.data)
		default:
			return
		}
	}
}

var errReadAheadClosed = errors.New("read after Close")

// blockPool keeps read-ahead blocks for the next objects: a run reads
// thousands of objects, and each would otherwise allocate and zero
// readAheadBlocks fresh blocks.
var blockPool = sync.Pool{New: func() any {
	b := make([]byte, readAheadBlockSize)
	return &b
}}

func getBlock() []byte { return *blockPool.Get().(*[]byte) }

func putBlock(b []byte) {
	b = b[:cap(b)]
	blockPool.Put(&b)
}
