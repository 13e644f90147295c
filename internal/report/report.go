package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"convert/internal/storage"
)

// Kinds of converted output a report reads.
const (
	FlowLogs   = "flowlogs"
	S3Access   = "s3access"
	CloudTrail = "cloudtrail"
)

// DefaultTop is the number of rows of the top-N tables.
const DefaultTop = 50

// DefaultGroupBudget is the number of groups a table keeps in memory before
// it spills them to disk (a group is its key and 16 bytes per value, plus
// the map entry: about 100 bytes).
const DefaultGroupBudget = 1 << 16

// Config says what to report on.
type Config struct {
	// Kind is FlowLogs, S3Access or CloudTrail.
	Kind string
	// Input is the converted output tree (a LocalSink or S3Sink: the report
	// lists and reads, never writes).
	Input storage.Sink
	// From and To bound the partition days, inclusive (zero: unbounded).
	From, To time.Time
	// Top is the number of rows of the top-N tables (0 = DefaultTop).
	Top int
	// GroupBudget is the number of groups per table held in memory before
	// they spill to TempDir (0 = DefaultGroupBudget). The answers do not
	// depend on it.
	GroupBudget int
	// TempDir holds spilled groups ("" = os.TempDir()).
	TempDir string
	// Progress, when set, gets a progress line per file read ("\r"-ended
	// lines, for a terminal).
	Progress io.Writer
}

// Report is the answer: one table per question.
type Report struct {
	Kind      string   `json:"kind"`
	Input     string   `json:"input"`
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
	Files     int      `json:"files"`
	FileBytes int64    `json:"file_bytes"`
	Rows      int64    `json:"rows"`
	Spills    int      `json:"spills"`
	Notes     []string `json:"notes,omitempty"`
	Tables    []Table  `json:"tables"`
}

// Table is one question's answer, with the Athena SQL it equals.
type Table struct {
	Name    string   `json:"name"`
	Title   string   `json:"title"`
	SQL     string   `json:"sql"`
	Columns []string `json:"columns"`
	// Rows hold a string, an int64 or nil (NULL) per column.
	Rows [][]any `json:"rows"`
	// Groups is the number of groups before LIMIT.
	Groups int64 `json:"groups"`
	// Chart is how the HTML page draws it: "bars" (the first value column
	// per row) or "stacked" (the first key along the axis, the second as
	// the stack, the value as the height).
	Chart string `json:"-"`
}

// progressEvery is the least time between two progress lines.
const progressEvery = 200 * time.Millisecond

// ErrNoFiles is returned when no Parquet file of the range is under the
// input.
var ErrNoFiles = errors.New("report: no Parquet files in the range")

// Run reads the Parquet files of the range and answers every question of
// the kind.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	k, ok := kinds[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("report: unknown kind %q", cfg.Kind)
	}
	if cfg.Top <= 0 {
		cfg.Top = DefaultTop
	}
	if cfg.GroupBudget <= 0 {
		cfg.GroupBudget = DefaultGroupBudget
	}
	from, to := dayString(cfg.From), dayString(cfg.To)
	if from != "" && to != "" && from > to {
		return nil, fmt.Errorf("report: --from %s is after --to %s", from, to)
	}
	files, err := listFiles(ctx, cfg.Input, k.dayPrefixed, from, to)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kind: cfg.Kind, Input: cfg.Input.String(), From: from, To: to, Files: len(files), Tables: []Table{}}
	if len(files) == 0 {
		return rep, fmt.Errorf("%w under %s", ErrNoFiles, cfg.Input)
	}
	for _, f := range files {
		rep.FileBytes += f.obj.Size
	}
	dir, err := os.MkdirTemp(cfg.TempDir, "convert-report-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	specs := k.tables(daysWhere(from, to))
	groups := make([]*groupBy, len(specs))
	for i, s := range specs {
		groups[i] = newGroupBy(len(s.keys), len(s.values), cfg.GroupBudget, dir)
	}
	acc := &accumulator{groups: groups}
	var readBytes int64
	start := time.Now()
	var shown time.Time
	for n, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		acc.day = f.day
		err := readFile(ctx, cfg.Input, f.obj, k.columns, func(b *batch) error {
			rep.Rows += int64(b.rows)
			acc.file = f.obj.Key
			return k.add(acc, b)
		})
		if err != nil {
			return nil, err
		}
		if acc.err != nil {
			return nil, acc.err
		}
		readBytes += f.obj.Size
		if cfg.Progress != nil && (n+1 == len(files) || time.Since(shown) >= progressEvery) {
			shown = time.Now()
			fmt.Fprintf(cfg.Progress, "\rreport: %d/%d files, %s of %s, %d rows, %s ", n+1, len(files),
				humanBytes(readBytes), humanBytes(rep.FileBytes), rep.Rows, time.Since(start).Round(time.Second))
		}
	}
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress)
	}
	present := acc.present
	for i, s := range specs {
		if s.needs != "" && !present[s.needs] {
			continue
		}
		rep.Spills += groups[i].spills
		t, err := s.result(groups[i], cfg.Top)
		if err != nil {
			return nil, err
		}
		rep.Tables = append(rep.Tables, t)
	}
	rep.Notes = k.notes(present)
	return rep, nil
}

// accumulator is what a kind's add function fills: the tables' group-bys,
// and which optional columns appeared.
type accumulator struct {
	groups  []*groupBy
	day     string
	file    string
	present map[string]bool
	err     error
}

func (a *accumulator) add(table int, keys, vals []cell) {
	if a.err == nil {
		a.err = a.groups[table].add(keys, vals)
	}
}

func (a *accumulator) saw(column string) {
	if a.present == nil {
		a.present = map[string]bool{}
	}
	a.present[column] = true
}

// Query is the Athena SQL of one table.
type Query struct{ Name, Title, SQL string }

// Queries returns the Athena SQL of a kind's tables, in the report's order:
// days is the condition on the partition columns (such as "year = '2021'
// AND month = '12' AND day = '04'"), top the LIMIT of the top-N tables.
func Queries(kindName, days string, top int) ([]Query, error) {
	k, ok := kinds[kindName]
	if !ok {
		return nil, fmt.Errorf("report: unknown kind %q", kindName)
	}
	var qs []Query
	for _, s := range k.tables(days) {
		qs = append(qs, Query{Name: s.name, Title: s.title, SQL: strings.ReplaceAll(s.sql, "{top}", fmt.Sprint(top))})
	}
	return qs, nil
}

// kind describes the report of one kind of output.
type kind struct {
	// columns are the leaf paths read: nothing else is.
	columns []string
	// dayPrefixed: partitions start with year=/month=/day= (so a day's
	// files are listed under their own prefix).
	dayPrefixed bool
	tables      func(days string) []tableSpec
	add         func(*accumulator, *batch) error
	notes       func(present map[string]bool) []string
}

var kinds = map[string]kind{}

// tableSpec is one question: its group keys and values, and its SQL.
type tableSpec struct {
	name, title string
	keys        []string
	values      []string
	// byKeys orders the rows by their keys and keeps all; otherwise they
	// are ordered by the first value, descending, NULLs last, then by the
	// keys, and the first Top kept.
	byKeys bool
	sql    string
	chart  string
	// needs names a column without which the table is left out.
	needs string
}

// result orders and cuts the groups into the table.
func (s tableSpec) result(g *groupBy, top int) (Table, error) {
	t := Table{Name: s.name, Title: s.title, SQL: strings.ReplaceAll(s.sql, "{top}", fmt.Sprint(top)),
		Columns: append(slices.Clone(s.keys), s.values...), Rows: [][]any{}, Chart: s.chart}
	type row struct {
		keys []cell
		vals []cell
	}
	less := func(a, b row) int {
		if !s.byKeys {
			if c := compareCells(a.vals[0], b.vals[0], true); c != 0 {
				return -c * nullsStayLast(a.vals[0], b.vals[0])
			}
		}
		for i := range a.keys {
			if c := compareCells(a.keys[i], b.keys[i], false); c != 0 {
				return c
			}
		}
		return 0
	}
	var kept []row
	limit := top
	if s.byKeys {
		limit = -1
	}
	err := g.each(func(keys []cell, vals []value) error {
		t.Groups++
		r := row{keys: keys, vals: make([]cell, len(vals))}
		for i, v := range vals {
			r.vals[i] = cell{num: v.sum, valid: v.n > 0}
		}
		if limit < 0 || len(kept) < limit {
			kept = append(kept, r)
			if len(kept) == limit {
				slices.SortFunc(kept, less)
			}
			return nil
		}
		// Full: keep r if it sorts before the last kept row.
		if less(r, kept[len(kept)-1]) < 0 {
			i, _ := slices.BinarySearchFunc(kept, r, less)
			copy(kept[i+1:], kept[i:len(kept)-1])
			kept[i] = r
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	slices.SortFunc(kept, less)
	for _, r := range kept {
		out := make([]any, 0, len(r.keys)+len(r.vals))
		for _, k := range r.keys {
			if k.valid {
				out = append(out, k.str)
			} else {
				out = append(out, nil)
			}
		}
		for _, v := range r.vals {
			if v.valid {
				out = append(out, v.num)
			} else {
				out = append(out, nil)
			}
		}
		t.Rows = append(t.Rows, out)
	}
	return t, nil
}

// nullsStayLast undoes the descending order's flip for NULLs: ORDER BY x
// DESC puts NULLs last too (Trino's default).
func nullsStayLast(a, b cell) int {
	if !a.valid || !b.valid {
		return -1
	}
	return 1
}

// partFile is one Parquet file of the range, with its partition day.
type partFile struct {
	obj storage.Object
	day string // YYYY-MM-DD
}

// listFiles lists the Parquet files whose partition day is in [from, to]
// ("" = unbounded), in key order. Folders and files that start with "_" or
// "." are not table data (Athena skips them too). When partitions start
// with the day (flow logs, S3 access logs) and the range is bounded, only
// the range's day folders are listed.
func listFiles(ctx context.Context, sink storage.Sink, dayPrefixed bool, from, to string) ([]partFile, error) {
	var files []partFile
	visit := func(o storage.Object) error {
		if !strings.HasSuffix(o.Key, ".parquet") || hiddenPath(o.Key) {
			return nil
		}
		day, ok := partitionDay(o.Key)
		if !ok || (from != "" && day < from) || (to != "" && day > to) {
			return nil
		}
		files = append(files, partFile{obj: o, day: day})
		return nil
	}
	if dayPrefixed && from != "" && to != "" {
		f, _ := time.Parse(time.DateOnly, from)
		t, _ := time.Parse(time.DateOnly, to)
		if t.Sub(f) <= 3660*24*time.Hour {
			for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
				prefix := d.Format("year=2006/month=01/day=02") + "/"
				if err := sink.List(ctx, prefix, visit); err != nil {
					return nil, fmt.Errorf("listing %s%s: %w", sink, prefix, err)
				}
			}
			return files, nil
		}
	}
	if err := sink.List(ctx, "", visit); err != nil {
		return nil, fmt.Errorf("listing %s: %w", sink, err)
	}
	slices.SortFunc(files, func(a, b partFile) int { return cmp.Compare(a.obj.Key, b.obj.Key) })
	return files, nil
}

func hiddenPath(key string) bool {
	for _, seg := range strings.Split(key, "/") {
		if strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// partitionDay reads year=/month=/day= from a key's folders.
func partitionDay(key string) (string, bool) {
	var y, m, d string
	for _, seg := range strings.Split(path.Dir(key), "/") {
		name, v, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		switch name {
		case "year":
			y = v
		case "month":
			m = v
		case "day":
			d = v
		}
	}
	if len(y) != 4 || len(m) != 2 || len(d) != 2 {
		return "", false
	}
	return y + "-" + m + "-" + d, true
}

func dayString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
