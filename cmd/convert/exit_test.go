package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// s3Failing is an S3 endpoint on loopback that answers every request with
// the given status and S3 error code, and counts the requests.
func s3Failing(t *testing.T, status int, code string) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message><RequestId>1</RequestId></Error>`, code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

func s3TestEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// TestExitStatusTransient: storage errors that the SDK retried in vain exit
// 75, so that the state machines retry them; errors no retry fixes exit 1.
func TestExitStatusTransient(t *testing.T) {
	s3TestEnv(t)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return "http://" + addr
	}()
	internal, internalRequests := s3Failing(t, http.StatusInternalServerError, "InternalError")
	denied, deniedRequests := s3Failing(t, http.StatusForbidden, "AccessDenied")
	runs := func(endpoint string, extra ...string) []string {
		return append([]string{"flowlogs", "--in", "s3://src/AWSLogs/", "--out", t.TempDir(),
			"--endpoint-url", endpoint, "--path-style"}, extra...)
	}
	days := []string{"--from", "2024-01-01", "--to", "2024-01-02"}
	// The cases wait for the SDK's retries: they all run at once (more
	// than -parallel would run).
	type result struct {
		code   int
		stderr string
	}
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"connection refused", runs(closed), exitTempFail},
		{"500 InternalError, listing in the run", runs(internal), exitTempFail},
		{"500 InternalError, listing the days of --from/--to", runs(internal, days...), exitTempFail},
		{"403 AccessDenied", runs(denied), exitFailed},
		{"403 AccessDenied, listing the days of --from/--to", runs(denied, days...), exitFailed},
		// plan and a work item read from S3 follow the same rule.
		{"plan, 500 InternalError", []string{"plan", "flowlogs", "--in", "s3://src/AWSLogs/", "--out", "s3://dst/flowlogs/",
			"--endpoint-url", internal, "--path-style"}, exitTempFail},
		{"item of a plan, 500 InternalError", []string{"flowlogs", "--plan", "s3://dst/flowlogs/_plans/p.json", "--item-index", "0",
			"--endpoint-url", internal, "--path-style"}, exitTempFail},
		{"item of a plan, 403 AccessDenied", []string{"flowlogs", "--plan", "s3://dst/flowlogs/_plans/p.json", "--item-index", "0",
			"--endpoint-url", denied, "--path-style"}, exitUsage},
	}
	results := make([]result, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			results[i] = result{run(tc.args, &out, &errb), errb.String()}
		}()
	}
	wg.Wait()
	for i, tc := range cases {
		require.Equal(t, tc.want, results[i].code, "%s: %s", tc.name, results[i].stderr)
	}
	require.Greater(t, internalRequests.Load(), int64(2), "the SDK retried the 500s before giving up")
	require.Positive(t, deniedRequests.Load())
}

// TestExitStatusPermanent: bad input and usage errors keep 1 and 2.
func TestExitStatusPermanent(t *testing.T) {
	in := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(in, "bad.log.gz"), []byte("not gzip"), 0o644))
	code, _, stderr := runCLI(t, "flowlogs", "--in", in, "--out", t.TempDir())
	require.Equal(t, exitFailed, code, stderr)
	code, _, stderr = runCLI(t, "flowlogs", "--in", in, "--out", t.TempDir(), "--from", "yesterday")
	require.Equal(t, exitUsage, code, stderr)
}
