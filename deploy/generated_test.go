package deploy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
	default:
		require.Failf(t, "unknown generated block", "%q", begin)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	return b.String()
}

// TestGenerated: the Glue tables in convert.yaml are what `convert ddl KIND
// --format cloudformation` prints from the writer's Arrow schemas, and the
// state machine definitions are the ASL files; -update rewrites them.
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
	require.Equal(t, 5, blocks, "three tables and two state machines")
	if *update && out.String() != string(data) {
		require.NoError(t, os.WriteFile("convert.yaml", []byte(out.String()), 0o644))
		t.Log("convert.yaml updated")
	}
}
