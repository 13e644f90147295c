package writer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// spill keeps the rows of partitions that found no free file slot in one
// temporary file, as Arrow IPC streams, until Partitioned.Finish writes
// each of them into files of its own, one partition at a time. Input whose
// rows interleave more partitions than Options.MaxOpenFiles then still makes
// a few large files per partition, in bounded memory, instead of a file for
// every visit of a partition.
//
// The file is unlinked as soon as it is created where the OS allows it, so a
// killed run leaves nothing behind.
type spill struct {
	mem   memory.Allocator
	f     *os.File
	name  string // set while the file still has a name to remove
	w     *bufio.Writer
	off   int64
	order []string // partitions in the order of their first spilled rows
	segs  map[string][]segment
}

// segment is one IPC stream (schema, one batch, end marker) in the file.
type segment struct{ off, n int64 }

const spillBufferBytes = 1 << 20

// newSpill creates the spill file in dir (os.TempDir() if empty).
func newSpill(dir string, mem memory.Allocator) (*spill, error) {
	f, err := os.CreateTemp(dir, "convert-spill-*.arrows")
	if err != nil {
		return nil, fmt.Errorf("writer: creating a spill file: %w", err)
	}
	s := &spill{mem: mem, segs: map[string][]segment{}, f: f, w: bufio.NewWriterSize(f, spillBufferBytes)}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name() // not on this OS while open: removed in close
	}
	return s, nil
}

// has reports whether partition has spilled rows.
func (s *spill) has(partition string) bool {
	_, ok := s.segs[partition]
	return ok
}

// add appends rec to partition's spilled rows.
func (s *spill) add(partition string, rec arrow.RecordBatch) error {
	start := s.off
	cw := &offsetWriter{w: s.w, n: &s.off}
	iw := ipc.NewWriter(cw, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(s.mem))
	err := iw.Write(rec)
	if cerr := iw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writer: spilling rows of %s: %w", partition, err)
	}
	if !s.has(partition) {
		s.order = append(s.order, partition)
	}
	s.segs[partition] = append(s.segs[partition], segment{off: start, n: s.off - start})
	return nil
}

// replay calls fn with partition's spilled batches in the order they came.
// A batch is valid only during its call.
func (s *spill) replay(partition string, fn func(arrow.RecordBatch) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("writer: spill file: %w", err)
	}
	for _, sg := range s.segs[partition] {
		rd, err := ipc.NewReader(io.NewSectionReader(s.f, sg.off, sg.n), ipc.WithAllocator(s.mem))
		if err != nil {
			return fmt.Errorf("writer: reading spilled rows of %s: %w", partition, err)
		}
		for rd.Next() {
			if err = fn(rd.RecordBatch()); err != nil {
				break
			}
		}
		if err == nil {
			err = rd.Err()
		}
		rd.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// bytes returns the size of the spill file.
func (s *spill) bytes() int64 { return s.off }

// close removes the spill file.
func (s *spill) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		err = errors.Join(err, os.Remove(s.name))
	}
	s.f, s.w, s.name = nil, nil, ""
	clear(s.segs)
	s.order = nil
	return err
}

// offsetWriter counts the bytes written through it into *n.
type offsetWriter struct {
	w io.Writer
	n *int64
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	*o.n += int64(n)
	return n, err
}
