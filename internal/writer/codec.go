package writer

import (
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// fastSnappy is the Snappy codec for Parquet pages with klauspost's fastest
// Snappy-compatible encoder. arrow-go's own codec uses the "better" encoder,
// which made Snappy the largest single cost of writing flow logs for a few
// percent smaller pages. The output is standard Snappy; decoding is unchanged.
type fastSnappy struct{}

func (fastSnappy) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) Decode(dst, src []byte) []byte {
	out, err := snappy.Decode(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

func (fastSnappy) DecodeWithError(dst, src []byte) ([]byte, error) { return snappy.Decode(dst, src) }

func (fastSnappy) NewReader(r io.Reader) io.ReadCloser { return io.NopCloser(snappy.NewReader(r)) }

func (fastSnappy) CompressBound(n int64) int64 { return int64(s2.MaxEncodedLen(int(n))) }

func (fastSnappy) NewWriter(w io.Writer) io.WriteCloser { return snappy.NewBufferedWriter(w) }

func (f fastSnappy) NewWriterLevel(w io.Writer, _ int) (io.WriteCloser, error) {
	return f.NewWriter(w), nil
}

var fastSnappyOnce sync.Once

// UseFastSnappy makes fastSnappy arrow-go's Snappy codec for the whole
// process. arrow-go has one codec registry per process, a map without a
// lock, so call it before any Parquet is written or read: from an init, as
// cmd/convert's main.go does (and the tests of packages that write Parquet,
// so that they write what convert writes). Without it, Snappy pages are
// compressed by arrow-go's own encoder: valid Snappy, other bytes. It changes
// only how pages are compressed, never what they decode to.
func UseFastSnappy() {
	fastSnappyOnce.Do(func() { compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{}) })
}
