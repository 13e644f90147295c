package reader

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// A wrapped buffer goes back to the pool when its last holder releases it,
// not before: an array and a slice of it each hold it.
func TestBufferPoolReturnsAtLastRelease(t *testing.T) {
	p := NewBufferPool(1 << 20)
	b := p.Get(64 << 10)
	require.Len(t, b, 64<<10)
	require.Zero(t, uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8, "8-byte aligned")
	for i := range b {
		b[i] = byte(i)
	}
	buf := p.Wrap(b)
	data := array.NewData(arrow.PrimitiveTypes.Int32, len(b)/4, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release() // the data holds it
	arr := array.MakeFromData(data)
	data.Release()
	slice := array.NewSlice(arr, 10, 20)
	arr.Release()
	require.Zero(t, p.Pooled(), "the slice still holds the buffer")
	require.Equal(t, int32(0x2b2a2928), slice.(*array.Int32).Value(0))
	slice.Release()
	require.Equal(t, 64<<10, p.Pooled())

	again := p.Get(60 << 10)
	require.Same(t, unsafe.SliceData(b), unsafe.SliceData(again), "the released buffer is reused")
	require.Zero(t, p.Pooled())
}

// Get reuses a buffer only of a size up to twice the request; the pool
// keeps at most its limit, and no small buffers.
func TestBufferPoolBounds(t *testing.T) {
	p := NewBufferPool(100 << 10)
	big := p.Get(64 << 10)
	p.Put(big)
	small := p.Get(16 << 10)
	require.NotSame(t, unsafe.SliceData(big), unsafe.SliceData(small), "4x the request is not reused")
	p.Put(small)
	require.Equal(t, 80<<10, p.Pooled())
	p.Put(p.Get(32 << 10)) // big again: 4x no more
	require.Equal(t, 80<<10, p.Pooled())
	mid := p.Get(30 << 10) // fits neither: a new one
	p.Put(mid)             // past the limit: the oldest go, until a quarter of the limit is spare
	require.Equal(t, 30<<10, p.Pooled())
	require.Same(t, unsafe.SliceData(mid), unsafe.SliceData(p.Get(30<<10)), "the newest stays")
	p.Put(mid)
	p.Put(make([]byte, 200<<10))
	require.Equal(t, 30<<10, p.Pooled(), "a buffer past the limit is not kept")
	p.Put(make([]byte, 100))
	require.Equal(t, 30<<10, p.Pooled(), "small buffers are not kept")
	require.Equal(t, []byte{}, p.Get(0))
	empty := p.Wrap([]byte{})
	require.NotNil(t, empty.Bytes(), "never nil bytes")
}

// A poisoning pool overwrites what is given back, so that a holder still
// reading it would see 0xA5.
func TestBufferPoolPoison(t *testing.T) {
	p := NewBufferPool(1 << 20)
	p.SetPoison(true)
	b := p.Get(8 << 10)
	clear(b)
	buf := p.Wrap(b[:100])
	buf.Release()
	for i, c := range b[:cap(b)] {
		if c != 0xA5 {
			t.Fatalf("byte %d is %#x after release, all its capacity returns", i, c)
		}
	}
}
