package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/s3test"
)

// crashInput generates a flow-log data set big enough that a conversion
// takes a while, with one unit per object so that kills land between unit
// commits as well as inside them.
func crashInput(t *testing.T) string {
	t.Helper()
	in := t.TempDir()
	_, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: in, Bytes: 12 << 20, Files: 12, Days: 2, Seed: 7})
	require.NoError(t, err)
	return in
}

// skipUnlessCI skips a crash test, except in CI (CI set, as .ci/run does),
// where a crash test that tested nothing fails.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format+"; a crash test must not pass without testing", args...)
	}
	t.Skipf(format, args...)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBinary starts convert and returns the command (not waited for).
func startBinary(t *testing.T, env []string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	return cmd, out
}

// treeDigest sums parquettest.Digest over a tree, per partition.
func treeDigest(t *testing.T, dir string) map[string][2]uint64 {
	t.Helper()
	out := map[string][2]uint64{}
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		p := filepath.ToSlash(filepath.Dir(f))
		rows, sum := parquettest.Digest(t, filepath.Join(dir, f))
		d := out[p]
		out[p] = [2]uint64{d[0] + uint64(rows), d[1] + sum}
	}
	return out
}

// TestKillAtManyPoints kills conversions with SIGKILL at many points of a
// run, reruns each to the end in the same output, and checks the result is
// the uninterrupted run's, row for row, and that verify finds nothing wrong.
// The points spread evenly over the run (units commit all along it, one per
// object), with one just after its end; they run two at a time, which makes
// each run slower, so that the points still fall inside it.
func TestKillAtManyPoints(t *testing.T) {
	if testing.Short() {
		skipUnlessCI(t, "slow")
	}
	in := crashInput(t)
	args := func(out string) []string {
		return []string{"flowlogs", "--in", in, "--out", out, "--unit-size", "1KiB", "--workers", "2", "--max-reject-ratio", "-1"}
	}
	clean := t.TempDir()
	start := time.Now()
	r := runBinary(t, nil, args(clean)...)
	require.Equal(t, 0, r.code, r.stderr)
	full := time.Since(start)
	want := treeDigest(t, clean)

	const points = 12
	var killed atomic.Int64
	t.Run("points", func(t *testing.T) {
		for i := 0; i < points; i++ {
			delay := full * time.Duration(11*i) / time.Duration(10*(points-1)) // 0 … 1.1× a full run
			t.Run(fmt.Sprint(delay.Round(time.Millisecond)), func(t *testing.T) {
				t.Parallel()
				out := t.TempDir()
				cmd, _ := startBinary(t, nil, args(out)...)
				time.Sleep(delay)
				_ = cmd.Process.Signal(syscall.SIGKILL)
				if err := cmd.Wait(); err != nil {
					killed.Add(1)
				}
				r := runBinary(t, nil, args(out)...)
				require.Equal(t, 0, r.code, "rerun after a kill at %v: %s", delay, r.stderr)
				require.Equal(t, want, treeDigest(t, out), "kill at %v", delay)
				v := runBinary(t, nil, "verify", "--out", out)
				require.Equal(t, 0, v.code, "verify after a kill at %v: %s", delay, v.stdout)
			})
		}
	})
	t.Logf("%d kill points over %v, %d runs killed before finishing", points, full, killed.Load())
	require.Greater(t, killed.Load(), int64(points/2), "kills must land inside the run")
}

// TestKillAgainstS3 does the same against the S3 server, over https.
func TestKillAgainstS3(t *testing.T) {
	if testing.Short() {
		skipUnlessCI(t, "slow")
	}
	srv := s3test.Start(t, true)
	srv.CreateBucket(t, "src")
	in := crashInput(t)
	srv.Upload(t, "src", in)
	s3args := func(out string) []string {
		return []string{"flowlogs", "--in", "s3://src/", "--out", "s3://" + out + "/", "--endpoint-url", srv.Endpoint,
			"--path-style", "--unit-size", "1KiB", "--workers", "2"}
	}
	srv.CreateBucket(t, "clean")
	start := time.Now()
	r := runBinary(t, srv.Env(), s3args("clean")...)
	require.Equal(t, 0, r.code, r.stderr)
	full := time.Since(start)
	want := treeDigest(t, func() string { d := t.TempDir(); srv.Download(t, "clean", "", d); return d }())

	const points = 8
	t.Run("points", func(t *testing.T) {
		for i := 0; i < points; i++ {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel() // a bucket each
				bucket := fmt.Sprintf("kill%d", i)
				srv.CreateBucket(t, bucket)
				cmd, _ := startBinary(t, srv.Env(), s3args(bucket)...)
				time.Sleep(full * time.Duration(i+1) / time.Duration(points+1))
				_ = cmd.Process.Signal(syscall.SIGKILL)
				_ = cmd.Wait()
				r := runBinary(t, srv.Env(), s3args(bucket)...)
				require.Equal(t, 0, r.code, r.stderr)
				got := t.TempDir()
				srv.Download(t, bucket, "", got)
				require.Equal(t, want, treeDigest(t, got), "kill point %d", i)
				v := runBinary(t, srv.Env(), "verify", "--out", "s3://"+bucket+"/", "--endpoint-url", srv.Endpoint, "--path-style")
				require.Equal(t, 0, v.code, v.stdout)
			})
		}
	})
}

// TestSIGTERMStopsCleanly sends SIGTERM mid-run: the exit status is 143,
// the reason is logged, and what is visible is only whole committed units.
func TestSIGTERMStopsCleanly(t *testing.T) {
	in := crashInput(t)
	out := t.TempDir()
	cmd, logs := startBinary(t, nil, "flowlogs", "--in", in, "--out", out, "--unit-size", "1KiB", "--workers", "1")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "converting") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	if err == nil {
		skipUnlessCI(t, "the run finished before the signal; machine too fast for this input")
	}
	require.Equal(t, exitSIGTERM, cmd.ProcessState.ExitCode(), logs.String())
	require.Contains(t, logs.String(), "interrupted")
	v := runBinary(t, nil, "verify", "--out", out)
	if v.code != 0 && strings.Contains(v.stderr, "no ledger") {
		// Stopped before the first commit: then nothing at all may be visible.
		require.Empty(t, parquettest.Files(t, out, ".parquet"), "no unit committed, yet files are visible")
	} else {
		require.Equal(t, 0, v.code, "only committed units are visible: %s", v.stdout)
	}
	for _, f := range listAll(t, out) {
		require.NotContains(t, f, ".tmp-", "no temporary file left")
	}
}

func listAll(t *testing.T, dir string) []string {
	var out []string
	require.NoError(t, walkFiles(dir, func(p string) { out = append(out, p) }))
	return out
}

func walkFiles(dir string, fn func(string)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := dir + "/" + e.Name()
		if e.IsDir() {
			if err := walkFiles(p, fn); err != nil {
				return err
			}
			continue
		}
		fn(strings.TrimPrefix(p, dir))
	}
	return nil
}
