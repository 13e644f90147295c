package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/storage"
)

// TestStoppedRunSaysWhy: a run whose context is cancelled with a cause (the
// CLI's signal) fails with that cause, also when the step that noticed was
// taking the lease, before any unit.
func TestStoppedRunSaysWhy(t *testing.T) {
	stop := errors.New("interrupted: received terminated")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	s, err := Run(ctx, Config{Kind: &FlowLogs{}, Source: &storage.LocalSource{Root: testdataFlowLogs},
		Sink: &storage.LocalSink{Root: t.TempDir()}})
	require.ErrorIs(t, err, stop)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, StatusFailed, s.Status)
	require.Contains(t, s.Error, "interrupted")
}
