package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/storage"
)

// TestVerifyWithoutLedger: an empty directory, a tree convert did not write
// and the parent of a real output (a mistyped --out) must not verify.
func TestVerifyWithoutLedger(t *testing.T) {
	empty := t.TempDir()
	rep, err := Verify(context.Background(), &storage.LocalSink{Root: empty})
	require.ErrorIs(t, err, ErrNoLedger)
	require.Contains(t, err.Error(), empty, "the message names the path")
	require.False(t, rep.OK)

	stray := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(stray, "year=2021"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stray, "year=2021", "x.parquet"), []byte("PAR1junkPAR1"), 0o644))
	rep, err = Verify(context.Background(), &storage.LocalSink{Root: stray})
	require.ErrorIs(t, err, ErrNoLedger)
	require.False(t, rep.OK)
	require.Equal(t, []string{"year=2021/x.parquet"}, rep.Extra)

	out, _, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, nil)
	require.NoError(t, err)
	_, err = Verify(context.Background(), &storage.LocalSink{Root: filepath.Dir(out)})
	require.ErrorIs(t, err, ErrNoLedger, "the parent of an output tree")
	rep, err = Verify(context.Background(), &storage.LocalSink{Root: out})
	require.NoError(t, err)
	require.True(t, rep.OK)
}
