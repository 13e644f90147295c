package main

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/report"
	"convert/internal/s3test"
)

// reportJSON is the JSON of convert report, as a script reads it.
type reportJSON struct {
	Kind   string `json:"kind"`
	Files  int    `json:"files"`
	Rows   int64  `json:"rows"`
	Tables []struct {
		Name    string   `json:"name"`
		SQL     string   `json:"sql"`
		Columns []string `json:"columns"`
		Rows    [][]any  `json:"rows"`
	} `json:"tables"`
}

// classifiedTestdata converts the project's flow-log testdata with
// classification and returns the output tree.
func classifiedTestdata(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	code, _, stderr := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", out, "--classify",
		"--vpc-cidrs", "10.0.0.0/8,172.16.0.0/12", "--aws-ip-ranges", "../../internal/classify/testdata/ip-ranges.json")
	require.Equal(t, exitOK, code, stderr)
	return out
}

// cellText is how the TSV and HTML outputs print a JSON cell.
func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return v.(string)
}

func TestReportCommandFormats(t *testing.T) {
	out := classifiedTestdata(t)
	code, stdout, stderr := runCLI(t, "report", "flowlogs", "--in", out, "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var rep reportJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)
	require.Equal(t, "flowlogs", rep.Kind)
	require.Equal(t, int64(482), rep.Rows)
	names := []string{}
	for _, tb := range rep.Tables {
		names = append(names, tb.Name)
		require.Contains(t, tb.SQL, "FROM flow_logs_parquet")
		for _, r := range tb.Rows {
			require.Len(t, r, len(tb.Columns))
		}
	}
	require.Equal(t, []string{"top_pairs", "internet_by_internal_addr", "internet_by_remote_addr", "traffic_by_remote_aws_service",
		"nat_top_contributors", "nat_aws_service", "bytes_per_day_class"}, names)
	require.NotEmpty(t, rep.Tables[0].Rows)
	require.NotEmpty(t, rep.Tables[1].Rows)

	// TSV: the same cells, table by table.
	code, tsv, stderr := runCLI(t, "report", "flowlogs", "--in", out, "--format", "tsv")
	require.Equal(t, exitOK, code, stderr)
	blocks := strings.Split(strings.TrimSuffix(tsv, "\n\n"), "\n\n")
	require.Len(t, blocks, len(rep.Tables))
	for i, b := range blocks {
		lines := strings.Split(b, "\n")
		tb := rep.Tables[i]
		require.True(t, strings.HasPrefix(lines[0], "# "+tb.Name+": "), lines[0])
		require.Equal(t, strings.Join(tb.Columns, "\t"), lines[1])
		require.Len(t, lines, len(tb.Rows)+2)
		for j, r := range tb.Rows {
			cells := make([]string, len(r))
			for k, v := range r {
				cells[k] = cellText(v)
			}
			require.Equal(t, strings.Join(cells, "\t"), lines[j+2])
		}
	}

	// HTML to a file: the tables hold the JSON's cells.
	page := filepath.Join(t.TempDir(), "report.html")
	code, _, stderr = runCLI(t, "report", "flowlogs", "--in", out, "--out", page)
	require.Equal(t, exitOK, code, stderr)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	requireHTMLTablesEqual(t, string(b), rep)
	require.NotContains(t, string(b), "http://www.w3.org/1999") // nothing but the SVG namespace names a URL
	require.NotRegexp(t, `(src|href)="(https?:)?//`, string(b))
}

// requireHTMLTablesEqual checks that every table of the page holds exactly
// the rows of the JSON report.
func requireHTMLTablesEqual(t *testing.T, page string, rep reportJSON) {
	t.Helper()
	tableRe := regexp.MustCompile(`(?s)<table class="data" data-table="([^"]+)">.*?<tbody>(.*?)</tbody>`)
	rowRe := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRe := regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	got := tableRe.FindAllStringSubmatch(page, -1)
	require.Len(t, got, len(rep.Tables))
	for i, m := range got {
		tb := rep.Tables[i]
		require.Equal(t, tb.Name, m[1])
		rows := rowRe.FindAllStringSubmatch(m[2], -1)
		require.Len(t, rows, len(tb.Rows), tb.Name)
		for j, r := range rows {
			var cells []string
			for _, c := range cellRe.FindAllStringSubmatch(r[1], -1) {
				cells = append(cells, html.UnescapeString(c[1]))
			}
			want := make([]string, len(tb.Rows[j]))
			for k, v := range tb.Rows[j] {
				want[k] = cellText(v)
				if v == nil {
					want[k] = "NULL"
				}
			}
			require.Equal(t, want, cells, tb.Name)
		}
	}
}

func TestReportCommandUsage(t *testing.T) {
	code, _, stderr := runCLI(t, "report", "flowlogs")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "--in is required")
	code, _, stderr = runCLI(t, "report", "flowlogs", "--in", t.TempDir(), "--format", "xml")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "--format")
	code, _, stderr = runCLI(t, "report", "flowlogs", "--in", t.TempDir(), "--from", "2024-01-02", "--to", "2024-01-01")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "before --from")
	// An empty tree: no files, a failure that says so.
	code, _, stderr = runCLI(t, "report", "s3access", "--in", t.TempDir())
	require.Equal(t, exitFailed, code)
	require.Contains(t, stderr, "no Parquet files")
}

// reportSQLMarkdown is the README's list of the report's tables and their
// SQL, for --from 2021-12-01 --to 2021-12-05.
func reportSQLMarkdown(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, k := range []struct{ kind, title string }{{report.FlowLogs, "Flow logs"}, {report.S3Access, "S3 server access logs"}, {report.CloudTrail, "CloudTrail"}} {
		qs, err := report.Queries(k.kind, "year = '2021' AND month = '12' AND day BETWEEN '01' AND '05'", report.DefaultTop)
		require.NoError(t, err)
		fmt.Fprintf(&b, "#### %s\n\n", k.title)
		for _, q := range qs {
			fmt.Fprintf(&b, "`%s`: %s.\n\n```sql\n%s;\n```\n\n", q.Name, q.Title, q.SQL)
		}
	}
	return b.String()
}

var reportSQLBlock = regexp.MustCompile(`(?s)(<!-- report-sql:[^\n]*-->\n).*?(<!-- end report-sql -->)`)

// TestReportREADMESQL checks that the README lists the report's tables with
// the SQL the report prints (go test ./cmd/convert -run TestReportREADMESQL
// -update rewrites the list).
func TestReportREADMESQL(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	m := reportSQLBlock.FindStringSubmatchIndex(string(data))
	require.NotNil(t, m, "README.md has no <!-- report-sql --> block")
	want := reportSQLMarkdown(t)
	got := string(data[m[3]:m[4]])
	if *update {
		readme := string(data[:m[3]]) + want + string(data[m[4]:])
		require.NoError(t, os.WriteFile("../../README.md", []byte(readme), 0o644))
		return
	}
	require.Equal(t, want, got, "README.md's report SQL is not the report's; if intended: go test ./cmd/convert -run TestReportREADMESQL -update")
}

// TestReportFromS3 reads the output tree from S3 (versitygw): the same
// tables as from the directory, by ranged reads of only the range's days.
func TestReportFromS3(t *testing.T) {
	out := classifiedTestdata(t)
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "lake")
	// The tree under a prefix, next to other data that is not the table.
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "flowlogs"), os.DirFS(out)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.parquet"), []byte("not parquet"), 0o644))
	srv.Upload(t, "lake", dir)
	for _, days := range [][]string{nil, {"--from", "2021-12-05", "--to", "2021-12-05"}} {
		local := runBinary(t, nil, append([]string{"report", "flowlogs", "--in", out, "--format", "json"}, days...)...)
		require.Equal(t, 0, local.code, local.stderr)
		remote := runBinary(t, srv.Env(), append([]string{"report", "flowlogs", "--in", "s3://lake/flowlogs", "--format", "json",
			"--endpoint-url", srv.Endpoint, "--path-style"}, days...)...)
		require.Equal(t, 0, remote.code, remote.stderr)
		var a, b map[string]any
		require.NoError(t, json.Unmarshal([]byte(local.stdout), &a))
		require.NoError(t, json.Unmarshal([]byte(remote.stdout), &b))
		require.Equal(t, "s3://lake/flowlogs", b["input"])
		delete(a, "input")
		delete(b, "input")
		require.Equal(t, a, b)
		require.NotEmpty(t, b["tables"].([]any)[0].(map[string]any)["rows"])
	}
}
