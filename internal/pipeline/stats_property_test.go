package pipeline

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
)

// The statistics property (issue 16): whatever the batches look like, every
// row group's and every page's min/max/null count, decoded from the written
// file, bound every value read back, so no engine that prunes by statistics
// skips a row it should return. Inputs are generated in runs of rows in which
// each column independently holds only "", only NULL, one repeated value,
// strings over 4 KiB, or a random mix; batches are small and of random size
// so that runs start and end inside and across batches, row groups and pages;
// rows of one batch alternate between days, so the pipeline splits batches
// by partition (compute.Take) as well as by slicing. Every file is checked
// with arrow-go and with parquet-go.

// columnMode is what a column holds during one run of rows.
type columnMode int

const (
	modeMixed columnMode = iota
	modeEmpty
	modeNull
	modeSingle
	modeLong
	numModes
)

// propGen draws the values of one input.
type propGen struct {
	r      *rand.Rand
	modes  map[string]columnMode
	single map[string]string
}

// newRun picks each column's mode for the next run of rows.
func (g *propGen) newRun(columns []string) int {
	for _, c := range columns {
		g.modes[c] = columnMode(g.r.IntN(int(numModes)))
		g.single[c] = g.token(false)
	}
	return 1 + g.r.IntN(40)
}

const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+"

// token is a random string without spaces or quotes, long (over 4 KiB) or
// short, sometimes with non-ASCII letters (bytewise order differs from rune
// order only there).
func (g *propGen) token(long bool) string {
	n := 1 + g.r.IntN(12)
	if long {
		n = parquettest.MaxStatsBytes + 1 + g.r.IntN(2000)
	}
	var b strings.Builder
	for b.Len() < n {
		switch g.r.IntN(20) {
		case 0:
			b.WriteString("é")
		case 1:
			b.WriteString("日")
		default:
			b.WriteByte(tokenChars[g.r.IntN(len(tokenChars))])
		}
	}
	return b.String()
}

// str returns column c's next value; ok false is NULL. canEmpty says
// whether the format can carry "" (not as a bare token).
func (g *propGen) str(c string, canEmpty bool) (string, bool) {
	mode := g.modes[c]
	if mode == modeEmpty && !canEmpty {
		mode = modeNull
	}
	switch mode {
	case modeEmpty:
		return "", true
	case modeNull:
		return "", false
	case modeSingle:
		return g.single[c], true
	case modeLong:
		return g.token(g.r.IntN(4) == 0), true // long ones in a run of short ones
	}
	switch g.r.IntN(8) {
	case 0:
		return "", !canEmpty
	case 1:
		if canEmpty {
			return "", true
		}
		return "", false
	case 2:
		return g.token(g.r.IntN(40) == 0), true
	}
	return g.token(false), true
}

// num returns column c's next integer below limit; ok false is NULL.
func (g *propGen) num(c string, limit int64) (int64, bool) {
	switch g.modes[c] {
	case modeNull, modeEmpty:
		return 0, false
	case modeSingle:
		return int64(len(g.single[c])) * 1000 % limit, true
	case modeLong:
		return limit - 1, true
	}
	if g.r.IntN(6) == 0 {
		return 0, false
	}
	return g.r.Int64N(limit), true
}

// day is a time on one of two days; runs of rows switch days often.
func (g *propGen) day(base time.Time) time.Time {
	return base.Add(time.Duration(g.r.IntN(2))*24*time.Hour + time.Duration(g.r.IntN(86400))*time.Second)
}

func newPropGen(seed uint64) *propGen {
	return &propGen{r: rand.New(rand.NewPCG(seed, 16)), modes: map[string]columnMode{}, single: map[string]string{}}
}

var propBase = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func writeInput(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

// flowLogsInput writes rows of a custom flow-log format with string and
// integer columns.
func flowLogsInput(t *testing.T, g *propGen, root string, rows int) {
	strCols := []string{"account-id", "interface-id", "srcaddr", "dstaddr", "action", "log-status", "vpc-id", "flow-direction"}
	intCols := []struct {
		name  string
		limit int64
	}{{"version", 1 << 31}, {"srcport", 1 << 31}, {"dstport", 65536}, {"protocol", 256}, {"packets", 1 << 62}, {"bytes", 1 << 62}}
	cols := append([]string{"start", "end"}, strCols...)
	for _, c := range intCols {
		cols = append(cols, c.name)
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, " ") + "\n")
	left := 0
	for range rows {
		if left == 0 {
			left = g.newRun(cols)
		}
		left--
		start := g.day(propBase).Unix()
		fields := []string{fmt.Sprint(start), fmt.Sprint(start + 60)}
		for _, c := range strCols {
			v, ok := g.str(c, false)
			if !ok {
				v = "-"
			}
			fields = append(fields, v)
		}
		for _, c := range intCols {
			v, ok := g.num(c.name, c.limit)
			s := "-"
			if ok {
				s = fmt.Sprint(v)
			}
			fields = append(fields, s)
		}
		b.WriteString(strings.Join(fields, " ") + "\n")
	}
	writeInput(t, root, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20240501T0000Z_0a1b2c3d.log", b.String())
}

// s3AccessInput writes access-log lines; the free-form fields vary, the
// quoted referrer and user agent can hold "".
func s3AccessInput(t *testing.T, g *propGen, root string, rows int) {
	bare := []string{"bucketowner", "requester", "requestid", "key", "errorcode", "totaltime", "versionid", "hostid", "ciphersuite", "endpoint", "accesspointarn"}
	quoted := []string{"referrer", "useragent"}
	all := append(append(append([]string{}, bare...), quoted...), "bytessent", "objectsize")
	var b strings.Builder
	left := 0
	for range rows {
		if left == 0 {
			left = g.newRun(all)
		}
		left--
		v := map[string]string{}
		for _, c := range bare {
			s, ok := g.str(c, false)
			if !ok {
				s = "-"
			}
			v[c] = s
		}
		for _, c := range quoted {
			s, ok := g.str(c, true)
			if ok {
				s = `"` + s + `"`
			} else {
				s = "-"
			}
			v[c] = s
		}
		for _, c := range []string{"bytessent", "objectsize"} {
			n, ok := g.num(c, 1<<62)
			v[c] = "-"
			if ok {
				v[c] = fmt.Sprint(n)
			}
		}
		when := g.day(propBase).Format("02/Jan/2006:15:04:05 -0700")
		fmt.Fprintf(&b, "%s my-bucket [%s] 198.51.100.7 %s %s REST.GET.OBJECT %s \"GET /k HTTP/1.1\" 200 %s %s %s %s 9 %s %s %s %s SigV4 %s AuthHeader %s TLSv1.3 %s - eu-west-1\n",
			v["bucketowner"], when, v["requester"], v["requestid"], v["key"], v["errorcode"], v["bytessent"], v["objectsize"],
			v["totaltime"], v["referrer"], v["useragent"], v["versionid"], v["hostid"], v["ciphersuite"], v["endpoint"], v["accesspointarn"])
	}
	writeInput(t, root, "logs/2024-05-01-00-00-00-0A1B2C3D4E5F6A7B", b.String())
}

// cloudTrailInput writes NDJSON events; strings can be "", null or absent,
// and resources absent, null, [], or elements with missing fields.
func cloudTrailInput(t *testing.T, g *propGen, root string, rows int) {
	top := []string{"eventVersion", "eventSource", "eventName", "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestID", "eventID", "eventType", "sharedEventID"}
	ident := []string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName"}
	res := []string{"ARN", "accountId", "type"}
	cols := append(append(append([]string{"requestParameters", "resources", "identity", "attributes"}, top...), prefixed("ui.", ident)...), prefixed("r.", res)...)
	var b strings.Builder
	left := 0
	put := func(ev map[string]any, name, col string) {
		s, ok := g.str(col, true)
		switch {
		case ok:
			ev[name] = s
		case g.r.IntN(2) == 0:
			ev[name] = nil
		}
	}
	for range rows {
		if left == 0 {
			left = g.newRun(cols)
		}
		left--
		ev := map[string]any{
			"eventTime":          g.day(propBase).Format(time.RFC3339),
			"awsRegion":          []string{"us-east-1", "cn-north-1"}[g.r.IntN(2)],
			"recipientAccountId": "111122223333",
		}
		for _, c := range top {
			put(ev, c, c)
		}
		if s, ok := g.str("requestParameters", true); ok {
			ev["requestParameters"] = map[string]any{"bucketName": s}
		}
		if _, ok := g.str("identity", true); ok {
			ui := map[string]any{}
			for _, c := range ident {
				put(ui, c, "ui."+c)
			}
			if _, ok := g.str("attributes", true); ok {
				k, _ := g.str("ui.arn", true)
				v, _ := g.str("ui.type", true)
				ui["sessionContext"] = map[string]any{"webIdFederationData": map[string]any{"attributes": map[string]any{k: v}}}
			}
			ev["userIdentity"] = ui
		}
		switch g.modes["resources"] {
		case modeNull:
		case modeEmpty:
			ev["resources"] = []any{}
		case modeSingle:
			ev["resources"] = nil
		default:
			var list []any
			for range g.r.IntN(4) {
				e := map[string]any{}
				for _, c := range res {
					put(e, c, "r."+c)
				}
				list = append(list, e)
			}
			ev["resources"] = list
		}
		line, err := json.Marshal(ev)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	writeInput(t, root, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0000Z_k9Xw2LpQmR4tZs7A.json", b.String())
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

func TestStatisticsBoundEveryValue(t *testing.T) {
	seeds, rows := 3, 800
	if testing.Short() {
		seeds, rows = 2, 500
	}
	kinds := []struct {
		name  string
		input func(*testing.T, *propGen, string, int)
		kind  func(chunkRows int) Kind
	}{
		{"flowlogs", flowLogsInput, func(n int) Kind { return &FlowLogs{ChunkRows: n} }},
		{"s3access", s3AccessInput, func(n int) Kind { return &S3Access{ChunkRows: n} }},
		{"cloudtrail", cloudTrailInput, func(n int) Kind { return &CloudTrail{ChunkRows: n} }},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var total parquettest.StatsReport
			for seed := range seeds {
				g := newPropGen(uint64(seed))
				in := t.TempDir()
				k.input(t, g, in, rows)
				chunkRows := 1 + g.r.IntN(64)
				rowGroup := int64(32<<10) << g.r.IntN(4) // 32 KiB … 256 KiB: several row groups and pages
				out, s := convertKind(t, k.kind(chunkRows), in, func(c *Config) { c.Writer.RowGroupBytes = rowGroup })
				require.Zero(t, s.RecordsRejected, "seed %d: the generator writes valid records", seed)
				require.EqualValues(t, rows, s.RecordsWritten)
				files := parquettest.Files(t, out, ".parquet")
				require.NotEmpty(t, files)
				var arrowRep, goRep parquettest.StatsReport
				for _, f := range files {
					p := filepath.Join(out, f)
					r := parquettest.CheckStatistics(t, p)
					arrowRep.Add(r)
					goRep.Add(parquettest.CheckStatisticsParquetGo(t, p))
				}
				require.Equal(t, arrowRep, goRep, "seed %d: arrow-go and parquet-go read the same values and pages", seed)
				total.Add(arrowRep)
			}
			t.Logf("%+v", total)
			// The generator reached what the property is about.
			require.Greater(t, total.Pages, total.Chunks, "more pages than column chunks")
			require.Positive(t, total.Nulls)
			require.Positive(t, total.LongStrings)
			if k.name != "flowlogs" { // a bare token cannot be ""
				require.Positive(t, total.EmptyStrings)
			}
		})
	}
}

// The case of issue 16 as reported: a first batch (8192 events) whose
// errorMessage is "" everywhere, then 100 events with "Access Denied", in
// one row group. The footer said min = max = "Access Denied", so Athena
// pruning by it returned none of the 8192 rows whose errormessage is "".
func TestEmptyErrorMessageInMin(t *testing.T) {
	var b strings.Builder
	for i := range 8192 + 100 {
		msg := ""
		if i >= 8192 {
			msg = "Access Denied"
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.08","eventTime":"2024-05-01T08:00:00Z","awsRegion":"us-east-1","recipientAccountId":"111122223333","eventName":"GetObject","errorMessage":%q}`+"\n", msg)
	}
	in := t.TempDir()
	writeInput(t, in, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0000Z_k9Xw2LpQmR4tZs7A.json", b.String())
	out, s := convertKind(t, &CloudTrail{}, in, nil)
	require.EqualValues(t, 8292, s.RecordsWritten)
	files := parquettest.Files(t, out, ".parquet")
	require.Len(t, files, 1)
	p := filepath.Join(out, files[0])
	require.Equal(t, 1, parquettest.Read(t, p).RowGroups)
	rep := parquettest.CheckStatistics(t, p) // min must be "" in footer and pages
	require.GreaterOrEqual(t, rep.EmptyStrings, int64(8192))
	parquettest.CheckStatisticsParquetGo(t, p)
}
