package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelpOnStdout: every command's -h (and --help, "help CMD") prints its
// help on stdout, so that "| less" shows it, and exits 0.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{
		{"flowlogs", "-h"}, {"cloudtrail", "--help"}, {"s3access", "-help"},
		{"verify", "-h"}, {"ddl", "-h"}, {"ddl", "flowlogs", "-h"}, {"plan", "-h"}, {"plan", "flowlogs", "--help"},
		{"gen", "-h"}, {"bench", "--help"}, {"help", "flowlogs"}, {"help"}, {"--help"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, exitOK, code, "%q: %s", args, stderr)
		require.Empty(t, stderr, "%q", args)
		require.Contains(t, stdout, "Usage:", "%q", args)
	}
	_, stdout, _ := runCLI(t, "flowlogs", "-h")
	require.Contains(t, stdout, "Usage: convert flowlogs --in")
	require.Contains(t, stdout, "-out string", "the flags are listed")
	require.Contains(t, stdout, "-fields string")
	require.NotContains(t, stdout, `"status"`, "help is not a run: no summary")
	_, stdout, _ = runCLI(t, "plan", "flowlogs", "-h")
	require.Contains(t, stdout, "-target-bytes", "plan's own flags")
}

// TestFlagErrorIsOneLineWithSuggestion: a wrong flag gives its error on the
// first line of stderr, with the flag it probably meant, and a pointer to
// -h, not the whole usage.
func TestFlagErrorIsOneLineWithSuggestion(t *testing.T) {
	for args, want := range map[string]string{
		"flowlogs --in x --ot y":      `convert flowlogs: unknown flag --ot (did you mean --out?)`,
		"flowlogs --output y":         `convert flowlogs: unknown flag --output (did you mean --out?)`,
		"cloudtrail --input x":        `convert cloudtrail: unknown flag --input (did you mean --in?)`,
		"s3access --compresion zstd":  `convert s3access: unknown flag --compresion (did you mean --compression?)`,
		"verify --ouput x":            `convert verify: unknown flag --ouput (did you mean --out?)`,
		"ddl flowlogs --locaton s3:x": `convert ddl: unknown flag --locaton (did you mean --location?)`,
		"flowlogs --workers many":     `convert flowlogs: invalid value "many" for flag --workers: parse error`,
		"flowlogs --zzzzzz":           `convert flowlogs: unknown flag --zzzzzz`,
		"gen flowlogs --sise 1MiB":    `convert gen: unknown flag --sise (did you mean --size?)`,
		"flowlog --in x":              `convert: unknown command "flowlog" (did you mean flowlogs?)`,
	} {
		code, _, stderr := runCLI(t, strings.Fields(args)...)
		require.Equal(t, exitUsage, code, args)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		require.Equal(t, want, lines[0], args)
		require.LessOrEqual(t, len(lines), 2, "%s: an error and a pointer to -h, not the usage:\n%s", args, stderr)
		if len(lines) == 2 {
			require.Regexp(t, `^Run "convert (\w+ -h|help)" for`, lines[1], args)
		}
	}
}

func TestNearestFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var c convertFlags
	c.register(fs, "flowlogs")
	for typed, want := range map[string]string{
		"ot": "--out", "output": "--out", "input": "--in", "work": "--workers", "worker": "--workers",
		"compresion": "--compression", "max": "--max-line-bytes or --max-reject-ratio", "incremantal": "--incremental",
		"region-name": "--region", "q": "", "zzzzzz": "", "verbose": "",
	} {
		require.Equal(t, want, nearestFlags(fs, typed), typed)
	}
}

// TestUsageFailurePrintsSummary: every failure of a conversion command,
// usage errors included, prints the summary with status "failed" and the
// error on stdout (README: "also when the run fails"), and the error names
// what is wrong.
func TestUsageFailurePrintsSummary(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"flowlogs"}, "--in and --out are required"},
		{[]string{"flowlogs", "--in", flowTestdata}, "--out is required"},
		{[]string{"flowlogs", "--out", t.TempDir()}, "--in is required"},
		{[]string{"flowlogs", "--in", flowTestdata, "--oot", "x"}, "unknown flag --oot"},
		{[]string{"flowlogs", "--in", flowTestdata, "--out", t.TempDir(), "extra"}, `unexpected argument "extra"`},
		{[]string{"cloudtrail", "--in", flowTestdata, "--out", t.TempDir(), "--compression", "lz4"}, `unknown compression "lz4"`},
		{[]string{"s3access", "--in", filepath.Join(t.TempDir(), "nosuch"), "--out", t.TempDir()}, "nosuch"},
		// issue 18 item 5: an --out that cannot be created.
		{[]string{"flowlogs", "--in", flowTestdata, "--out", filepath.Join(file, "out")}, "--out:"},
		{[]string{"flowlogs", "--in", flowTestdata, "--out", "s3://"}, "--out: not an s3://bucket/prefix URL"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		require.Equal(t, exitUsage, code, "%q: %s", tc.args, stderr)
		s := summaryOf(t, stdout)
		require.Equal(t, "failed", s.Status, "%q", tc.args)
		require.Contains(t, s.Error, tc.want, "%q", tc.args)
		require.Equal(t, string(tc.args[0]), s.Kind)
		require.Contains(t, strings.SplitN(stderr, "\n", 2)[0], tc.want, "%q: the reason comes first on stderr", tc.args)
	}

	// The summary names --in and --out as given, and goes to --summary-out too.
	sum := filepath.Join(t.TempDir(), "summary.json")
	bad := filepath.Join(file, "out")
	code, stdout, _ := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", bad, "--summary-out", sum)
	require.Equal(t, exitUsage, code)
	s := summaryOf(t, stdout)
	require.Equal(t, flowTestdata, s.Input)
	require.Equal(t, bad, s.Output)
	data, err := os.ReadFile(sum)
	require.NoError(t, err)
	require.Equal(t, stdout, string(data))
}

// TestKindlessCommandsSayWhy: ddl, plan, gen and bench without their kind
// print an error line, not only the usage.
func TestKindlessCommandsSayWhy(t *testing.T) {
	for _, args := range [][]string{{"ddl"}, {"plan"}, {"gen"}, {"bench"}} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, exitUsage, code, "%q", args)
		require.Empty(t, stdout)
		require.True(t, strings.HasPrefix(stderr, "convert "+args[0]+": missing the log kind"), "%q: %s", args, stderr)
	}
	code, _, stderr := runCLI(t, "ddl", "--location", "s3://b/")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "the log kind comes first")
	code, _, stderr = runCLI(t, "ddl", "flowlogs")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "--location is required")
}

// TestVerifyWithoutLedgerFails: verify of an empty directory, of the parent
// of an output (a mistyped --out) or of a path that does not exist is an
// error naming the path, not "ok":true with 0 units.
func TestVerifyWithoutLedgerFails(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "flowlogs")
	code, _, stderr := runCLI(t, "flowlogs", "--in", flowTestdata, "--out", out)
	require.Equal(t, exitOK, code, stderr)
	code, stdout, stderr := runCLI(t, "verify", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, `"ok":true`)

	empty := t.TempDir()
	for _, dir := range []string{empty, parent} {
		code, stdout, stderr := runCLI(t, "verify", "--out", dir)
		require.Equal(t, exitFailed, code, "%s: %s", dir, stdout)
		require.Contains(t, stdout, `"ok":false`)
		require.Contains(t, stdout, `"error":"no ledger under `+dir)
		require.Contains(t, stderr, "no ledger under "+dir)
	}
	_, stdout, _ = runCLI(t, "verify", "--out", parent)
	require.Contains(t, stdout, "did you mean --out "+out+"?", "the tree one level down")
	code, stdout, stderr = runCLI(t, "verify", "--out", filepath.Join(empty, "nosuch"))
	require.NotEqual(t, exitOK, code)
	require.Contains(t, stdout, `"ok":false`)
	require.Contains(t, stderr, filepath.Join(empty, "nosuch"))
}
