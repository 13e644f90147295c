package gen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// NewRand returns a generator for one independent stream of a seeded data
// set. Stream 0 is meant for the plan (accounts, file names, sizes) and
// stream i+1 for the content of file i, so that a file's bytes depend only on
// the seed and its own plan entry, never on which worker wrote it or when.
func NewRand(seed int64, stream uint64) *rand.Rand {
	// The second PCG word is mixed so that neighbouring streams do not start
	// from neighbouring states.
	return rand.New(rand.NewPCG(uint64(seed), stream*0x9e3779b97f4a7c15+0x632be59bd9b4e019))
}

const hexDigits = "0123456789abcdef"

// AppendHex appends n random lowercase hex digits to b: the shape of AWS
// resource-id suffixes (eni-…, vpc-…, i-…) and of the 8-digit hash that ends
// a delivered log file's name.
func AppendHex(b []byte, r *rand.Rand, n int) []byte {
	for n > 0 {
		v := r.Uint64()
		for k := 0; k < 16 && n > 0; k++ {
			b = append(b, hexDigits[v&15])
			v >>= 4
			n--
		}
	}
	return b
}

// RandomHex returns n random lowercase hex digits (see AppendHex).
func RandomHex(r *rand.Rand, n int) string { return string(AppendHex(nil, r, n)) }

// FileWriter writes one generated file, gzip-compressed or not, and counts
// what went in and what reached the disk. The gzip stream is deterministic:
// its header carries no name and a zero modification time, and the compressor
// runs on one goroutine, so equal input gives byte-identical files.
//
// The data goes to a hidden temporary (".name.tmp") in the final directory
// and is renamed into place by Close, so that an interrupted run never leaves
// a truncated file under a name that readers would pick up.
type FileWriter struct {
	path, tmp string
	f         *os.File
	counted   *countingWriter
	buf       *bufio.Writer
	gz        *gzip.Writer
	raw       int64
	closed    bool
}

// CreateFile starts the file at path, creating its directories. With
// compress the content is gzipped at gzipLevel, any level that
// klauspost/compress/gzip.NewWriterLevel accepts (gzip.DefaultCompression,
// gzip.BestSpeed, ...); without it the bytes are written as they are.
func CreateFile(path string, compress bool, gzipLevel int) (*FileWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("gen: creating %s: %w", filepath.Dir(path), err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("gen: creating %s: %w", path, err)
	}
	w := &FileWriter{path: path, tmp: tmp, f: f, counted: &countingWriter{w: f}}
	w.buf = bufio.NewWriterSize(w.counted, 256<<10)
	if compress {
		gz, err := gzip.NewWriterLevel(w.buf, gzipLevel)
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, fmt.Errorf("gen: %s: %w", path, err)
		}
		// The zero Header (no name, no comment, ModTime zero) is what makes
		// the stream reproducible; set OS explicitly rather than rely on
		// the library default.
		gz.OS = 255
		w.gz = gz
	}
	return w, nil
}

// Write writes uncompressed bytes.
func (w *FileWriter) Write(p []byte) (int, error) {
	var n int
	var err error
	if w.gz != nil {
		n, err = w.gz.Write(p)
	} else {
		n, err = w.buf.Write(p)
	}
	w.raw += int64(n)
	return n, err
}

// RawBytes returns the uncompressed bytes written so far.
func (w *FileWriter) RawBytes() int64 { return w.raw }

// StoredBytes returns the bytes that reached the file so far; after Close it
// is the file's size.
func (w *FileWriter) StoredBytes() int64 { return w.counted.n }

// Close finishes the stream and renames the file into place. It does not
// fsync: generated data can always be generated again. On error the temporary is removed.
func (w *FileWriter) Close() error {
	if w.closed {
		return errors.New("gen: FileWriter closed twice")
	}
	w.closed = true
	var err error
	if w.gz != nil {
		err = w.gz.Close()
	}
	err = errors.Join(err, w.buf.Flush(), w.f.Close())
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("gen: writing %s: %w", w.path, err)
	}
	return nil
}

// Abort discards the file. It is a no-op after Close.
func (w *FileWriter) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.f.Close()
	os.Remove(w.tmp)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ForEach calls fn(ctx, i) for i in [0, n) on up to workers goroutines and
// returns the first error; after an error or cancellation of ctx no new
// index is started. Generators use it to write files in parallel: the result
// stays deterministic as long as fn(i) depends only on i.
func ForEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers = max(1, min(workers, n))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// WriteFiles runs write on every file, workers at a time, and returns the
// per-file results in file order (so the outcome does not depend on workers).
func WriteFiles[F, S any](ctx context.Context, files []F, workers int, write func(context.Context, *F) (S, error)) ([]S, error) {
	results := make([]S, len(files))
	err := ForEach(ctx, len(files), workers, func(ctx context.Context, i int) error {
		st, err := write(ctx, &files[i])
		results[i] = st
		return err
	})
	return results, err
}
