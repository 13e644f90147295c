package storage

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRangeFile reads a committed file through RangeFile as a Parquet
// reader does (the size by Seek, then ReadAt anywhere) and gets what the
// file holds, with io.EOF exactly where io.ReaderAt says.
func TestRangeFile(t *testing.T) {
	dir := t.TempDir()
	body := []byte("PAR1 0123456789abcdef PAR1")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f.parquet"), body, 0o644))
	f := NewRangeFile(context.Background(), &LocalSink{Root: dir}, "f.parquet", int64(len(body)))

	end, err := f.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), end)
	pos, err := f.Seek(-4, io.SeekCurrent)
	require.NoError(t, err)
	require.Equal(t, end-4, pos)
	_, err = f.Seek(-1, io.SeekStart)
	require.Error(t, err)

	p := make([]byte, 10)
	n, err := f.ReadAt(p, 5)
	require.NoError(t, err)
	require.Equal(t, body[5:15], p[:n])
	n, err = f.ReadAt(p, int64(len(body))-4)
	require.ErrorIs(t, err, io.EOF, "a short read at the end")
	require.Equal(t, body[len(body)-4:], p[:n])
	n, err = f.ReadAt(p, int64(len(body)))
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF)
	n, err = f.ReadAt(p[:0], 3)
	require.NoError(t, err)
	require.Equal(t, 0, n)

	_, err = NewRangeFile(context.Background(), &LocalSink{Root: dir}, "missing", 10).ReadAt(p, 0)
	require.Error(t, err)
}
