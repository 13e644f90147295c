package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LocalSource reads a file, or every file under a directory, recursively.
// Names starting with "." are skipped, as are directories named in Exclude.
//
// An object's key is its absolute path with every symbolic link of the root
// resolved, so that the same file has the same key however --in was spelled
// (data, ./data/, /abs/data, a link to it): the ledger then recognises it.
// Symbolic links inside the tree are not followed; they are listed with a
// Skip reason so that the summary counts them.
//
// A file removed while the walk goes on (a producer rotating or moving
// files) is listed with the Skip reason SkipRemovedWhileListing; a folder
// removed before the walk reached it is not listed. Only a root that is not
// there fails the listing.
type LocalSource struct {
	Root    string   // a file or a directory
	Exclude []string // directories not to descend into (the output, if inside)
}

// SkipRemovedWhileListing is the Skip reason of a file the walk saw in its
// folder but that was gone when it looked at it.
const SkipRemovedWhileListing = "removed while listing"

// List walks the tree in lexical order.
func (s *LocalSource) List(ctx context.Context, fn func(Object) error) error {
	root, err := resolvePath(s.Root)
	if err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	if !st.IsDir() {
		return fn(localObject(root, st))
	}
	excluded := map[string]bool{}
	for _, e := range s.Exclude {
		// Resolved too: an output reached through a link inside the input
		// is the same directory as the walk meets it.
		if r, err := resolvePath(e); err == nil {
			excluded[r] = true
		}
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != root && errors.Is(err, fs.ErrNotExist) {
				// A folder removed after its parent was read: as for a
				// file, what is gone when the walk gets there is not input.
				return nil
			}
			return fmt.Errorf("reading input: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if excluded[p] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			reason := "not a regular file"
			if d.Type()&fs.ModeSymlink != 0 {
				reason = "symbolic link (not followed)"
			}
			return fn(Object{Key: filepath.ToSlash(p), Skip: reason})
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			// Removed since its folder was read (a producer rotating or
			// moving files while the run lists): listed as skipped, so the
			// summary shows it, rather than failing the run.
			return fn(Object{Key: filepath.ToSlash(p), Skip: SkipRemovedWhileListing})
		}
		if err != nil {
			return fmt.Errorf("reading input: %w", err)
		}
		return fn(localObject(p, info))
	})
}

// resolvePath returns the absolute form of p with its symbolic links
// resolved; a path that does not exist is only made absolute.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r, nil
	}
	return abs, nil
}

// CanonicalKey returns the key List gives the file at p (a key an older
// version recorded as the path was spelled, relative to the working
// directory): the ledger compares keys in this form.
func (s *LocalSource) CanonicalKey(p string) string {
	if filepath.IsAbs(filepath.FromSlash(p)) {
		return p
	}
	r, err := resolvePath(filepath.FromSlash(p))
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// localObject describes a listed file. Its ETag changes whenever the file
// may have: it covers the size, the modification time, the change time and
// the inode, so a rewrite that keeps the size and restores the modification
// time (cp -p, touch -r, rsync -t) is seen as a change, without reading the
// file. A chmod or a move to another disk also changes it; converting such
// a file again is harmless.
func localObject(p string, info fs.FileInfo) Object {
	return Object{
		Key:     filepath.ToSlash(p),
		Size:    info.Size(),
		ETag:    fmt.Sprintf("%x-%x%s", info.Size(), info.ModTime().UnixNano(), statTag(info)),
		ModTime: info.ModTime(),
	}
}

// Open opens the file.
func (s *LocalSource) Open(_ context.Context, obj Object) (io.ReadCloser, error) {
	return os.Open(filepath.FromSlash(obj.Key))
}

func (s *LocalSource) String() string { return s.Root }

// LocalSink writes files under Root. A file is written as a hidden temporary
// (".name.tmp-<owner>-…", which Athena and Hive skip) in its final directory,
// synced, and renamed into place on Commit. The owner part names the host and
// process, so that RemoveStaleTemps can tell the temporaries of a killed
// process from those of a live one.
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
	tmp := filepath.Join(dir, "."+filepath.Base(final)+tempMarker+tempOwner+"-"+hex.EncodeToString(nonce[:]))
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
// hidden temporaries. A file or folder removed while the walk runs is left
// out and the walk goes on: the listing shows every file present from its
// start to its end, as an S3 listing does. (Stopping there instead would cut
// the listing short without an error: a run reading the leases would miss a
// live run's lease behind one being withdrawn.)
func (s *LocalSink) List(ctx context.Context, rel string, fn func(Object) error) error {
	start := s.Root
	if rel != "" {
		c, err := CleanRel(rel)
		if err != nil {
			return err
		}
		start = filepath.Join(s.Root, filepath.FromSlash(c))
	}
	return filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile, or (start) nothing written there yet
			}
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
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since its folder was read
		}
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
}

const tempMarker = ".tmp-"

// tempOwner is this process's part of its temporary names: a hash of the
// host name and the process id.
var tempOwner = func() string {
	host, _ := os.Hostname()
	return HostTag(host) + "-" + strconv.Itoa(os.Getpid())
}()

// HostTag is the host part of a temporary's owner: a hash of the host name.
func HostTag(host string) string {
	h := fnv.New32a()
	h.Write([]byte(host))
	return fmt.Sprintf("%08x", h.Sum32())
}

// StaleTempAge is how old the temporary of another host must be before
// RemoveStaleTemps removes it: the liveness of a process elsewhere cannot be
// checked.
const StaleTempAge = 24 * time.Hour

// RemoveStaleTemps deletes the temporaries that killed processes left under
// the root: those of this host whose process is gone, and those of other
// hosts not modified for StaleTempAge. It returns how many it removed.
func (s *LocalSink) RemoveStaleTemps(ctx context.Context) (int, error) {
	myHost := strings.SplitN(tempOwner, "-", 2)[0]
	removed := 0
	err := filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := d.Name()
		i := strings.LastIndex(name, tempMarker)
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasPrefix(name, ".") || i < 0 {
			return nil
		}
		owner := strings.Split(name[i+len(tempMarker):], "-")
		stale := false
		if len(owner) == 3 && owner[0] == myHost {
			pid, err := strconv.Atoi(owner[1])
			stale = err == nil && !ProcessAlive(pid)
		} else if info, err := d.Info(); err == nil {
			stale = time.Since(info.ModTime()) > StaleTempAge
		}
		if stale {
			if err := os.Remove(p); err == nil {
				removed++
			}
		}
		return nil
	})
	return removed, err
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
