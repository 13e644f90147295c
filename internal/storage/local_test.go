package storage

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCleanRel(t *testing.T) {
	for _, ok := range []string{"a", "year=2024/month=01/x.parquet", "_rejects/x.jsonl.gz", "a/./b"} {
		_, err := CleanRel(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a/..", "a\\b", "a\x00b", ".", "a/../b"} {
		_, err := CleanRel(bad)
		require.ErrorIs(t, err, ErrUnsafePath, bad)
	}
}

func TestLocalSinkCommitAndAbort(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := &LocalSink{Root: root}

	f, err := s.Create(ctx, "year=2024/a.parquet")
	require.NoError(t, err)
	_, err = f.Write([]byte("data"))
	require.NoError(t, err)
	// Not visible before Commit; the temporary is hidden.
	_, err = os.Stat(filepath.Join(root, "year=2024/a.parquet"))
	require.True(t, os.IsNotExist(err))
	var listed []string
	require.NoError(t, s.List(ctx, "", func(o Object) error { listed = append(listed, o.Key); return nil }))
	require.Empty(t, listed)
	require.NoError(t, f.Commit())
	require.NoError(t, f.Abort(), "abort after commit is a no-op")

	g, err := s.Create(ctx, "year=2024/b.parquet")
	require.NoError(t, err)
	_, _ = g.Write([]byte("partial"))
	require.NoError(t, g.Abort())

	require.NoError(t, s.List(ctx, "", func(o Object) error { listed = append(listed, o.Key); return nil }))
	require.Equal(t, []string{"year=2024/a.parquet"}, listed)
	entries, err := os.ReadDir(filepath.Join(root, "year=2024"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporaries left behind")

	rc, err := s.Open(ctx, "year=2024/a.parquet")
	require.NoError(t, err)
	b, _ := io.ReadAll(rc)
	rc.Close()
	require.Equal(t, "data", string(b))

	_, err = s.Create(ctx, "../escape")
	require.ErrorIs(t, err, ErrUnsafePath)
	require.NoError(t, s.Remove(ctx, "year=2024/a.parquet"))
	require.NoError(t, s.Remove(ctx, "year=2024/a.parquet"), "removing a missing file is fine")
}

func TestLocalSourceListsRecursivelyInOrder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"b/2.log", "a/1.log", "a/.hidden", ".git/x", "out/skip.parquet", "c.log"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(p), 0o644))
	}
	src := &LocalSource{Root: root, Exclude: []string{filepath.Join(root, "out")}}
	var keys []string
	require.NoError(t, src.List(context.Background(), func(o Object) error {
		rel, _ := filepath.Rel(root, o.Key)
		keys = append(keys, filepath.ToSlash(rel))
		require.Equal(t, int64(len(filepath.ToSlash(rel))), o.Size)
		return nil
	}))
	require.Equal(t, []string{"a/1.log", "b/2.log", "c.log"}, keys)

	single := &LocalSource{Root: filepath.Join(root, "c.log")}
	keys = nil
	require.NoError(t, single.List(context.Background(), func(o Object) error { keys = append(keys, o.Key); return nil }))
	require.Len(t, keys, 1)
}

func TestLocalFileSealReleasesDescriptor(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := &LocalSink{Root: root}
	f, err := s.Create(ctx, "p/a.parquet")
	require.NoError(t, err)
	_, err = f.Write([]byte("data"))
	require.NoError(t, err)
	lf := f.(*localFile)
	require.NoError(t, f.(Sealer).Seal())
	// The descriptor is closed: using it fails.
	_, err = lf.f.Stat()
	require.ErrorIs(t, err, os.ErrClosed)
	_, err = f.Write([]byte("more"))
	require.Error(t, err, "write after seal")
	require.NoError(t, f.(Sealer).Seal(), "sealing twice is fine")
	_, err = os.Stat(filepath.Join(root, "p/a.parquet"))
	require.True(t, os.IsNotExist(err), "not visible before commit")
	require.NoError(t, f.Commit())
	b, err := os.ReadFile(filepath.Join(root, "p/a.parquet"))
	require.NoError(t, err)
	require.Equal(t, "data", string(b))

	g, err := s.Create(ctx, "p/b.parquet")
	require.NoError(t, err)
	_, _ = g.Write([]byte("x"))
	require.NoError(t, g.(Sealer).Seal())
	require.NoError(t, g.Abort())
	entries, err := os.ReadDir(filepath.Join(root, "p"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "the sealed, aborted temporary is removed")
}

func TestLocalFileFailedSealIsNeverPublished(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := &LocalSink{Root: root}
	f, err := s.Create(ctx, "p/a.parquet")
	require.NoError(t, err)
	require.NoError(t, f.(*localFile).f.Close()) // the descriptor fails under it
	require.Error(t, f.(Sealer).Seal())
	require.Error(t, f.(Sealer).Seal(), "the failure stays")
	require.Error(t, f.Commit())
	_, err = os.Stat(filepath.Join(root, "p/a.parquet"))
	require.True(t, os.IsNotExist(err), "a file that failed to seal is not published")
	entries, err := os.ReadDir(filepath.Join(root, "p"))
	require.NoError(t, err)
	require.Empty(t, entries, "nor is its temporary left behind")
}

// TestLocalSourceLinks: keys are resolved absolute paths whatever the
// spelling of the root; links inside the tree are listed as skipped; an
// output reached through a link is still excluded.
func TestLocalSourceLinks(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	for _, p := range []string{"a/1.log", "sub/out/_convert/x.json", "sub/out/year=2024/f.parquet"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(real, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(real, p), []byte(p), 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(real, "a", "1.log"), filepath.Join(real, "a", "2.log")))
	require.NoError(t, os.Symlink(real, filepath.Join(root, "in")))
	require.NoError(t, os.Symlink(filepath.Join(real, "sub"), filepath.Join(root, "alias")))
	t.Chdir(root)
	for _, in := range []string{"in", "in/", "./real", real} {
		src := &LocalSource{Root: in, Exclude: []string{filepath.Join("alias", "out")}}
		var keys, skipped []string
		require.NoError(t, src.List(context.Background(), func(o Object) error {
			if o.Skip != "" {
				skipped = append(skipped, o.Key+": "+o.Skip)
			} else {
				keys = append(keys, o.Key)
			}
			return nil
		}))
		require.Equal(t, []string{filepath.ToSlash(filepath.Join(real, "a", "1.log"))}, keys, in)
		require.Equal(t, []string{filepath.ToSlash(filepath.Join(real, "a", "2.log")) + ": symbolic link (not followed)"}, skipped, in)
		require.Equal(t, keys[0], src.CanonicalKey("real/a/1.log"), "a key recorded relative to the working directory")
	}
}

// TestLocalETagSeesRewrites: a same-size rewrite with the modification
// time put back changes the ETag.
func TestLocalETagSeesRewrites(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "f.log")
	require.NoError(t, os.WriteFile(p, []byte("aaaa"), 0o644))
	etag := func() string {
		var tag string
		require.NoError(t, (&LocalSource{Root: p}).List(context.Background(), func(o Object) error { tag = o.ETag; return nil }))
		return tag
	}
	before := etag()
	st, err := os.Stat(p)
	require.NoError(t, err)
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, os.WriteFile(p, []byte("bbbb"), 0o644))
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
	require.NotEqual(t, before, etag())
}

// TestLocalSinkListGoesOnPastRemovedFiles: a file or folder removed while
// List walks (a run withdrawing its lease while another reads the leases)
// is left out, and the listing goes on to the files after it instead of
// ending there without an error.
func TestLocalSinkListGoesOnPastRemovedFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := &LocalSink{Root: root}
	for _, rel := range []string{"d/a.json", "d/b.json", "d/c.json", "d/e/x.json", "d/f.json", "g/y.json"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte("{}"), 0o644))
	}
	var listed []string
	require.NoError(t, s.List(ctx, "", func(o Object) error {
		if o.Key == "d/a.json" {
			// Both read with their folder already; gone before their turn.
			require.NoError(t, os.Remove(filepath.Join(root, "d/b.json")))
			require.NoError(t, os.RemoveAll(filepath.Join(root, "d/e")))
		}
		listed = append(listed, o.Key)
		return nil
	}))
	require.Equal(t, []string{"d/a.json", "d/c.json", "d/f.json", "g/y.json"}, listed)

	// A folder never written lists as empty; an error of fn is not taken
	// for one.
	require.NoError(t, s.List(ctx, "none/", func(Object) error { t.Fatal("listed from nothing"); return nil }))
	err := s.List(ctx, "d/", func(Object) error { return fmt.Errorf("reading: %w", fs.ErrNotExist) })
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestLocalSourceListGoesOnPastRemovedFiles: an input file or folder removed
// while the walk goes on does not fail the listing; the file is listed as
// skipped, so that the summary counts it. A missing root still fails.
func TestLocalSourceListGoesOnPastRemovedFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	for _, rel := range []string{"d/a.log", "d/b.log", "d/c.log", "d/e/x.log", "d/f.log", "g/y.log"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte("x"), 0o644))
	}
	real, err := filepath.EvalSymlinks(root)
	require.NoError(t, err)
	key := func(rel string) string { return filepath.ToSlash(filepath.Join(real, rel)) }
	var listed, skipped []string
	require.NoError(t, (&LocalSource{Root: root}).List(ctx, func(o Object) error {
		if o.Key == key("d/a.log") {
			// Both read with their folder already; gone before their turn.
			require.NoError(t, os.Remove(filepath.Join(root, "d/b.log")))
			require.NoError(t, os.RemoveAll(filepath.Join(root, "d/e")))
		}
		if o.Skip != "" {
			skipped = append(skipped, o.Key+": "+o.Skip)
		} else {
			listed = append(listed, o.Key)
		}
		return nil
	}))
	require.Equal(t, []string{key("d/a.log"), key("d/c.log"), key("d/f.log"), key("g/y.log")}, listed)
	require.Equal(t, []string{key("d/b.log") + ": " + SkipRemovedWhileListing}, skipped)

	err = (&LocalSource{Root: filepath.Join(root, "none")}).List(ctx, func(Object) error { return nil })
	require.ErrorIs(t, err, fs.ErrNotExist)
}
