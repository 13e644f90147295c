package report

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/require"

	"convert/internal/classify"
	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/pipeline"
	"convert/internal/storage"
)

var flowLogsV5 = strings.Fields("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status " +
	"vpc-id pkt-srcaddr pkt-dstaddr flow-direction traffic-path pkt-src-aws-service pkt-dst-aws-service")

// convertInto converts in into out with the pipeline.
func convertInto(t *testing.T, kind pipeline.Kind, in, out string) {
	t.Helper()
	s, err := pipeline.Run(context.Background(), pipeline.Config{Kind: kind, Source: &storage.LocalSource{Root: in},
		Sink: &storage.LocalSink{Root: out}, Workers: 2, MaxRejectRatio: pipeline.DefaultMaxRejectRatio})
	require.NoError(t, err)
	require.True(t, s.Balanced)
	require.Positive(t, s.RecordsWritten)
}

// natENIs returns the interfaces under dir (version 5 logs) that forward
// for others (pkt-srcaddr differs from srcaddr: the generator's NAT
// gateways and load balancers), and two ordinary ones.
func natENIs(t *testing.T, dir string) []string {
	t.Helper()
	seen := map[string]bool{}
	var enis []string
	plain := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".gz") {
			return err
		}
		f, err := os.Open(p)
		require.NoError(t, err)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		b, err := io.ReadAll(zr)
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) != len(flowLogsV5) || seen[fs[2]] {
				continue
			}
			forwards := fs[15] != "-" && fs[15] != fs[3]
			if forwards || plain < 2 {
				seen[fs[2]] = true
				enis = append(enis, fs[2])
				if !forwards {
					plain++
				}
			}
		}
		return nil
	}))
	require.Greater(t, len(enis), 2)
	return enis
}

// flowLogOutput converts three generated flow-log sets into one output
// tree: version 5 fields classified, the default format classified, and the
// default format without classification (so some files lack the columns).
func flowLogOutput(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	start := time.Date(2024, 3, 30, 0, 0, 0, 0, time.UTC)
	v5, v2, plain := t.TempDir(), t.TempDir(), t.TempDir()
	for i, c := range []gen.FlowLogsConfig{
		{Dir: v5, Bytes: 3 << 20, Days: 4, Seed: 1, Start: start, Fields: flowLogsV5},
		{Dir: v2, Bytes: 2 << 20, Days: 4, Seed: 1, Start: start},
		{Dir: plain, Bytes: 1 << 20, Days: 4, Seed: 3, Start: start},
	} {
		c.Files = 8
		_, err := gen.GenerateFlowLogs(c)
		require.NoError(t, err, i)
	}
	ranges := []classify.AWSRange{
		{Prefix: netip.MustParsePrefix("52.0.0.0/8"), Service: "S3", Region: "us-east-1"},
		{Prefix: netip.MustParsePrefix("34.0.0.0/9"), Service: "DYNAMODB", Region: "us-east-1"},
		{Prefix: netip.MustParsePrefix("34.0.0.0/8"), Service: "AMAZON", Region: "eu-west-1"},
		{Prefix: netip.MustParsePrefix("44.0.0.0/8"), Service: "EC2", Region: "us-west-2"},
	}
	cidrs := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.22.0.0/16"),
		netip.MustParsePrefix("2600:1f00::/24")}
	// The generator's NAT gateways log only their internet legs; add the
	// inside legs of one, with and without packet addresses (version 5).
	natLegs := strings.Join(flowLogsV5, " ") + "\n" +
		"5 123456789012 eni-0aaaaaaaaaaaaaaa1 10.9.1.5 10.9.0.220 40000 443 6 10 5000 1711843200 1711843260 ACCEPT OK vpc-1 10.9.1.5 198.51.100.7 ingress 1 - -\n" +
		"5 123456789012 eni-0aaaaaaaaaaaaaaa1 10.9.0.220 10.9.1.5 443 40000 6 10 7000 1711843200 1711843260 ACCEPT OK vpc-1 198.51.100.7 10.9.1.5 egress 1 - -\n" +
		"5 123456789012 eni-0aaaaaaaaaaaaaaa1 10.9.1.6 10.9.0.220 40000 443 6 10 3000 1711929600 1711929660 ACCEPT OK vpc-1 - - ingress - - -\n" +
		"5 123456789012 eni-0aaaaaaaaaaaaaaa1 10.9.0.220 52.1.2.3 40000 443 6 10 3000 1711929600 1711929660 ACCEPT OK vpc-1 - - egress 1 - -\n"
	require.NoError(t, os.WriteFile(filepath.Join(v5, "nat-legs.log"), []byte(natLegs), 0o644))
	enis := append(natENIs(t, v5), "eni-0aaaaaaaaaaaaaaa1")
	for _, in := range []string{v5, v2} {
		c, err := classify.New(classify.Config{VPCCIDRs: cidrs, AWSRanges: ranges, NATGatewayENIs: enis})
		require.NoError(t, err)
		convertInto(t, &pipeline.FlowLogs{Classifier: c}, in, out)
	}
	convertInto(t, &pipeline.FlowLogs{}, plain, out)
	return out
}

// rowsOf reads, with parquet-go (not arrow-go, which the report uses), the
// rows of every Parquet file of the days [from, to] under dir, each with
// its partition day as "partition_day".
func rowsOf(t *testing.T, dir, from, to string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, f := range parquettest.Files(t, dir, ".parquet") {
		if strings.HasPrefix(f, "_") {
			continue
		}
		m := regexp.MustCompile(`year=(\d{4})/month=(\d\d)/day=(\d\d)/`).FindStringSubmatch(f)
		require.NotNil(t, m, f)
		day := m[1] + "-" + m[2] + "-" + m[3]
		if (from != "" && day < from) || (to != "" && day > to) {
			continue
		}
		rs, _ := parquettest.ReadParquetGo(t, filepath.Join(dir, f))
		for _, r := range rs {
			r["partition_day"] = day
			rows = append(rows, r)
		}
	}
	return rows
}

// query is the reference GROUP BY: keys and values per row (nil for NULL;
// filter false leaves the row out), sum() of the non-NULL values (NULL when
// there are none), ordered by the first value descending with NULLs last,
// then the keys ascending with NULLs last (or by the keys only), limited.
type query struct {
	filter func(r map[string]any) bool
	keys   func(r map[string]any) []any
	vals   func(r map[string]any) []any
	byKeys bool
	limit  int
}

func (q query) run(rows []map[string]any) ([][]any, int) {
	type agg struct {
		keys []any
		sums []int64
		ns   []int
	}
	groups := map[string]*agg{}
	for _, r := range rows {
		if q.filter != nil && !q.filter(r) {
			continue
		}
		k := q.keys(r)
		js, _ := json.Marshal(k)
		g := groups[string(js)]
		if g == nil {
			g = &agg{keys: k}
			groups[string(js)] = g
		}
		v := q.vals(r)
		if g.sums == nil {
			g.sums, g.ns = make([]int64, len(v)), make([]int, len(v))
		}
		for i, x := range v {
			if x != nil {
				g.sums[i] += toInt(x)
				g.ns[i]++
			}
		}
	}
	var out [][]any
	for _, g := range groups {
		row := slices.Clone(g.keys)
		for i := range g.sums {
			if g.ns[i] == 0 {
				row = append(row, nil)
			} else {
				row = append(row, g.sums[i])
			}
		}
		out = append(out, row)
	}
	nk := 0
	for _, g := range groups {
		nk = len(g.keys)
		break
	}
	nullsLast := func(a, b any, c func() int) int {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return 1
		case b == nil:
			return -1
		}
		return c()
	}
	slices.SortFunc(out, func(a, b []any) int {
		if !q.byKeys {
			if c := nullsLast(a[nk], b[nk], func() int { return cmp.Compare(b[nk].(int64), a[nk].(int64)) }); c != 0 {
				return c
			}
		}
		for i := range nk {
			if c := nullsLast(a[i], b[i], func() int { return strings.Compare(a[i].(string), b[i].(string)) }); c != 0 {
				return c
			}
		}
		return 0
	})
	n := len(out)
	if q.limit > 0 && len(out) > q.limit {
		out = out[:q.limit]
	}
	return out, n
}

func toInt(x any) int64 {
	switch x := x.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	}
	panic(x)
}

func str(r map[string]any, k string) any {
	if v, ok := r[k].(string); ok {
		return v
	}
	return nil
}

func coalesceAny(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func isClass(r map[string]any, classes ...string) bool {
	c, ok := r["traffic_class"].(string)
	return ok && slices.Contains(classes, c)
}

// flowLogQueries are the reference computations of the flow-log tables,
// written from the README's SQL.
func flowLogQueries(top int) map[string]query {
	bytesOf := func(r map[string]any) any { return r["bytes"] }
	viaNull := func(r map[string]any) bool { return r["via_nat"] == nil }
	internetVals := func(r map[string]any) []any {
		b := bytesOf(r)
		e, in := any(int64(0)), any(int64(0))
		if r["traffic_class"] == classEgress {
			e = b
		} else {
			in = b
		}
		return []any{b, e, in}
	}
	return map[string]query{
		"top_pairs": {keys: func(r map[string]any) []any { return []any{str(r, "srcaddr"), str(r, "dstaddr")} },
			vals: func(r map[string]any) []any { return []any{bytesOf(r)} }, limit: top},
		"internet_by_internal_addr": {
			filter: func(r map[string]any) bool { return viaNull(r) && isClass(r, classEgress, classIngress) },
			keys: func(r map[string]any) []any {
				if r["traffic_class"] == classEgress {
					return []any{coalesceAny(str(r, "pkt_srcaddr"), str(r, "srcaddr"))}
				}
				return []any{coalesceAny(str(r, "pkt_dstaddr"), str(r, "dstaddr"))}
			},
			vals: internetVals, limit: top},
		"internet_by_remote_addr": {
			filter: func(r map[string]any) bool { return viaNull(r) && isClass(r, classEgress, classIngress) },
			keys:   func(r map[string]any) []any { return []any{str(r, "remote_addr")} },
			vals:   internetVals, limit: top},
		"traffic_by_remote_aws_service": {
			filter: func(r map[string]any) bool {
				return viaNull(r) && isClass(r, classEgress, classIngress, classAWSService)
			},
			keys: func(r map[string]any) []any {
				return []any{str(r, "traffic_class"), str(r, "remote_aws_service"), str(r, "remote_aws_region")}
			},
			vals: func(r map[string]any) []any { return []any{bytesOf(r)} }, limit: top},
		"nat_top_contributors": {
			filter: func(r map[string]any) bool { return r["via_nat"] == false },
			keys: func(r map[string]any) []any {
				return []any{str(r, "interface_id"), coalesceAny(str(r, "pkt_srcaddr"), str(r, "srcaddr")),
					coalesceAny(str(r, "pkt_dstaddr"), str(r, "dstaddr"))}
			},
			vals: func(r map[string]any) []any { return []any{bytesOf(r)} }, limit: top},
		"nat_aws_service": {
			filter: func(r map[string]any) bool { return r["via_nat"] == true && isClass(r, classAWSService) },
			keys:   func(r map[string]any) []any { return []any{str(r, "remote_aws_service"), str(r, "remote_aws_region")} },
			vals:   func(r map[string]any) []any { return []any{bytesOf(r)} }, limit: top},
		"bytes_per_day_class": {
			keys:   func(r map[string]any) []any { return []any{r["partition_day"], str(r, "traffic_class")} },
			vals:   func(r map[string]any) []any { return []any{bytesOf(r)} },
			byKeys: true},
	}
}

// normalize turns a table's rows into the reference's types (JSON numbers
// come back as float64 through json; here they are int64 already).
func tableRows(t *testing.T, rep *Report, name string) (Table, bool) {
	t.Helper()
	for _, tb := range rep.Tables {
		if tb.Name == name {
			return tb, true
		}
	}
	return Table{}, false
}

func checkAgainst(t *testing.T, rep *Report, rows []map[string]any, queries map[string]query) {
	t.Helper()
	require.Len(t, rep.Tables, len(queries))
	for name, q := range queries {
		tb, ok := tableRows(t, rep, name)
		require.True(t, ok, name)
		want, groups := q.run(rows)
		if want == nil {
			want = [][]any{}
		}
		require.Equal(t, want, tb.Rows, name)
		require.Equal(t, int64(groups), tb.Groups, name)
	}
}

func TestFlowLogsReport(t *testing.T) {
	out := flowLogOutput(t)
	ctx := context.Background()
	from, to := "2024-03-31", "2024-04-02"
	all := rowsOf(t, out, from, to)
	require.Greater(t, len(all), 1000)
	// The data must exercise every table: some rows of each class, of
	// both NAT legs, and NULL keys.
	var classes = map[any]int{}
	var via = map[any]int{}
	for _, r := range all {
		classes[r["traffic_class"]]++
		via[r["via_nat"]]++
	}
	for _, c := range []any{nil, "intra_vpc", classEgress, classIngress, classAWSService, "private_other"} {
		require.Positive(t, classes[c], "class %v", c)
	}
	require.Positive(t, via[true])
	require.Positive(t, via[false])
	natEgress := 0
	for _, r := range all {
		if r["via_nat"] == false && isClass(r, classEgress) {
			natEgress++ // an inside leg whose packet addresses name the remote end
		}
	}
	require.Positive(t, natEgress)

	cfg := Config{Kind: FlowLogs, Input: &storage.LocalSink{Root: out},
		From: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC), Top: 20}
	rep, err := Run(ctx, cfg)
	require.NoError(t, err)
	require.Zero(t, rep.Spills)
	require.Equal(t, int64(len(all)), rep.Rows)
	require.Empty(t, rep.Notes)
	checkAgainst(t, rep, all, flowLogQueries(20))

	// A tiny group budget spills many times and answers the same.
	cfg.GroupBudget = 7
	spilled, err := Run(ctx, cfg)
	require.NoError(t, err)
	require.Greater(t, spilled.Spills, 100)
	spilled.Spills = 0
	require.Equal(t, rep, spilled)

	// Without a range: every day.
	everything := rowsOf(t, out, "", "")
	require.Greater(t, len(everything), len(all))
	full, err := Run(ctx, Config{Kind: FlowLogs, Input: &storage.LocalSink{Root: out}, Top: 5})
	require.NoError(t, err)
	checkAgainst(t, full, everything, flowLogQueries(5))
}

func TestFlowLogsReportUnclassified(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	_, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: in, Bytes: 1 << 20, Days: 2, Seed: 4, Files: 4})
	require.NoError(t, err)
	convertInto(t, &pipeline.FlowLogs{}, in, out)
	rep, err := Run(context.Background(), Config{Kind: FlowLogs, Input: &storage.LocalSink{Root: out}})
	require.NoError(t, err)
	q := flowLogQueries(DefaultTop)
	checkAgainst(t, rep, rowsOf(t, out, "", ""), map[string]query{"top_pairs": q["top_pairs"], "bytes_per_day_class": q["bytes_per_day_class"]})
	require.Len(t, rep.Notes, 1)
	require.Contains(t, rep.Notes[0], "--classify")
}

// countingSink counts the files read (by ranged reads: the path S3 takes).
type countingSink struct {
	*storage.LocalSink
	mu     sync.Mutex
	opened map[string]bool
	read   int64 // bytes
}

func (s *countingSink) ReadRange(ctx context.Context, rel string, off, n int64) ([]byte, error) {
	s.mu.Lock()
	s.opened[rel] = true
	s.read += n
	s.mu.Unlock()
	return s.LocalSink.ReadRange(ctx, rel, off, n)
}

func TestDayPruning(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	_, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: in, Bytes: 1 << 20, Days: 5, Seed: 5, Files: 10,
		Start: time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	convertInto(t, &pipeline.FlowLogs{}, in, out)
	var inRange []string
	for _, f := range parquettest.Files(t, out, ".parquet") {
		if f >= "year=2024/month=12/day=31" && f < "year=2025/month=01/day=02" {
			inRange = append(inRange, f)
		}
	}
	require.NotEmpty(t, inRange)
	require.Less(t, len(inRange), len(parquettest.Files(t, out, ".parquet")))
	sink := &countingSink{LocalSink: &storage.LocalSink{Root: out}, opened: map[string]bool{}}
	rep, err := Run(context.Background(), Config{Kind: FlowLogs, Input: sink,
		From: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, len(inRange), rep.Files)
	var opened []string
	for f := range sink.opened {
		opened = append(opened, f)
	}
	slices.Sort(opened)
	require.Equal(t, inRange, opened)
	// Only the column chunks the tables use are read (4 of the default
	// format's 14 columns), and the footers.
	var needed, footers int64
	for _, f := range inRange {
		pf, err := file.OpenParquetFile(filepath.Join(out, f), false)
		require.NoError(t, err)
		footers += int64(pf.MetaData().Size()) + 8
		for rg := range pf.NumRowGroups() {
			meta := pf.MetaData().RowGroup(rg)
			for c := range meta.NumColumns() {
				cc, err := meta.ColumnChunk(c)
				require.NoError(t, err)
				if slices.Contains(kinds[FlowLogs].columns, cc.PathInSchema().String()) {
					needed += cc.TotalCompressedSize()
				}
			}
		}
		pf.Close()
	}
	t.Logf("read %d bytes: column chunks %d, footers %d, files %d", sink.read, needed, footers, rep.FileBytes)
	require.LessOrEqual(t, sink.read, needed+footers+int64(len(inRange))<<10)
	require.Less(t, needed, rep.FileBytes*3/4)
	checkAgainst(t, rep, rowsOf(t, out, "2024-12-31", "2025-01-01"), map[string]query{
		"top_pairs": flowLogQueries(DefaultTop)["top_pairs"], "bytes_per_day_class": flowLogQueries(DefaultTop)["bytes_per_day_class"]})

	// Progress: a line per file at most, the last one complete.
	var progress bytes.Buffer
	_, err = Run(context.Background(), Config{Kind: FlowLogs, Input: &storage.LocalSink{Root: out}, Progress: &progress})
	require.NoError(t, err)
	n := len(parquettest.Files(t, out, ".parquet"))
	require.Contains(t, progress.String(), fmt.Sprintf("\rreport: %d/%d files", n, n))
	require.True(t, strings.HasSuffix(progress.String(), "\n"))

	// A range without files is an error that says so.
	_, err = Run(context.Background(), Config{Kind: FlowLogs, Input: sink, From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)})
	require.ErrorIs(t, err, ErrNoFiles)
}

func TestS3AccessReport(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	_, err := gen.GenerateS3Access(gen.S3AccessConfig{Dir: in, Bytes: 2 << 20, Days: 3, Seed: 6, Files: 6})
	require.NoError(t, err)
	convertInto(t, &pipeline.S3Access{}, in, out)
	rows := rowsOf(t, out, "", "")
	top := func(op string) query {
		return query{filter: func(r map[string]any) bool { return r["operation"] == op },
			keys:  func(r map[string]any) []any { return []any{str(r, "remoteip")} },
			vals:  func(r map[string]any) []any { return []any{r["objectsize"], int64(1)} },
			limit: 10}
	}
	queries := map[string]query{"top_download_ips": top("REST.GET.OBJECT"), "top_copy_ips": top("REST.COPY.OBJECT_GET")}
	for _, budget := range []int{0, 3} {
		rep, err := Run(context.Background(), Config{Kind: S3Access, Input: &storage.LocalSink{Root: out}, Top: 10, GroupBudget: budget})
		require.NoError(t, err)
		checkAgainst(t, rep, rows, queries)
		for _, tb := range rep.Tables {
			require.NotEmpty(t, tb.Rows, tb.Name)
		}
		require.Equal(t, budget > 0, rep.Spills > 0)
	}
}

func TestCloudTrailReport(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	_, err := gen.GenerateCloudTrail(gen.CloudTrailConfig{Dir: in, Bytes: 4 << 20, Days: 3, Seed: 7, Files: 9})
	require.NoError(t, err)
	convertInto(t, &pipeline.CloudTrail{}, in, out)
	rows := rowsOf(t, out, "", "")
	getObject := func(r map[string]any) bool {
		return r["eventsource"] == "s3.amazonaws.com" && r["eventname"] == "GetObject"
	}
	count := func(r map[string]any) []any { return []any{int64(1)} }
	queries := map[string]query{
		"getobject_by_identity":  {filter: getObject, keys: func(r map[string]any) []any { return []any{str(r, "useridentity.arn")} }, vals: count, limit: 15},
		"getobject_by_source_ip": {filter: getObject, keys: func(r map[string]any) []any { return []any{str(r, "sourceipaddress")} }, vals: count, limit: 15},
	}
	for _, budget := range []int{0, 2} {
		rep, err := Run(context.Background(), Config{Kind: CloudTrail, Input: &storage.LocalSink{Root: out}, Top: 15, GroupBudget: budget})
		require.NoError(t, err)
		checkAgainst(t, rep, rows, queries)
		for _, tb := range rep.Tables {
			require.NotEmpty(t, tb.Rows, tb.Name)
		}
	}
}

func TestJSONAndTSV(t *testing.T) {
	rep := &Report{Kind: S3Access, Input: "x", Files: 1, Rows: 3, Tables: []Table{{
		Name: "top_download_ips", Title: "T", SQL: "SELECT 1", Columns: []string{"remoteip", "bytes", "requests"},
		Rows: [][]any{{"192.0.2.1", int64(10), int64(2)}, {nil, nil, int64(1)}, {"a\tb", int64(0), int64(1)}}, Groups: 3}}}
	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, rep))
	var back map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	tb := back["tables"].([]any)[0].(map[string]any)
	require.Equal(t, []any{"remoteip", "bytes", "requests"}, tb["columns"])
	require.Equal(t, []any{[]any{"192.0.2.1", 10.0, 2.0}, []any{nil, nil, 1.0}, []any{"a\tb", 0.0, 1.0}}, tb["rows"])
	require.Equal(t, "SELECT 1", tb["sql"])
	require.Equal(t, 3.0, back["rows"])

	var tsv bytes.Buffer
	require.NoError(t, WriteTSV(&tsv, rep))
	require.Equal(t, "# top_download_ips: T\nremoteip\tbytes\trequests\n192.0.2.1\t10\t2\n\t\t1\na\\tb\t0\t1\n\n", tsv.String())
}
