package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite README.md's generated examples from a real run (TestREADMEExamples)")

// TestREADMEExamples runs the README's Quick start commands on testdata and
// checks that the README's example blocks marked "<!-- generated: NAME -->"
// are their real output, so that the examples cannot drift. Only the
// timings (wall_seconds, mb_per_second) and unit ids may differ. To refresh the README
// after an intended change:
//
//	go test ./cmd/convert -run TestREADMEExamples -update
func TestREADMEExamples(t *testing.T) {
	readmePath, err := filepath.Abs("../../README.md")
	require.NoError(t, err)
	testdata, err := filepath.Abs("../../testdata")
	require.NoError(t, err)
	// The commands exactly as the README gives them, from a directory that
	// looks like the repository root.
	root := t.TempDir()
	require.NoError(t, os.Symlink(testdata, filepath.Join(root, "testdata")))
	t.Chdir(root)

	code, summary, stderr := runCLI(t, "flowlogs", "--in", "testdata/vpcflow", "--out", "out/flowlogs")
	require.Equal(t, exitOK, code, stderr)
	code, verified, stderr := runCLI(t, "verify", "--out", "out/flowlogs")
	require.Equal(t, exitOK, code, stderr)
	code, failed, _ := runCLI(t, "flowlogs", "--in", "testdata/vpcflow")
	require.Equal(t, exitUsage, code)
	var tree []string
	require.NoError(t, filepath.WalkDir("out/flowlogs", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			tree = append(tree, filepath.ToSlash(p))
		}
		return err
	}))

	blocks := map[string]string{
		"quickstart-tree":   strings.Join(tree, "\n") + "\n",
		"quickstart-verify": verified,
		"summary":           formatSummary(summary),
		"failed-summary":    formatSummary(failed),
	}
	data, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	readme := string(data)
	if *update {
		for name, content := range blocks {
			readme = replaceGenerated(t, readme, name, content)
		}
		require.NoError(t, os.WriteFile(readmePath, []byte(readme), 0o644))
		return
	}
	for name, content := range blocks {
		require.Equal(t, withoutTimings(content), withoutTimings(generatedContent(t, readme, name)),
			"README.md's block %q is not what the commands print; if the change is intended: go test ./cmd/convert -run TestREADMEExamples -update", name)
	}
}

var generatedBlock = regexp.MustCompile("(?s)(<!-- generated: ([a-z-]+)[^\n]*-->\n)```([a-z]*)\n.*?```\n(<!-- end generated -->)")

// replaceGenerated puts content into the README's generated block name (a
// fenced block between its marker and "<!-- end generated -->").
func replaceGenerated(t *testing.T, readme, name, content string) string {
	t.Helper()
	found := false
	out := generatedBlock.ReplaceAllStringFunc(readme, func(m string) string {
		sub := generatedBlock.FindStringSubmatch(m)
		if sub[2] != name {
			return m
		}
		found = true
		return sub[1] + "```" + sub[3] + "\n" + content + "```\n" + sub[4]
	})
	require.True(t, found, "README.md has no block <!-- generated: %s --> … <!-- end generated -->", name)
	return out
}

// generatedContent returns what the README's generated block name holds.
func generatedContent(t *testing.T, readme, name string) string {
	t.Helper()
	for _, sub := range generatedBlock.FindAllStringSubmatch(readme, -1) {
		if sub[2] == name {
			fence := "```" + sub[3] + "\n"
			body := sub[0][len(sub[1])+len(fence):]
			return strings.TrimSuffix(body, "```\n"+sub[4])
		}
	}
	t.Fatalf("README.md has no block <!-- generated: %s --> … <!-- end generated -->", name)
	return ""
}

var (
	timings = regexp.MustCompile(`"(wall_seconds|mb_per_second)":([0-9.eE+-]+)`)
	unitIDs = regexp.MustCompile(`\b[0-9a-f]{16}\b`)
)

// withoutTimings blanks what differs between runs and checkouts: timings,
// and unit ids (a hash of the objects' keys, which are absolute paths).
func withoutTimings(s string) string {
	return unitIDs.ReplaceAllString(timings.ReplaceAllString(s, `"$1":0`), "<unit>")
}

// formatSummary lays a summary line out as the README shows it: still
// valid JSON, broken into lines by topic, one output file per line, the
// timings rounded.
func formatSummary(line string) string {
	s := strings.TrimSpace(line)
	for _, key := range []string{"objects_listed", "records_read", "reject_ratio", "output_files", "output_bytes",
		"partitions", "rejects_files", "warnings", "wall_seconds"} {
		s = strings.Replace(s, `,"`+key+`":`, ",\n \""+key+"\":", 1)
	}
	s = strings.Replace(s, `"output_files":[{`, "\"output_files\":[\n   {", 1)
	s = strings.ReplaceAll(s, `},{"path":`, "},\n   {\"path\":")
	s = strings.Replace(s, "}],\n \"output_bytes\"", "}\n ],\n \"output_bytes\"", 1)
	s = timings.ReplaceAllStringFunc(s, func(m string) string {
		sub := timings.FindStringSubmatch(m)
		v, err := strconv.ParseFloat(sub[2], 64)
		if err != nil {
			return m
		}
		prec := 3
		if sub[1] == "mb_per_second" {
			prec = 1
		}
		return fmt.Sprintf(`"%s":%s`, sub[1], strconv.FormatFloat(v, 'f', prec, 64))
	})
	return s + "\n"
}

func TestFormatSummaryIsJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", t.TempDir())
	require.Equal(t, exitOK, code, stderr)
	formatted := formatSummary(stdout)
	require.Greater(t, strings.Count(formatted, "\n"), 8, formatted)
	require.JSONEq(t, withoutTimings(stdout), withoutTimings(formatted))
}
