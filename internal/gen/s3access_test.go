package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/reader/s3access"
)

// s3aTreeHash hashes every file's path and bytes under dir.
func s3aTreeHash(t *testing.T, dir string, paths []string) string {
	t.Helper()
	h := sha256.New()
	for _, p := range paths {
		h.Write([]byte(p + "\x00"))
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p)))
		require.NoError(t, err)
		_, err = io.Copy(h, f)
		f.Close()
		require.NoError(t, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// s3aParsed is what the s3access reader finds in a generated tree.
type s3aParsed struct {
	rows, rejected int64
	byDay          map[string]int64
	byOp           map[string]int64
	quotedUA       int64
	byFileDay      map[string]map[string]int64 // path → request day → rows
}

func s3aParseTree(t *testing.T, dir string, paths []string) s3aParsed {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out := s3aParsed{byDay: map[string]int64{}, byOp: map[string]int64{}, byFileDay: map[string]map[string]int64{}}
	for _, p := range paths {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p)))
		require.NoError(t, err)
		rd, err := s3access.NewReader(f, s3access.Config{Object: p, Mem: mem, Reject: func(r reader.Reject) {
			t.Errorf("reject %s:%d: %s: %s", r.Object, r.Line, r.Reason, r.Raw)
		}})
		require.NoError(t, err)
		out.byFileDay[p] = map[string]int64{}
		for rd.Next() {
			rec := rd.RecordBatch()
			sc := rec.Schema()
			times := rec.Column(sc.FieldIndices("requestdatetime")[0]).(*array.String)
			ops := rec.Column(sc.FieldIndices("operation")[0]).(*array.String)
			uas := rec.Column(sc.FieldIndices("useragent")[0]).(*array.String)
			for i := range int(rec.NumRows()) {
				ts, err := s3access.RequestTime(times.Value(i))
				require.NoError(t, err)
				day := ts.Format(time.DateOnly)
				out.byDay[day]++
				out.byFileDay[p][day]++
				out.byOp[ops.Value(i)]++
				if uas.IsValid(i) && strings.Contains(uas.Value(i), `"`) {
					out.quotedUA++
				}
			}
		}
		require.NoError(t, rd.Err())
		st := rd.Stats()
		out.rows += st.Rows
		out.rejected += st.Rejected
		require.Zero(t, st.ExtraFields)
		rd.Release()
		f.Close()
	}
	return out
}

func TestGenerateS3AccessSimplePrefix(t *testing.T) {
	dir := t.TempDir()
	cfg := S3AccessConfig{Dir: dir, Bytes: 3 << 20, Files: 9, Days: 3, Seed: 42, Start: time.Date(2024, 2, 28, 15, 0, 0, 0, time.UTC), Workers: 1}
	st, err := GenerateS3Access(cfg)
	require.NoError(t, err)
	require.Equal(t, 9, st.Files)
	require.Len(t, st.Paths, 9)
	require.GreaterOrEqual(t, st.UncompressedBytes, cfg.Bytes)
	require.Less(t, st.UncompressedBytes, cfg.Bytes+9*2*2048, "overshoot at most a line or two per file")

	simple := regexp.MustCompile(`^logs/[a-z0-9.-]+/(\d{4}-\d{2}-\d{2})-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$`)
	var total int64
	for _, p := range st.Paths {
		require.Regexp(t, simple, p)
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		require.NoError(t, err)
		total += info.Size()
	}
	require.Equal(t, st.UncompressedBytes, total, "plain text: bytes on disk are the text")

	parsed := s3aParseTree(t, dir, st.Paths)
	require.Zero(t, parsed.rejected, "every generated line is valid")
	require.Equal(t, st.Records, parsed.rows)
	require.Equal(t, st.RecordsByDay, parsed.byDay)
	require.Equal(t, st.RecordsByOperation, parsed.byOp)
	require.Equal(t, st.QuotedUserAgents, parsed.quotedUA, "user agents with quotes come back whole")
	require.Positive(t, st.QuotedUserAgents)

	// Start is truncated to its day; three days, nothing before Start.
	require.Equal(t, []string{"2024-02-28", "2024-02-29", "2024-03-01"}, s3aSortedKeys(st.RecordsByDay))
	// Delivery-time keys: some object keyed on a day holds requests of the
	// day before (delivered after midnight).
	crossDay := false
	for p, days := range parsed.byFileDay {
		keyDay := simple.FindStringSubmatch(p)[1]
		for d := range days {
			require.LessOrEqual(t, d, keyDay, "no request after its delivery")
			if d < keyDay {
				crossDay = true
			}
		}
	}
	require.True(t, crossDay, "some object reaches into the previous day")

	// The mix: GET dominant, every copy logged twice, all formats present.
	require.Greater(t, st.RecordsByOperation["REST.GET.OBJECT"], st.Records/3)
	for op, n := range st.RecordsByOperation {
		require.LessOrEqual(t, n, st.RecordsByOperation["REST.GET.OBJECT"], op)
	}
	require.Positive(t, st.RecordsByOperation["REST.COPY.OBJECT"])
	require.Equal(t, st.RecordsByOperation["REST.COPY.OBJECT"], st.RecordsByOperation["REST.COPY.OBJECT_GET"])
	for _, op := range []string{"REST.PUT.OBJECT", "REST.HEAD.OBJECT", "BATCH.DELETE.OBJECT", "S3.EXPIRE.OBJECT", "REST.GET.BUCKET"} {
		require.Positive(t, st.RecordsByOperation[op], op)
	}
	var byFields int64
	for n := 24; n <= 27; n++ {
		require.Positive(t, st.RecordsByFieldCount[n], "%d-field lines", n)
		byFields += st.RecordsByFieldCount[n]
	}
	require.Equal(t, st.Records, byFields)

	// Deterministic: the same bytes with more workers; other bytes with
	// another seed.
	again := t.TempDir()
	cfg2 := cfg
	cfg2.Dir, cfg2.Workers = again, 4
	st2, err := GenerateS3Access(cfg2)
	require.NoError(t, err)
	require.Equal(t, st.Paths, st2.Paths)
	require.Equal(t, s3aTreeHash(t, dir, st.Paths), s3aTreeHash(t, again, st2.Paths))
	cfg3 := cfg2
	cfg3.Dir, cfg3.Seed = t.TempDir(), 43
	st3, err := GenerateS3Access(cfg3)
	require.NoError(t, err)
	require.NotEqual(t, st.Paths, st3.Paths)
}

func TestGenerateS3AccessDateBased(t *testing.T) {
	dir := t.TempDir()
	st, err := GenerateS3Access(S3AccessConfig{Dir: dir, Bytes: 1 << 20, Files: 6, Days: 2, Seed: 7, DateBased: true, Buckets: 3})
	require.NoError(t, err)
	dated := regexp.MustCompile(`^logs/(\d{12})/([a-z0-9-]+)/([a-z0-9.-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{4})-(\d{2})-(\d{2})-00-00-00-[0-9A-F]{16}$`)
	parsed := s3aParseTree(t, dir, st.Paths)
	require.Zero(t, parsed.rejected)
	require.Equal(t, st.Records, parsed.rows)
	require.Equal(t, st.RecordsByDay, parsed.byDay)
	buckets := map[string]bool{}
	for _, p := range st.Paths {
		m := dated.FindStringSubmatch(p)
		require.NotNil(t, m, p)
		require.Equal(t, m[4:7], m[7:10], "the key's date directories and file name agree")
		buckets[m[3]] = true
		keyDay := m[4] + "-" + m[5] + "-" + m[6]
		// EventTime partitioning: an object holds requests of its day only.
		require.Equal(t, []string{keyDay}, s3aSortedKeys(parsed.byFileDay[p]), p)
	}
	require.Len(t, buckets, 3)
	require.Equal(t, []string{"2025-03-01", "2025-03-02"}, s3aSortedKeys(st.RecordsByDay), "default start")
}

func TestGenerateS3AccessConfigErrors(t *testing.T) {
	for _, cfg := range []S3AccessConfig{
		{Bytes: 100},
		{Dir: t.TempDir()},
		{Dir: t.TempDir(), Bytes: 100, Days: -1},
		{Dir: t.TempDir(), Bytes: 100, Prefix: "../escape/"},
		{Dir: t.TempDir(), Bytes: 100, Prefix: "/abs/"},
	} {
		_, err := GenerateS3Access(cfg)
		require.Error(t, err, "%+v", cfg)
	}
}

func s3aSortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func BenchmarkGenerateS3Access(b *testing.B) {
	dir := b.TempDir()
	b.SetBytes(16 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GenerateS3Access(S3AccessConfig{Dir: dir, Bytes: 16 << 20, Files: 8, Seed: 1, Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
