package reader

import "github.com/apache/arrow-go/v18/arrow/memory"

// The readers build a batch's columns in Go slices and hand them to Arrow as
// buffers. A string column's data buffer must never have nil bytes, even when
// the batch holds no text at all (every value "" or NULL): arrow-go's Parquet
// writer (v18.8.0) takes each value as a slice of that buffer and treats a
// nil slice as "no value" when it computes min/max, so a batch of ""s would
// be left out of its row group's and page's statistics, and an engine that
// prunes by them (Athena, Trino, Polars) would skip the rows where the column
// is "". internal/writer guards the same for batches built elsewhere.

// CopyBuffer copies b into a new buffer of exactly len(b) bytes from mem. An
// empty b gives a buffer whose Bytes() is empty but not nil (and allocates
// nothing).
func CopyBuffer(mem memory.Allocator, b []byte) *memory.Buffer {
	if len(b) == 0 {
		return memory.NewBufferBytes([]byte{})
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(b))
	copy(buf.Bytes(), b)
	return buf
}

// WrapBuffer returns b as a buffer without copying; a nil b gives a buffer
// whose Bytes() is empty but not nil.
func WrapBuffer(b []byte) *memory.Buffer {
	if b == nil {
		b = []byte{}
	}
	return memory.NewBufferBytes(b)
}
