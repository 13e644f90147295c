package reader

import (
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BufferPool keeps the column buffers of batches that every holder has
// released, for the next batches: a batch of 32 Ki rows is megabytes of
// buffers, and fresh ones are zeroed by the runtime and fault in new pages
// each time. A buffer goes back to the pool only when arrow-go's reference
// count says no array, slice or record holds it any more (Wrap gives it the
// pool as its allocator, and arrow-go calls Free at zero), so reuse is as
// safe as the holders' Retain and Release.
//
// The pool holds at most its limit in bytes; past it the oldest buffers are
// left to the garbage collector. It is safe for concurrent use: readers on
// several goroutines take buffers that writers on others release.
type BufferPool struct {
	mu    sync.Mutex
	free  [][]byte // released buffers, each at its full capacity
	bytes int      // the capacity of free, together
	limit int
	// out counts the buffers Get has handed out and Put has not had back
	// (the rest were left to the garbage collector): see Outstanding.
	out int
	// poison, for tests, overwrites every released buffer with 0xA5, so
	// that a holder still reading it sees garbage.
	poison bool
}

// NewBufferPool returns a pool that keeps up to limit bytes of buffers.
func NewBufferPool(limit int) *BufferPool {
	return &BufferPool{limit: limit}
}

// Get returns n bytes, 8-byte aligned (to be cast to wider integers), of
// any content: a released buffer of at least n bytes and at most twice as
// many, or a new one.
func (p *BufferPool) Get(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	p.mu.Lock()
	p.out++
	best := -1
	for i, b := range p.free {
		if c := cap(b); c >= n && c <= 2*n && (best < 0 || c < cap(p.free[best])) && aligned(b) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		last := len(p.free) - 1
		p.free[best], p.free[last] = p.free[last], nil
		p.free = p.free[:last]
		p.bytes -= cap(b)
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)[:n]
}

// minPooledBytes is the smallest buffer the pool keeps: smaller ones are
// cheap to allocate, and would only lengthen Get's search.
const minPooledBytes = 4 << 10

// Put gives b back to the pool; nothing may use it any more.
func (p *BufferPool) Put(b []byte) {
	if cap(b) == 0 {
		return // Get(0)'s, which it does not count
	}
	b = b[:cap(b)]
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out--
	if p.poison {
		for i := range b {
			b[i] = 0xA5
		}
	}
	if len(b) < minPooledBytes || len(b) > p.limit {
		return
	}
	if p.bytes+len(b) > p.limit {
		p.evict(p.limit - len(b) - p.limit/4)
	}
	p.free = append(p.free, b)
	p.bytes += len(b)
}

// evict lets the oldest buffers go until the pool holds at most target
// bytes. A full pool keeps room for the sizes in use now: buffers that no
// request fits any more (grown for an object of long lines) would otherwise
// fill it for good, and every later buffer would be dropped. A quarter of
// the limit is freed at once, so that a full pool does not shift its list
// on every Put.
func (p *BufferPool) evict(target int) {
	n := 0
	for n < len(p.free) && p.bytes > target {
		p.bytes -= cap(p.free[n])
		n++
	}
	rest := copy(p.free, p.free[n:])
	clear(p.free[rest:])
	p.free = p.free[:rest]
}

// aligned reports whether b can be cast to 8-byte integers; Get's own
// buffers are, and are all the pool should get.
func aligned(b []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0
}

// Wrap returns b as an Arrow buffer of len(b) bytes whose release, by its
// last holder, gives b back to the pool at its full capacity: what lies
// past len(b) is the caller's to use for as long as the buffer is held (the
// value numbers of a string column, beside its offsets: reader.Indexed).
// A buffer never released is left to the garbage collector, as any.
func (p *BufferPool) Wrap(b []byte) *memory.Buffer {
	if cap(b) == 0 {
		return memory.NewBufferBytes([]byte{}) // never nil bytes: see CopyBuffer
	}
	return memory.NewBufferWithAllocator(b, poolAllocator{p})
}

// Pooled reports the bytes the pool holds.
func (p *BufferPool) Pooled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

// Outstanding reports how many buffers Get has handed out that have not
// come back through Put: buffers in use, and buffers their holders dropped
// without giving back (which the garbage collector takes, and the pool
// misses).
func (p *BufferPool) Outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out
}

// SetPoison makes the pool overwrite every buffer given back with 0xA5
// (for tests: a holder that reads a buffer after releasing it, or a pool
// that takes one back too early, then reads garbage).
func (p *BufferPool) SetPoison(on bool) {
	p.mu.Lock()
	p.poison = on
	p.mu.Unlock()
}

// poolAllocator is the allocator of the buffers Wrap makes: arrow-go calls
// its Free when their reference count drops to zero. They are never
// allocated or resized through it.
type poolAllocator struct{ p *BufferPool }

func (a poolAllocator) Allocate(size int) []byte { return a.p.Get(size) }

func (a poolAllocator) Reallocate(size int, b []byte) []byte {
	out := a.p.Get(size)
	copy(out, b)
	a.p.Put(b)
	return out
}

func (a poolAllocator) Free(b []byte) { a.p.Put(b) }
