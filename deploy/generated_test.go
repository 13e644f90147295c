package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/report"
)

var update = flag.Bool("update", false, "rewrite the generated parts of convert.yaml")

// convertBinary is cmd/convert, built once for the tests that run it.
var convertBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "convert-deploy-")
	if err != nil {
		panic(err)
	}
	convertBinary = filepath.Join(dir, "convert")
	if out, err := exec.Command("go", "build", "-o", convertBinary, "../cmd/convert").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building convert: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	beginGenerated = "# BEGIN GENERATED"
	endGenerated   = "# END GENERATED"
)

// generated returns what a generated block of convert.yaml holds, from its
// BEGIN line: "…: convert ddl …" is that command's output, "… from
// FILE.asl.json" the state machine's definition as a DefinitionString.
func generated(t *testing.T, begin string) string {
	t.Helper()
	indent := begin[:len(begin)-len(strings.TrimLeft(begin, " "))]
	what := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(begin), beginGenerated))
	what, _, _ = strings.Cut(what, " (")
	var lines []string
	switch {
	case strings.HasPrefix(what, ": convert "):
		args := strings.Fields(strings.TrimPrefix(what, ": convert "))
		var out, errb bytes.Buffer
		cmd := exec.Command(convertBinary, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		require.NoError(t, cmd.Run(), "convert %s: %s", strings.Join(args, " "), errb.String())
		lines = strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	case strings.HasPrefix(what, "from ") && strings.HasSuffix(what, ".asl.json"):
		data, err := os.ReadFile(strings.TrimPrefix(what, "from "))
		require.NoError(t, err)
		lines = append(lines, "DefinitionString: |")
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			lines = append(lines, "  "+l)
		}
	case strings.HasPrefix(what, "from report.Queries "):
		lines = reportQueries(t, strings.Fields(strings.TrimPrefix(what, "from report.Queries ")))
	default:
		require.Failf(t, "unknown generated block", "%q", begin)
	}
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + l + "\n")
	}
	return b.String()
}

// yesterday is the saved queries' condition on the partition days.
const yesterday = "year = date_format(current_date - interval '1' day, '%Y')\n" +
	"  AND month = date_format(current_date - interval '1' day, '%m')\n" +
	"  AND day = date_format(current_date - interval '1' day, '%d')"

// reportQueries are the NamedQuery resources of convert report's tables
// (args: the kind, then the tables' names), for yesterday, on the
// classified flow-log table.
func reportQueries(t *testing.T, args []string) []string {
	t.Helper()
	qs, err := report.Queries(args[0], yesterday, report.DefaultTop)
	require.NoError(t, err)
	var lines []string
	for _, name := range args[1:] {
		i := slices.IndexFunc(qs, func(q report.Query) bool { return q.Name == name })
		require.GreaterOrEqual(t, i, 0, "report has no table %q", name)
		q := qs[i]
		id := ""
		for _, w := range strings.Split(name, "_") {
			id += strings.ToUpper(w[:1]) + w[1:]
		}
		lines = append(lines, id+"Query:",
			"  Type: AWS::Athena::NamedQuery",
			"  Condition: IsClassified",
			"  Properties:",
			"    Name: "+yamlString(q.Title+", yesterday"),
			"    Description: "+yamlString("convert report's "+name+" table (README: convert report)"),
			"    WorkGroup: !Ref WorkGroup",
			"    Database: !Ref GlueDatabase",
			"    QueryString: |")
		for _, l := range strings.Split(q.SQL, "\n") {
			lines = append(lines, "      "+l)
		}
		lines = append(lines, "")
	}
	return lines[:len(lines)-1]
}

// yamlString quotes s for YAML (single quotes, doubled inside).
func yamlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestGenerated: the Glue tables in convert.yaml are what `convert ddl KIND
// --format cloudformation` prints from the writer's Arrow schemas, the
// classification queries are convert report's SQL, and the state machine
// definitions are the ASL files; -update rewrites them.
func TestGenerated(t *testing.T) {
	data, err := os.ReadFile("convert.yaml")
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	var out strings.Builder
	blocks := 0
	for i := 0; i < len(lines); i++ {
		out.WriteString(lines[i])
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), beginGenerated) {
			continue
		}
		blocks++
		begin := strings.TrimRight(lines[i], "\n")
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), endGenerated) {
			j++
		}
		require.Less(t, j, len(lines), "%q has no %s", begin, endGenerated)
		want := generated(t, begin)
		if got := strings.Join(lines[i+1:j], ""); got != want && !*update {
			require.Equal(t, want, got, "convert.yaml is out of date: go test ./deploy/ -run TestGenerated -update")
		}
		out.WriteString(want)
		i = j - 1
	}
	require.Equal(t, 7, blocks, "four tables (flow logs with and without classification), the classification queries and two state machines")
	if *update && out.String() != string(data) {
		require.NoError(t, os.WriteFile("convert.yaml", []byte(out.String()), 0o644))
		t.Log("convert.yaml updated")
	}
}
