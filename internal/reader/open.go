package reader

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// gzipMagic starts every gzip member (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// Decoded is an object's content, decompressed when it was gzip. Close closes
// both the decompressor and the underlying object.
type Decoded struct {
	io.Reader
	Gzip bool // whether the object was gzip-compressed
	src  io.Closer
	gz   *gzip.Reader
	ra   *readAhead
}

// Close releases the decompressor and closes the object it reads.
func (d *Decoded) Close() error {
	var err error
	if d.ra != nil {
		d.ra.close()
		d.ra = nil
	}
	if d.gz != nil {
		// Its error repeats a decompression error that Read already returned.
		_ = d.gz.Close()
	}
	if d.src != nil {
		err = errors.Join(err, d.src.Close())
	}
	return err
}

// Decode looks at the first bytes of an object and returns a reader of its
// content: gunzipped (all members, as concatenated gzip files) when it starts
// with the gzip magic bytes, as is otherwise. Read errors from a damaged
// gzip stream are wrapped with ErrCorruptObject. Decode takes ownership of src.
func Decode(src io.ReadCloser) (*Decoded, error) {
	return decode(src, false)
}

// DecodeAhead is Decode with decompression in a goroutine of its own, a few
// blocks ahead of the reader, so that decompressing and parsing one object
// use two cores. Close stops the goroutine.
func DecodeAhead(src io.ReadCloser) (*Decoded, error) {
	return decode(src, true)
}

func decode(src io.ReadCloser, ahead bool) (*Decoded, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	magic, err := br.Peek(len(gzipMagic))
	if err != nil && err != io.EOF {
		src.Close()
		return nil, fmt.Errorf("%w: %w", ErrCorruptObject, err)
	}
	if len(magic) < len(gzipMagic) || magic[0] != gzipMagic[0] || magic[1] != gzipMagic[1] {
		return &Decoded{Reader: corruptOnError{br}, src: src}, nil
	}
	gz, err := gzip.NewReader(br)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("%w: gzip header: %w", ErrCorruptObject, err)
	}
	d := &Decoded{Reader: corruptOnError{gz}, Gzip: true, src: src, gz: gz}
	if ahead {
		d.ra = newReadAhead(d.Reader)
		d.Reader = d.ra
	}
	return d, nil
}

// corruptOnError marks every read error except io.EOF as ErrCorruptObject, so
// that readers can tell a damaged object from a bad line.
type corruptOnError struct{ r io.Reader }

func (c corruptOnError) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, ErrCorruptObject) {
		if err == io.ErrUnexpectedEOF {
			err = errors.New("unexpected end of data (truncated object?)")
		}
		err = fmt.Errorf("%w: %w", ErrCorruptObject, err)
	}
	return n, err
}
