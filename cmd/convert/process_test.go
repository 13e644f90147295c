package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/pipeline"
	"convert/internal/s3test"
	"convert/internal/storage"
)

// binary is the convert command built for tests that run it as a process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "convert-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "convert")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building convert: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// partitionRows reads every Parquet file under dir and returns, per
// partition, its rows as sorted JSON strings.
func partitionRows(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		p := filepath.ToSlash(filepath.Dir(f))
		for _, r := range parquettest.Read(t, filepath.Join(dir, f)).Rows {
			js, _ := json.Marshal(r)
			out[p] = append(out[p], string(js))
		}
	}
	for p := range out {
		sort.Strings(out[p])
	}
	return out
}

// TestS3ToS3MatchesLocal converts the testdata from one bucket to another
// through a real S3 server, over http and https, and checks that the Parquet
// holds exactly what a local-to-local run writes.
func TestS3ToS3MatchesLocal(t *testing.T) {
	localOut := t.TempDir()
	r := runBinary(t, nil, "flowlogs", "--in", flowTestdata, "--out", localOut)
	require.Equal(t, 0, r.code, r.stderr)
	want := partitionRows(t, localOut)

	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			srv := s3test.Start(t, tls)
			srv.CreateBucket(t, "src")
			srv.CreateBucket(t, "dst")
			srv.Upload(t, "src", flowTestdata)
			r := runBinary(t, srv.Env(), "flowlogs", "--in", "s3://src/", "--out", "s3://dst/flow/",
				"--endpoint-url", srv.Endpoint, "--path-style", "--summary-out", "s3://dst/summaries/run.json")
			require.Equal(t, 0, r.code, r.stderr)
			s := summaryOf(t, r.stdout)
			require.True(t, s.Balanced)
			require.Equal(t, int64(482), s.RecordsWritten)

			got := t.TempDir()
			keys := srv.Download(t, "dst", "flow/", got)
			require.Equal(t, want, partitionRows(t, got))
			require.Len(t, s.RejectsFiles, 1)
			require.Contains(t, keys, s.RejectsFiles[0])
			for _, k := range keys {
				require.NotContains(t, k, ".tmp")
			}
			summary := t.TempDir()
			srv.Download(t, "dst", "summaries/", summary)
			data, err := os.ReadFile(filepath.Join(summary, "run.json"))
			require.NoError(t, err)
			require.Equal(t, strings.TrimSpace(r.stdout), strings.TrimSpace(string(data)))
		})
	}
}

// TestS3FromToListsOnlyThoseDays checks that --from/--to prunes the S3 listing
// to day prefixes: objects of other days are never even listed.
func TestS3FromToListsOnlyThoseDays(t *testing.T) {
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "src")
	srv.Upload(t, "src", flowTestdata)
	r := runBinary(t, srv.Env(), "flowlogs", "--in", "s3://src/AWSLogs/", "--out", t.TempDir(),
		"--endpoint-url", srv.Endpoint, "--path-style", "--from", "2021-12-05", "--to", "2021-12-05")
	require.Equal(t, 0, r.code, r.stderr)
	s := summaryOf(t, r.stdout)
	require.Equal(t, int64(1), s.ObjectsListed, "only the 2021/12/05 prefix was listed")
	require.Equal(t, int64(250), s.RecordsRead)
}

// TestS3FromToWithoutObjectsListsNothing: a range with no delivered
// objects lists no prefix at all (it used to list base+"\x00none", which
// S3-compatible stores reject), and the run succeeds with nothing to do.
func TestS3FromToWithoutObjectsListsNothing(t *testing.T) {
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "src")
	srv.Upload(t, "src", flowTestdata)
	for _, args := range [][]string{
		{"flowlogs", "--out", t.TempDir()},
		{"plan", "flowlogs", "--out", "s3://src/out/"},
	} {
		args = append(args, "--in", "s3://src/AWSLogs/", "--endpoint-url", srv.Endpoint, "--path-style",
			"--from", "2019-01-01", "--to", "2019-12-31", "--log-level", "debug")
		r := runBinary(t, srv.Env(), args...)
		require.Equal(t, 0, r.code, r.stderr)
		require.NotContains(t, r.stderr, "none", "no impossible prefix listed")
		if args[0] == "plan" {
			require.JSONEq(t, "[]", r.stdout)
			continue
		}
		s := summaryOf(t, r.stdout)
		require.Equal(t, "ok", s.Status)
		require.Zero(t, s.ObjectsListed)
	}

	// What prune itself does: no prefix to list, a source that lists nothing.
	ctx := context.Background()
	c, err := storage.NewS3Client(ctx, storage.S3Config{EndpointURL: srv.Endpoint, PathStyle: true,
		Region: "us-east-1", Credentials: srv.Credentials()})
	require.NoError(t, err)
	src := &storage.S3Source{Client: c, Bucket: "src", Prefix: "AWSLogs/"}
	cfg := pipeline.Config{Source: src, From: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)}
	prefixes, err := prune(ctx, src, "flowlogs", &cfg, nil)
	require.NoError(t, err)
	require.Empty(t, prefixes)
	require.Empty(t, src.Prefixes)
	require.Equal(t, src.String(), cfg.Source.String())
	require.NoError(t, cfg.Source.List(ctx, func(o storage.Object) error { return fmt.Errorf("listed %s", o.Key) }))
}

func TestUnreachableEndpointFailsQuickly(t *testing.T) {
	start := time.Now()
	r := runBinary(t, []string{"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_REGION=cn-north-1"},
		"flowlogs", "--in", "s3://src/", "--out", t.TempDir(), "--endpoint-url", "http://127.0.0.1:1", "--path-style")
	require.Equal(t, exitTempFail, r.code, "a refused connection may well succeed later")
	require.Less(t, time.Since(start), 30*time.Second)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Contains(t, lines[len(lines)-1], "127.0.0.1:1")
}

// TestDistributedMapLocally plays a Step Functions Distributed Map: plan,
// run every item as its own process, all at once, and check that together
// they wrote exactly the rows of a single-process run.
func TestDistributedMapLocally(t *testing.T) {
	single := t.TempDir()
	r := runBinary(t, nil, "flowlogs", "--in", flowTestdata, "--out", single)
	require.Equal(t, 0, r.code, r.stderr)

	out := t.TempDir()
	r = runBinary(t, nil, "plan", "flowlogs", "--in", flowTestdata, "--out", out, "--target-bytes", "1")
	require.Equal(t, 0, r.code, r.stderr)
	var items []pipeline.Item
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &items))
	require.Len(t, items, 4, "one item per object with a 1-byte target")
	seen := map[string]bool{}
	for _, it := range items {
		for _, rg := range it.Ranges {
			require.False(t, seen[rg.Last], "items are disjoint")
			seen[rg.Last] = true
		}
	}
	var wg sync.WaitGroup
	results := make([]result, len(items))
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			js, _ := json.Marshal(it)
			if i%2 == 0 {
				results[i] = runBinary(t, []string{"CONVERT_ITEM=" + string(js)}, "flowlogs")
			} else {
				results[i] = runBinary(t, nil, it.Args...)
			}
		}()
	}
	wg.Wait()
	var written int64
	for i, res := range results {
		require.Equal(t, 0, res.code, "item %d: %s", i, res.stderr)
		written += summaryOf(t, res.stdout).RecordsWritten
	}
	require.Equal(t, int64(482), written)
	require.Equal(t, partitionRows(t, single), partitionRows(t, out))

	// AWS Batch array jobs: --plan FILE with AWS_BATCH_JOB_ARRAY_INDEX.
	plan := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, os.WriteFile(plan, []byte(r.stdout), 0o644))
	again := runBinary(t, []string{"AWS_BATCH_JOB_ARRAY_INDEX=2"}, "flowlogs", "--plan", plan)
	require.Equal(t, 0, again.code, again.stderr)
	require.Equal(t, results[2].stdout[:strings.Index(results[2].stdout, `"wall_seconds"`)],
		again.stdout[:strings.Index(again.stdout, `"wall_seconds"`)], "a retried item writes the same files")
}
