package pipeline

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/s3test"
	"convert/internal/storage"
)

// lateObject is an object for a day the flow-log testdata already has.
const lateObject = "AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04/123456789012_vpcflowlogs_cn-north-1_fl-0a1b2c3d_20211204T2355Z_1a2b3c4d.log"

func writeLate(t *testing.T, in, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(in, lateObject), []byte(body), 0o644))
}

// cleanRows converts in into a fresh output and returns its rows.
func cleanRows(t *testing.T, in string) []string {
	t.Helper()
	out, _, err := convertFlowLogs(t, in, &FlowLogs{}, nil)
	require.NoError(t, err)
	return outputRows(t, out)
}

func verifyOK(t *testing.T, out string, msgAndArgs ...any) VerifyReport {
	t.Helper()
	rep, err := Verify(context.Background(), &storage.LocalSink{Root: out})
	require.NoError(t, err)
	require.True(t, rep.OK, append([]any{"%+v"}, append([]any{rep}, msgAndArgs...)...)...)
	return rep
}

// requireRows compares row sets, printing only the first differences.
//
// Rows are compared without their NULL columns: a file holds the union of
// its unit's columns, so the same record read from units grouped otherwise
// has NULLs in other columns.
func requireRows(t *testing.T, want, got []string, msgAndArgs ...any) {
	t.Helper()
	want, got = withoutNulls(t, want), withoutNulls(t, got)
	if len(want) == len(got) {
		same := true
		for i := range want {
			if want[i] != got[i] {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	w, g := map[string]int{}, map[string]int{}
	for _, r := range want {
		w[r]++
	}
	for _, r := range got {
		g[r]++
	}
	var diff []string
	for r, n := range g {
		if n > w[r] && len(diff) < 3 {
			diff = append(diff, fmt.Sprintf("extra x%d: %.200s", n-w[r], r))
		}
	}
	for r, n := range w {
		if n > g[r] && len(diff) < 6 {
			diff = append(diff, fmt.Sprintf("missing x%d: %.200s", n-g[r], r))
		}
	}
	require.Fail(t, fmt.Sprintf("rows differ: want %d, got %d\n%s", len(want), len(got), strings.Join(diff, "\n")), msgAndArgs...)
}

func withoutNulls(t *testing.T, rows []string) []string {
	t.Helper()
	out := make([]string, len(rows))
	for i, r := range rows {
		part, js, _ := strings.Cut(r, " ")
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(js), &m))
		for k, v := range m {
			if v == nil {
				delete(m, k)
			}
		}
		b, _ := json.Marshal(m)
		out[i] = part + " " + string(b)
	}
	sort.Strings(out)
	return out
}

// TestPathSpellingIsOneIdentity converts the same tree spelled four ways
// into one output: every rerun replaces, none duplicates, and an
// --incremental run under another spelling finds everything converted.
func TestPathSpellingIsOneIdentity(t *testing.T) {
	base := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(base, "data"), os.DirFS(testdataFlowLogs)))
	require.NoError(t, os.Symlink(filepath.Join(base, "data"), filepath.Join(base, "link")))
	t.Chdir(base)
	want := cleanRows(t, "data")
	out := filepath.Join(base, "out")
	for _, in := range []string{"data", "./data/", filepath.Join(base, "data"), "link", "link/"} {
		s, err := runInto(t, in, out, &FlowLogs{}, nil)
		require.NoError(t, err, in)
		require.Equal(t, int64(4), s.ObjectsRead, in)
		requireRows(t, want, outputRows(t, out), "--in %s", in)
		verifyOK(t, out, in)
	}
	s, err := runInto(t, "link/", out, &FlowLogs{}, func(c *Config) { c.Incremental = true })
	require.NoError(t, err)
	require.Zero(t, s.ObjectsRead)
	require.Equal(t, int64(4), s.ObjectsSkipped["already converted (--incremental)"])
}

// TestLedgerOfRelativeKeysIsRecognised: ledgers written before keys were
// absolute hold keys as --in was spelled; a rerun must still replace their
// units rather than add to them.
func TestLedgerOfRelativeKeysIsRecognised(t *testing.T) {
	base := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(base, "data"), os.DirFS(testdataFlowLogs)))
	t.Chdir(base)
	want := cleanRows(t, "data")
	out := filepath.Join(base, "out")
	_, err := runInto(t, "data", out, &FlowLogs{}, nil)
	require.NoError(t, err)
	// Rewrite the ledger as the earlier version wrote it.
	recs := jsonFilesUnder(t, filepath.Join(out, LedgerDir, "flowlogs", "units"))
	for _, p := range recs {
		var u UnitRecord
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &u))
		for i := range u.Objects {
			rel, err := filepath.Rel(base, u.Objects[i].Key)
			require.NoError(t, err)
			u.Objects[i].Key = filepath.ToSlash(rel)
		}
		data, _ = json.Marshal(&u)
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	s, err := runInto(t, filepath.Join(base, "data"), out, &FlowLogs{}, func(c *Config) { c.UnitBytes = 1 })
	require.NoError(t, err)
	require.Positive(t, s.SupersededUnits)
	requireRows(t, want, outputRows(t, out))
}

// jsonFilesUnder lists the .json files under dir (none if it does not exist).
func jsonFilesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			out = append(out, p)
		}
		return err
	})
	if !errors.Is(err, os.ErrNotExist) {
		require.NoError(t, err)
	}
	return out
}

// crashSink dies at its n-th Commit or Remove: that operation and every
// later one fails, as for a process killed at that point (a killed process
// does nothing more, so no cleanup of the failing run reaches the output).
type crashSink struct {
	storage.Sink
	n    int64
	ops  atomic.Int64
	dead atomic.Bool
}

func (s *crashSink) step() error {
	if s.dead.Load() || s.ops.Add(1) == s.n {
		s.dead.Store(true)
		return errInjected
	}
	return nil
}

func (s *crashSink) Create(ctx context.Context, rel string) (storage.File, error) {
	if s.dead.Load() {
		return nil, errInjected
	}
	f, err := s.Sink.Create(ctx, rel)
	if err != nil {
		return nil, err
	}
	return &crashFile{File: f, s: s}, nil
}

func (s *crashSink) Remove(ctx context.Context, rel string) error {
	if err := s.step(); err != nil {
		return err
	}
	return s.Sink.Remove(ctx, rel)
}

type crashFile struct {
	storage.File
	s *crashSink
}

func (f *crashFile) Commit() error {
	if err := f.s.step(); err != nil {
		f.File.Abort()
		return err
	}
	return f.File.Commit()
}

// crashEverywhere converts in with first, then crashes second at each of its
// steps in turn (see crashFrom).
func crashEverywhere(t *testing.T, in string, first, second, then func(*Config), want []string) {
	t.Helper()
	base := t.TempDir()
	_, err := runInto(t, in, base, &FlowLogs{}, first)
	require.NoError(t, err)
	crashFrom(t, in, base, second, then, want)
}

// crashFrom runs second on a copy of the output base, once for each Commit
// and Remove it does, dying at that one; then finishes with then (an
// --incremental run, the case that kept damage forever) and checks the rows
// equal want and verify passes.
func crashFrom(t *testing.T, in, base string, second, then func(*Config), want []string) {
	t.Helper()
	crashes := 0
	for n := int64(1); ; n++ {
		out := copyTree(t, base)
		sink := &crashSink{Sink: &storage.LocalSink{Root: out}, n: n}
		_, err := runInto(t, in, out, &FlowLogs{}, func(c *Config) {
			if second != nil {
				second(c)
			}
			c.Sink = sink
		})
		if err == nil {
			require.Greater(t, crashes, 3, "the run commits and removes files and records")
			return
		}
		crashes++
		require.ErrorIs(t, err, errInjected, "crash at step %d", n)
		_, err = runInto(t, in, out, &FlowLogs{}, then)
		require.NoError(t, err, "run after a crash at step %d", n)
		requireRows(t, want, outputRows(t, out), "after a crash at step %d", n)
		verifyOK(t, out, "after a crash at step %d", n)
	}
}

func incremental(c *Config) { c.Incremental = true }

// TestCrashWhileRegrouping kills the run at every commit and removal step
// while it replaces earlier units (a late object for a converted day, a new
// --unit-size, objects changed under --incremental); the next run, full or
// --incremental, must end with every row once.
func TestCrashWhileRegrouping(t *testing.T) {
	t.Run("late object, full run, then incremental", func(t *testing.T) {
		t.Parallel()
		in := copyTree(t, testdataFlowLogs)
		writeLate(t, in, "version start action\n2 1638661990 ACCEPT\n2 1638661991 REJECT\n")
		want := cleanRows(t, in)
		late := filepath.Join(in, lateObject)
		body, err := os.ReadFile(late)
		require.NoError(t, err)
		// The first run does not have the late object.
		require.NoError(t, os.Remove(late))
		base := t.TempDir()
		_, err = runInto(t, in, base, &FlowLogs{}, nil)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(late, body, 0o644))
		crashFrom(t, in, base, nil, incremental, want)
	})
	t.Run("new unit size, then incremental", func(t *testing.T) {
		t.Parallel()
		want := cleanRows(t, testdataFlowLogs)
		crashEverywhere(t, testdataFlowLogs, nil, func(c *Config) { c.UnitBytes = 1 }, incremental, want)
	})
	t.Run("unit size back, then full run", func(t *testing.T) {
		t.Parallel()
		want := cleanRows(t, testdataFlowLogs)
		crashEverywhere(t, testdataFlowLogs, func(c *Config) { c.UnitBytes = 1 }, nil, nil, want)
	})
	t.Run("changed objects under incremental", func(t *testing.T) {
		t.Parallel()
		in := copyTree(t, testdataFlowLogs)
		base := t.TempDir()
		_, err := runInto(t, in, base, &FlowLogs{}, nil)
		require.NoError(t, err)
		// Every object of the day with two objects gets one more line.
		day := filepath.Join(in, "AWSLogs/123456789012/vpcflowlogs/cn-north-1/2021/12/04")
		entries, err := os.ReadDir(day)
		require.NoError(t, err)
		for _, e := range entries {
			// A second gzip member: the object is longer by one line.
			f, err := os.OpenFile(filepath.Join(day, e.Name()), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			zw := gzip.NewWriter(f)
			_, err = zw.Write([]byte("2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 1 2 6 1 40 1638576000 1638576060 ACCEPT OK\n"))
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			require.NoError(t, f.Close())
		}
		crashFrom(t, in, base, func(c *Config) { c.Incremental = true; c.UnitBytes = 1 }, incremental, cleanRows(t, in))
	})
}

// blockingSource holds its listing until released, so that a run holds its
// lease while another starts.
type blockingSource struct {
	storage.Source
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingSource) List(ctx context.Context, fn func(storage.Object) error) error {
	b.once.Do(func() { close(b.started) })
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Source.List(ctx, fn)
}

func newBlocking(src storage.Source) *blockingSource {
	return &blockingSource{Source: src, started: make(chan struct{}), release: make(chan struct{})}
}

// concurrentRuns checks the concurrency rule on a sink: while one run
// converts, a second run into the same output with an overlapping scope
// refuses to start, naming the first; one with a disjoint scope goes ahead;
// and after both, the output is one clean run's.
func concurrentRuns(t *testing.T, sink func() storage.Sink, rows func() []string) {
	t.Helper()
	want := cleanRows(t, testdataFlowLogs)
	a := newBlocking(&storage.LocalSource{Root: testdataFlowLogs})
	done := make(chan error, 1)
	go func() {
		_, err := runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) { c.Source = a; c.Sink = sink() })
		done <- err
	}()
	<-a.started

	host, _ := os.Hostname()
	for _, scope := range []func(*Config){nil, incremental, func(c *Config) { c.From = time.Date(2021, 12, 4, 0, 0, 0, 0, time.UTC) }} {
		s, err := runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) {
			if scope != nil {
				scope(c)
			}
			c.Sink = sink()
		})
		require.ErrorIs(t, err, ErrOutputBusy)
		require.Contains(t, err.Error(), host)
		require.Contains(t, err.Error(), fmt.Sprintf("pid %d", os.Getpid()))
		require.Equal(t, "failed", s.Status)
		require.Zero(t, s.ObjectsRead)
	}
	close(a.release)
	require.NoError(t, <-done)
	requireRows(t, want, rows())

	// Disjoint scopes run at once: one run holds the key date 2021-12-04
	// while another converts 2021-12-05, and a work item of other keys.
	day4, day5 := time.Date(2021, 12, 4, 0, 0, 0, 0, time.UTC), time.Date(2021, 12, 5, 0, 0, 0, 0, time.UTC)
	a = newBlocking(&storage.LocalSource{Root: testdataFlowLogs})
	go func() {
		_, err := runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) { c.Source = a; c.Sink = sink(); c.From, c.To = day4, day4 })
		done <- err
	}()
	<-a.started
	for _, scope := range []func(*Config){
		func(c *Config) { c.From, c.To = day5, day5 },
		func(c *Config) { c.From = day5 },
	} {
		s, err := runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) { scope(c); c.Sink = sink() })
		require.NoError(t, err, "a run of other days goes ahead")
		require.Equal(t, int64(1), s.ObjectsRead)
	}
	_, err := runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) {
		c.Ranges = []KeyRange{{After: "x", Last: "y"}}
		c.Sink = sink()
	})
	require.ErrorIs(t, err, ErrOutputBusy, "a work item has no day bound: it overlaps the run of 2021-12-04")
	close(a.release)
	require.NoError(t, <-done)

	// Two work items of disjoint key ranges run at once.
	item := func(after, last string) func(*Config) {
		return func(c *Config) { c.Ranges = []KeyRange{{After: after, Last: last}}; c.Sink = sink() }
	}
	b := newBlocking(&storage.LocalSource{Root: testdataFlowLogs})
	go func() {
		_, err := runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) { item("x", "y")(c); c.Source = b })
		done <- err
	}()
	<-b.started
	_, err = runInto(t, testdataFlowLogs, "", &FlowLogs{}, item("y", "z"))
	require.NoError(t, err)
	_, err = runInto(t, testdataFlowLogs, "", &FlowLogs{}, item("w", "xx"))
	require.ErrorIs(t, err, ErrOutputBusy)
	close(b.release)
	require.NoError(t, <-done)

	// Now free: a second run goes ahead and changes nothing.
	_, err = runInto(t, testdataFlowLogs, "", &FlowLogs{}, func(c *Config) { c.Sink = sink() })
	require.NoError(t, err)
	requireRows(t, want, rows())
}

func TestConcurrentRunsLocal(t *testing.T) {
	out := t.TempDir()
	concurrentRuns(t, func() storage.Sink { return &storage.LocalSink{Root: out} }, func() []string {
		verifyOK(t, out)
		return outputRows(t, out)
	})
}

func TestConcurrentRunsS3(t *testing.T) {
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "dst")
	c, err := storage.NewS3Client(context.Background(), storage.S3Config{Region: srv.Region, EndpointURL: srv.Endpoint, PathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""), CACertsPEM: srv.CAPEM})
	require.NoError(t, err)
	concurrentRuns(t, func() storage.Sink { return &storage.S3Sink{Client: c, Bucket: "dst", Prefix: "table"} }, func() []string {
		got := t.TempDir()
		srv.Download(t, "dst", "table/", got)
		verifyOK(t, got)
		return outputRows(t, got)
	})
}

// TestRacingRuns starts several runs of the same input into one output at
// the same moment, a late object arriving meanwhile: each either converts or
// refuses with ErrOutputBusy, and the output is one clean run's.
func TestRacingRuns(t *testing.T) {
	in := copyTree(t, testdataFlowLogs)
	out := t.TempDir()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = runInto(t, in, out, &FlowLogs{}, func(c *Config) { c.UnitBytes = int64(1 + i%2*(1<<30)) })
		}()
	}
	close(start)
	writeLate(t, in, "version start action\n2 1638661990 ACCEPT\n")
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, ErrOutputBusy)
		}
	}
	// Whatever ran, one more run makes the output a clean run's; no run
	// left it in a state that needs more than that.
	_, err := runInto(t, in, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	requireRows(t, cleanRows(t, in), outputRows(t, out))
	verifyOK(t, out)
}

// withdrawingSink is a LocalSink on which another run withdraws its lease
// (removes its record) while this one lists the leases, right after the
// listing has shown the first record.
type withdrawingSink struct {
	*storage.LocalSink
	withdraw string
	once     sync.Once
}

func (s *withdrawingSink) List(ctx context.Context, rel string, fn func(storage.Object) error) error {
	return s.LocalSink.List(ctx, rel, func(o storage.Object) error {
		if strings.HasPrefix(o.Key, leasesDir("flowlogs")+"/") {
			s.once.Do(func() { _ = os.Remove(filepath.Join(s.Root, s.withdraw)) })
		}
		return fn(o)
	})
}

// TestLeaseSeenPastAWithdrawnLease is TestRacingRuns' interleaving made
// certain: of four racing runs, two were refused and withdrew their leases
// while the other two listed the leases; the listing stopped at a withdrawn
// record and looked complete, so neither of the two saw the other and both
// converted everything (every row of a day twice). A live lease listed after
// a withdrawn one must still refuse the run.
func TestLeaseSeenPastAWithdrawnLease(t *testing.T) {
	out := t.TempDir()
	now := time.Now()
	write := func(rec leaseRecord) {
		data, _ := json.Marshal(rec)
		require.NoError(t, os.MkdirAll(filepath.Join(out, leasesDir("flowlogs")), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(out, leasePath("flowlogs", rec.ID)), data, 0o644))
	}
	// Listed first: an ended run's record (expired, not yet tidied away);
	// second: a refused run's, withdrawn while listed; last: a live run's.
	write(leaseRecord{ID: "0000000000000000", Host: "elsewhere", Expires: now.Add(-time.Second)})
	write(leaseRecord{ID: "0000000000000001", Host: "elsewhere", Expires: now.Add(time.Minute)})
	write(leaseRecord{ID: "ffffffffffffffff", Host: "live-host", PID: 1, Started: now, Expires: now.Add(time.Hour)})
	sink := &withdrawingSink{LocalSink: &storage.LocalSink{Root: out}, withdraw: filepath.FromSlash(leasePath("flowlogs", "0000000000000001"))}
	_, err := Run(context.Background(), Config{Kind: &FlowLogs{}, Source: &storage.LocalSource{Root: testdataFlowLogs},
		Sink: sink, Workers: 1, MaxRejectRatio: DefaultMaxRejectRatio})
	require.ErrorIs(t, err, ErrOutputBusy)
	require.Contains(t, err.Error(), "live-host")
	require.NoFileExists(t, filepath.Join(out, sink.withdraw), "the interleaving happened")
	require.Empty(t, parquettest.Files(t, out, ".parquet"), "the refused run wrote nothing")
}

func TestLeaseLiveness(t *testing.T) {
	now := time.Now()
	host, _ := os.Hostname()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	cases := []struct {
		name string
		l    leaseRecord
		want bool
	}{
		{"expired", leaseRecord{Host: "elsewhere", Expires: now.Add(-time.Second)}, false},
		{"another host, not expired", leaseRecord{Host: "elsewhere", PID: 1, Expires: now.Add(time.Minute)}, true},
		{"this host, process gone", leaseRecord{Host: host, PID: dead.Process.Pid, Process: "other", Expires: now.Add(time.Minute)}, false},
		{"this host, process running", leaseRecord{Host: host, PID: os.Getppid(), Process: "other", Expires: now.Add(time.Minute)}, true},
		{"this process, run ended", leaseRecord{ID: "gone", Host: host, PID: os.Getpid(), Process: thisProcess, Expires: now.Add(time.Minute)}, false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.l.alive(now), c.name)
	}
	a := Scope{From: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 1, 31, 0, 0, 0, 0, time.UTC)}
	b := Scope{From: time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)}
	require.False(t, a.overlaps(b))
	require.True(t, a.overlaps(Scope{}))
	r1 := Scope{Ranges: []KeyRange{{After: "a", Last: "c"}}}
	r2 := Scope{Ranges: []KeyRange{{After: "c", Last: "e"}}}
	require.False(t, r1.overlaps(r2), "(a,c] and (c,e] are disjoint")
	require.True(t, r1.overlaps(Scope{Ranges: []KeyRange{{After: "b", Last: "d"}}}))
}

// TestDeadRunsLeaseDoesNotBlock: a run that died holding its lease (its
// process gone) does not stop the next run.
func TestDeadRunsLeaseDoesNotBlock(t *testing.T) {
	out := t.TempDir()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	host, _ := os.Hostname()
	rec := leaseRecord{ID: "deadbeef", Host: host, PID: dead.Process.Pid, Process: "x", Started: time.Now(), Expires: time.Now().Add(time.Hour)}
	data, _ := json.Marshal(rec)
	require.NoError(t, os.MkdirAll(filepath.Join(out, LedgerDir, "flowlogs", "leases"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, LedgerDir, "flowlogs", "leases", "deadbeef.json"), data, 0o644))
	_, err := runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	// Another host's unexpired lease does block.
	rec.Host = "another-host"
	data, _ = json.Marshal(rec)
	require.NoError(t, os.WriteFile(filepath.Join(out, LedgerDir, "flowlogs", "leases", "deadbeef.json"), data, 0o644))
	_, err = runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
	require.ErrorIs(t, err, ErrOutputBusy)
	require.Contains(t, err.Error(), "another-host")
}

// TestVerifyFindsPlantedDuplicate copies a committed unit under another id:
// its rows are then in the output twice, which verify must report with the
// repair; the repair it names makes the output clean again.
func TestVerifyFindsPlantedDuplicate(t *testing.T) {
	out, _, err := convertFlowLogs(t, testdataFlowLogs, &FlowLogs{}, nil)
	require.NoError(t, err)
	want := outputRows(t, out)
	recs := jsonFilesUnder(t, filepath.Join(out, LedgerDir, "flowlogs", "units"))
	var u UnitRecord
	data, err := os.ReadFile(recs[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &u))
	orig := u.ID
	u.ID = "0123456789abcdef"
	for i, f := range u.Files {
		copyPath := strings.Replace(f.Path, orig, u.ID, 1)
		b, err := os.ReadFile(filepath.Join(out, f.Path))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, copyPath), b, 0o644))
		u.Files[i].Path = copyPath
	}
	if u.Rejects != "" {
		copyPath := strings.Replace(u.Rejects, orig, u.ID, 1)
		b, err := os.ReadFile(filepath.Join(out, u.Rejects))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, copyPath), b, 0o644))
		u.Rejects = copyPath
	}
	data, _ = json.Marshal(&u)
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(recs[0]), u.ID+".json"), data, 0o644))
	require.NotEqual(t, len(want), len(outputRows(t, out)), "the planted unit duplicates rows")

	rep, err := Verify(context.Background(), &storage.LocalSink{Root: out})
	require.NoError(t, err)
	require.False(t, rep.OK)
	require.Len(t, rep.Overlaps, 1, "%+v", rep)
	o := rep.Overlaps[0]
	require.ElementsMatch(t, []string{orig, u.ID}, o.Units)
	require.Contains(t, o.Repair, "--from "+u.Group+" --to "+u.Group)

	// --incremental does not repair it; the rerun verify names does.
	_, err = runInto(t, testdataFlowLogs, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	require.NotEqual(t, len(want), len(outputRows(t, out)))
	day, err := time.Parse("2006-01-02", u.Group)
	require.NoError(t, err)
	_, err = runInto(t, testdataFlowLogs, out, &FlowLogs{}, func(c *Config) { c.From, c.To = day, day })
	require.NoError(t, err)
	requireRows(t, want, outputRows(t, out))
	verifyOK(t, out)
}

// TestIncrementalSeesRewritesAndDeletions: a file rewritten with its size
// and modification time kept (cp -p, touch -r) is converted again, and a
// deleted one is reported.
func TestIncrementalSeesRewritesAndDeletions(t *testing.T) {
	in := copyTree(t, testdataFlowLogs)
	out := t.TempDir()
	writeLate(t, in, "version start action\n2 1638661990 ACCEPT\n")
	_, err := runInto(t, in, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	late := filepath.Join(in, lateObject)
	st, err := os.Stat(late)
	require.NoError(t, err)
	time.Sleep(10 * time.Millisecond)
	writeLate(t, in, "version start action\n2 1638661990 REJECT\n") // same size
	require.NoError(t, os.Chtimes(late, st.ModTime(), st.ModTime()))
	s, err := runInto(t, in, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	require.Equal(t, int64(1), s.ChangedCount)
	requireRows(t, cleanRows(t, in), outputRows(t, out))

	require.NoError(t, os.Remove(late))
	s, err = runInto(t, in, out, &FlowLogs{}, incremental)
	require.NoError(t, err)
	require.Equal(t, int64(1), s.ObjectsGone)
	require.Contains(t, strings.Join(s.Warnings, "\n"), "no longer in the source")
	verifyOK(t, out)
}

// TestStaleTemporariesRemoved: a killed process's hidden temporary in the
// output is removed by the next run; a live process's is not.
func TestStaleTemporariesRemoved(t *testing.T) {
	out := t.TempDir()
	_, err := runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	host, _ := os.Hostname()
	tag := storage.HostTag(host)
	dir := filepath.Join(out, "year=2021", "month=12", "day=04")
	stale := filepath.Join(dir, fmt.Sprintf(".part.parquet.tmp-%s-%d-abcdef", tag, dead.Process.Pid))
	live := filepath.Join(dir, fmt.Sprintf(".part.parquet.tmp-%s-%d-abcdef", tag, os.Getppid()))
	for _, p := range []string{stale, live} {
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
	}
	_, err = runInto(t, testdataFlowLogs, out, &FlowLogs{}, nil)
	require.NoError(t, err)
	_, err = os.Stat(stale)
	require.True(t, errors.Is(err, os.ErrNotExist), "the killed process's temporary is removed")
	_, err = os.Stat(live)
	require.NoError(t, err, "a live process's temporary stays")
}
