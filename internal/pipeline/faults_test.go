package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"convert/internal/s3test"
	"convert/internal/storage"
)

// TestS3Faults converts through a fault-injecting transport at several fault
// rates. Every run must either succeed with exactly the rows of a clean run,
// or fail with an error; in both cases the output must verify (no partial
// unit visible), and a rerun without faults must then give the clean rows.
func TestS3Faults(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	clean := t.TempDir()
	_, err := runInto(t, testdataFlowLogs, clean, &FlowLogs{}, nil)
	require.NoError(t, err)
	want := outputRows(t, clean)

	srv := s3test.Start(t, true)
	srv.CreateBucket(t, "src")
	srv.Upload(t, "src", testdataFlowLogs)
	var injected, succeeded, failed atomic.Int64
	rates := []float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.5}
	t.Run("runs", func(t *testing.T) {
		for i := 0; i < 2*len(rates); i++ {
			rate := rates[i%len(rates)]
			t.Run(fmt.Sprintf("rate=%.2f/seed=%d", rate, i), func(t *testing.T) {
				t.Parallel()
				bucket := fmt.Sprintf("dst%d", i)
				srv.CreateBucket(t, bucket)
				faults := s3test.NewFaults(rate, uint64(i), s3test.SlowDown, s3test.ResetBefore, s3test.Truncate)
				client := func(wrap bool) *storage.S3Client {
					cfg := storage.S3Config{Region: srv.Region, EndpointURL: srv.Endpoint, PathStyle: true,
						Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
						CACertsPEM:  srv.CAPEM, MaxAttempts: 4,
						// Retry soon: what is tested is the outcome of the faults, not the waits.
						MaxBackoff: 20 * time.Millisecond}
					if wrap {
						cfg.WrapHTTPClient = func(c aws.HTTPClient) aws.HTTPClient { faults.Next = c; return faults }
					}
					c, err := storage.NewS3Client(context.Background(), cfg)
					require.NoError(t, err)
					return c
				}
				run := func(c *storage.S3Client) error {
					_, err := runInto(t, testdataFlowLogs, t.TempDir(), &FlowLogs{}, func(cfg *Config) {
						cfg.Source = &storage.S3Source{Client: c, Bucket: "src"}
						cfg.Sink = &storage.S3Sink{Client: c, Bucket: bucket}
						cfg.UnitBytes = 1 // one unit per object: more commits to fail in
					})
					return err
				}
				err := run(client(true))
				injected.Add(faults.Total())
				got := t.TempDir()
				srv.Download(t, bucket, "", got)
				rep, verr := Verify(context.Background(), &storage.LocalSink{Root: got})
				if err != nil && errors.Is(verr, ErrNoLedger) {
					verr = nil // the run failed before its first commit: nothing to verify, and Extra must be empty
				}
				require.NoError(t, verr)
				// A failed commit takes its files back; where that failed too,
				// its pending record names them, for the next run to remove.
				pendingFiles := map[string]bool{}
				for _, p := range jsonFilesUnder(t, filepath.Join(got, LedgerDir, "flowlogs", "pending")) {
					var u UnitRecord
					data, err := os.ReadFile(p)
					require.NoError(t, err)
					require.NoError(t, json.Unmarshal(data, &u))
					for _, f := range u.paths() {
						pendingFiles[f] = true
					}
				}
				for _, f := range rep.Extra {
					require.True(t, pendingFiles[f], "%s is outside a committed unit and no pending record names it", f)
				}
				require.Empty(t, rep.Missing)
				require.Empty(t, rep.Corrupt)
				if err == nil {
					succeeded.Add(1)
					require.Equal(t, want, outputRows(t, got))
				} else {
					failed.Add(1)
					t.Logf("failed cleanly after %d faults: %v", faults.Total(), err)
				}
				require.NoError(t, run(client(false)), "a rerun without faults")
				again := t.TempDir()
				srv.Download(t, bucket, "", again)
				require.Equal(t, want, outputRows(t, again))
			})
		}
	})
	t.Logf("faults injected: %d; runs that completed correctly: %d; runs that failed cleanly: %d", injected.Load(), succeeded.Load(), failed.Load())
}
