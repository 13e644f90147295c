package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Object is one stored object.
type Object struct {
	Key     string    // full key (S3) or slash-separated path (local)
	Size    int64     // bytes as stored (compressed, if it is)
	ETag    string    // S3 entity tag; for local files a tag of size, times and inode (see LocalSource)
	ModTime time.Time // last modification
	// Skip, when set, says why a listed entry is not input (a symbolic link,
	// say): the pipeline counts it under that reason and does not open it.
	Skip string
}

// Source lists and opens input objects.
type Source interface {
	// List calls fn for each object under the source in lexical key order.
	// An error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(Object) error) error
	// Open returns the object's bytes. The caller closes it.
	Open(ctx context.Context, obj Object) (io.ReadCloser, error)
	// String names the source for logs and the summary.
	String() string
}

// Sink writes output objects under a root.
type Sink interface {
	// Create starts an object at rel, a slash-separated path under the root.
	// Nothing is visible at rel until Commit succeeds.
	Create(ctx context.Context, rel string) (File, error)
	// List calls fn for each object under the prefix rel, in key order; the
	// Keys passed to fn are relative to the root. It shows every object
	// present from its start to its end (one written or removed meanwhile
	// may or may not be shown): the pipeline's leases rely on it.
	List(ctx context.Context, rel string, fn func(Object) error) error
	// Open reads a committed object.
	Open(ctx context.Context, rel string) (io.ReadCloser, error)
	// Remove deletes a committed object; a missing one is not an error.
	Remove(ctx context.Context, rel string) error
	// String names the sink (its root) for logs and the summary.
	String() string
}

// WriteObject writes data as the whole object rel of sink and commits it;
// if the write fails, nothing is visible at rel.
func WriteObject(ctx context.Context, sink Sink, rel string, data []byte) error {
	f, err := sink.Create(ctx, rel)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// File is an output object being written.
type File interface {
	io.Writer
	// Commit makes the object visible under its name. The File is unusable
	// afterwards.
	Commit() error
	// Abort discards what was written. It is a no-op after Commit or Abort.
	Abort() error
}

// Sealer is implemented by Files that can give back what they hold (an open
// descriptor, a buffered part) once written to the end, before Commit. A
// writer with many finished files awaiting one commit seals each as it
// finishes, so they do not add up.
type Sealer interface {
	// Seal ends writing: Write fails afterwards; Commit and Abort work as
	// before.
	Seal() error
}

// ErrUnsafePath is returned for an output path that is absolute or climbs out
// of the output root.
var ErrUnsafePath = errors.New("storage: unsafe output path")

// CleanRel checks and cleans a relative output path: it must not be absolute,
// contain ".." segments, backslashes or NUL bytes, or be empty.
func CleanRel(rel string) (string, error) {
	if rel == "" || strings.ContainsAny(rel, "\\\x00") || strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, rel)
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%w: %q", ErrUnsafePath, rel)
		}
	}
	c := path.Clean(rel)
	if c == "." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, rel)
	}
	return c, nil
}

// RangeReader is implemented by sinks that can read part of a committed
// object, so that Parquet footers can be checked without reading whole files.
type RangeReader interface {
	ReadRange(ctx context.Context, rel string, off, n int64) ([]byte, error)
}
