package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/storage"
)

// outputRows returns every row of every Parquet file under dir, as sorted
// JSON strings prefixed by the partition: duplicates and losses both show.
func outputRows(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		p := filepath.ToSlash(filepath.Dir(f))
		for _, r := range parquettest.Read(t, filepath.Join(dir, f)).Rows {
			js, _ := json.Marshal(r)
			out = append(out, p+" "+string(js))
		}
	}
	sort.Strings(out)
	return out
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func TestIncremental(t *testing.T) {
	in := copyTree(t, testdataFlowLogs)
	out := t.TempDir()
	incr := func(c *Config) { c.Incremental = true }
	want := outputRows(t, func() string {
		o, _, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, nil)
		require.NoError(t, err)
		return o
	}())

	s, err := runInto(t, in, out, &FlowLogs{}, incr)
	require.NoError(t, err)
	require.Equal(t, int64(4), s.ObjectsRead)
	require.Equal(t, want, outputRows(t, out))

	// Nothing new: nothing converted, nothing changed.
	s, err = runInto(t, in, out, &FlowLogs{}, incr)
	require.NoError(t, err)
	require.Equal(t, int64(0), s.ObjectsRead)
	require.Equal(t, int64(4), s.ObjectsSkipped["already converted (--incremental)"])
	require.Equal(t, want, outputRows(t, out))

	// A late object for an old day: only it is converted.
	late := filepath.Join(in, "AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04/123456789012_vpcflowlogs_cn-north-1_fl-0a1b2c3d_20211204T2355Z_1a2b3c4d.log")
	require.NoError(t, os.WriteFile(late, []byte("version start action\n2 1638661990 ACCEPT\n2 1638661991 REJECT\n"), 0o644))
	s, err = runInto(t, in, out, &FlowLogs{}, incr)
	require.NoError(t, err)
	require.Equal(t, int64(1), s.ObjectsRead)
	require.Equal(t, int64(2), s.RecordsWritten)
	rows := outputRows(t, out)
	require.Len(t, rows, len(want)+2)

	// A changed object: reported, its unit converted again, no duplicates.
	require.NoError(t, os.WriteFile(late, []byte("version start action\n2 1638661990 ACCEPT\n"), 0o644))
	s, err = runInto(t, in, out, &FlowLogs{}, incr)
	require.NoError(t, err)
	require.Equal(t, int64(1), s.ChangedCount)
	require.Len(t, outputRows(t, out), len(want)+1)
}

func TestRegroupingReplacesEarlierUnits(t *testing.T) {
	out := t.TempDir()
	_, err := runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	want := outputRows(t, out)
	// One object per unit now: every earlier unit of the two-object day is
	// replaced, and no row appears twice.
	s, err := runInto(t, testdataFlowLogs, out, &FlowLogs{}, func(c *Config) { c.UnitBytes = 1 })
	require.NoError(t, err)
	require.Equal(t, int64(1), s.SupersededUnits)
	require.Equal(t, want, outputRows(t, out))
	// And back.
	s, err = runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(2), s.SupersededUnits)
	require.Equal(t, want, outputRows(t, out))
}

// failingSink fails the n-th Commit of an output object (Parquet, rejects or
// ledger record), like a crash at that point.
type failingSink struct {
	storage.Sink
	n     int64
	count atomic.Int64
}

var errInjected = errors.New("injected failure")

func (s *failingSink) Create(ctx context.Context, rel string) (storage.File, error) {
	f, err := s.Sink.Create(ctx, rel)
	if err != nil {
		return nil, err
	}
	return &failingFile{File: f, s: s}, nil
}

type failingFile struct {
	storage.File
	s *failingSink
}

func (f *failingFile) Commit() error {
	if f.s.count.Add(1) == f.s.n {
		f.File.Abort()
		return errInjected
	}
	return f.File.Commit()
}

// TestFailureAtEveryCommitPoint fails a run at each commit it makes in turn
// (a file, a rejects file, a pending or ledger record), reruns it, and checks
// the output equals an uninterrupted run: no row lost, none twice.
func TestFailureAtEveryCommitPoint(t *testing.T) {
	clean := t.TempDir()
	_, err := runInto(t, testdataFlowLogs, clean, &FlowLogs{}, func(c *Config) { c.Workers = 1 })
	require.NoError(t, err)
	want := outputRows(t, clean)
	for n := int64(1); ; n++ {
		out := t.TempDir()
		fs := &failingSink{Sink: &storage.LocalSink{Root: out}, n: n}
		_, err := runInto(t, testdataFlowLogs, out, &FlowLogs{}, func(c *Config) { c.Sink = fs; c.Workers = 1 })
		if err == nil {
			require.Greater(t, n, int64(10), "the run commits files, rejects and records")
			return
		}
		require.ErrorIs(t, err, errInjected)
		_, err = runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
		require.NoError(t, err, "rerun after failing at commit %d", n)
		require.Equal(t, want, outputRows(t, out), "after failing at commit %d", n)
		for _, f := range parquettest.Files(t, out, "") {
			require.False(t, strings.Contains(f, "/pending/"), "pending record left: %s", f)
		}
	}
}

func TestVerify(t *testing.T) {
	out, _, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, nil)
	require.NoError(t, err)
	sink := &storage.LocalSink{Root: out}
	rep, err := Verify(context.Background(), sink)
	require.NoError(t, err)
	require.True(t, rep.OK, "%+v", rep)
	require.Equal(t, 3, rep.Units)
	require.Equal(t, int64(482), rep.Rows)
	files := parquettest.Files(t, out, ".parquet")

	// A missing file, an extra file, a corrupt file, a pending commit.
	require.NoError(t, os.Remove(filepath.Join(out, files[0])))
	require.NoError(t, os.WriteFile(filepath.Join(out, "year=2021/month=12/day=04/stray.parquet"), []byte("PAR1junkPAR1"), 0o644))
	data, err := os.ReadFile(filepath.Join(out, files[1]))
	require.NoError(t, err)
	data[len(data)-10] ^= 0xff // inside the footer
	require.NoError(t, os.WriteFile(filepath.Join(out, files[1]), data, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(out, LedgerDir, "flowlogs", "pending"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, LedgerDir, "flowlogs", "pending", "abc.json"), []byte("{}"), 0o644))

	rep, err = Verify(context.Background(), sink)
	require.NoError(t, err)
	require.False(t, rep.OK)
	require.Equal(t, []string{files[0]}, rep.Missing)
	require.Equal(t, []string{"year=2021/month=12/day=04/stray.parquet"}, rep.Extra)
	require.Len(t, rep.Corrupt, 1)
	require.Equal(t, files[1], rep.Corrupt[0].Path)
	require.Equal(t, []string{"abc"}, rep.Pending)
}
