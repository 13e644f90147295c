package storage

import (
	"context"
	"errors"
	"io"
)

// RangeFile reads a committed object of size bytes through a RangeReader,
// as an io.ReaderAt and io.Seeker (what a Parquet reader needs): each ReadAt
// is one ranged read, a ranged GET on S3, so an object is read without
// downloading or spilling it. Seek only moves the offset the footer reader
// uses to find the size.
type RangeFile struct {
	ctx  context.Context
	rr   RangeReader
	rel  string
	size int64
	pos  int64
}

// NewRangeFile returns a RangeFile of rel, whose size is known (listed or
// in the ledger). ctx bounds every read.
func NewRangeFile(ctx context.Context, rr RangeReader, rel string, size int64) *RangeFile {
	return &RangeFile{ctx: ctx, rr: rr, rel: rel, size: size}
}

// ReadAt implements io.ReaderAt.
func (f *RangeFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), f.size-off)
	if n == 0 {
		return 0, nil
	}
	b, err := f.rr.ReadRange(f.ctx, f.rel, off, n)
	if err != nil {
		return 0, err
	}
	c := copy(p, b)
	if c < len(p) {
		return c, io.EOF
	}
	return c, nil
}

// Seek implements io.Seeker.
func (f *RangeFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start")
	}
	f.pos = offset
	return offset, nil
}

// Close implements io.Closer; there is nothing to release.
func (f *RangeFile) Close() error { return nil }
