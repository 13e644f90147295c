package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LocalSource reads a file, or every file under a directory, recursively.
// Names starting with "." are skipped, as are directories named in Exclude.
type LocalSource struct {
	Root    string   // a file or a directory
	Exclude []string // directories not to descend into (the output, if inside)
}

// List walks the tree in lexical order.
func (s *LocalSource) List(ctx context.Context, fn func(Object) error) error {
	st, err := os.Stat(s.Root)
	if err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	if !st.IsDir() {
		return fn(localObject(s.Root, st))
	}
	excluded := map[string]bool{}
	for _, e := range s.Exclude {
		if abs, err := filepath.Abs(e); err == nil {
			excluded[abs] = true
		}
	}
	return filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p != s.Root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if abs, err := filepath.Abs(p); err == nil && excluded[abs] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
		return fn(localObject(p, info))
	})
}

func localObject(p string, info fs.FileInfo) Object {
	return Object{
		Key:     filepath.ToSlash(p),
		Size:    info.Size(),
		ETag:    fmt.Sprintf("%x-%x", info.Size(), info.ModTime().UnixNano()),
		ModTime: info.ModTime(),
	}
}

// Open opens the file.
func (s *LocalSource) Open(_ context.Context, obj Object) (io.ReadCloser, error) {
	return os.Open(filepath.FromSlash(obj.Key))
}

func (s *LocalSource) String() string { return s.Root }

// LocalSink writes files under Root. A file is written as a hidden temporary
// (".name.tmp-…", which Athena and Hive skip) in its final directory, synced,
// and renamed into place on Commit.
type LocalSink struct {
	Root string
}

// Create starts a file at rel.
func (s *LocalSink) Create(_ context.Context, rel string) (File, error) {
	rel, err := CleanRel(rel)
	if err != nil {
		return nil, err
	}
	final := filepath.Join(s.Root, filepath.FromSlash(rel))
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	tmp := filepath.Join(dir, "."+filepath.Base(final)+".tmp-"+hex.EncodeToString(nonce[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", final, err)
	}
	return &localFile{f: f, tmp: tmp, final: final}, nil
}

type localFile struct {
	f          *os.File
	tmp, final string
	sealed     bool  // f is synced and closed (or that failed: sealErr)
	sealErr    error // a failed Seal; Commit then fails too
	done       bool
}

func (l *localFile) Write(p []byte) (int, error) {
	if l.sealed {
		return 0, errors.New("storage: write to a sealed file")
	}
	return l.f.Write(p)
}

// Seal implements Sealer: the temporary file is synced and its descriptor
// closed; Commit only renames it.
func (l *localFile) Seal() error {
	if l.done {
		return nil
	}
	if l.sealed {
		return l.sealErr
	}
	l.sealed = true
	if err := errors.Join(l.f.Sync(), l.f.Close()); err != nil {
		l.sealErr = fmt.Errorf("writing %s: %w", l.final, err)
	}
	return l.sealErr
}

func (l *localFile) Commit() error {
	if l.done {
		return errors.New("storage: commit of a finished file")
	}
	err := l.sealErr
	if !l.sealed {
		err = l.Seal()
	}
	l.done = true
	if err == nil {
		err = os.Rename(l.tmp, l.final)
	}
	if err != nil {
		os.Remove(l.tmp)
		return fmt.Errorf("committing %s: %w", l.final, err)
	}
	syncDir(filepath.Dir(l.final))
	return nil
}

func (l *localFile) Abort() error {
	if l.done {
		return nil
	}
	l.done = true
	if !l.sealed {
		l.f.Close()
	}
	if err := os.Remove(l.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes a rename durable. Errors are ignored: some file systems do not
// support syncing directories, and the rename itself has succeeded.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// List walks the files under rel (relative keys, lexical order), skipping
// hidden temporaries.
func (s *LocalSink) List(ctx context.Context, rel string, fn func(Object) error) error {
	start := s.Root
	if rel != "" {
		c, err := CleanRel(rel)
		if err != nil {
			return err
		}
		start = filepath.Join(s.Root, filepath.FromSlash(c))
	}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if strings.HasPrefix(d.Name(), ".") && p != start {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		r, err := filepath.Rel(s.Root, p)
		if err != nil {
			return err
		}
		obj := localObject(p, info)
		obj.Key = filepath.ToSlash(r)
		return fn(obj)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Open opens a committed file.
func (s *LocalSink) Open(_ context.Context, rel string) (io.ReadCloser, error) {
	c, err := CleanRel(rel)
	if err != nil {
		return nil, err
	}
	return os.Open(filepath.Join(s.Root, filepath.FromSlash(c)))
}

// Remove deletes a committed file.
func (s *LocalSink) Remove(_ context.Context, rel string) error {
	c, err := CleanRel(rel)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.Root, filepath.FromSlash(c))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *LocalSink) String() string { return s.Root }

// ReadRange reads n bytes at off of a committed file.
func (s *LocalSink) ReadRange(_ context.Context, rel string, off, n int64) ([]byte, error) {
	c, err := CleanRel(rel)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.Root, filepath.FromSlash(c)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}
