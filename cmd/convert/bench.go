package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"convert/internal/bench"
	"convert/internal/pipeline"
	"convert/internal/storage"
	"convert/internal/writer"
)

// genFlags are the flags of "convert gen" and the data part of "convert bench".
type genFlags struct {
	kind  kindName
	dir   string
	size  byteSize
	seed  int64
	days  int
	files int
}

func (g *genFlags) register(fs *flag.FlagSet, dirHelp string) {
	g.size = 1 << 30
	fs.Var(&g.size, "size", "uncompressed size of the generated logs")
	fs.Int64Var(&g.seed, "seed", 1, "seed of the generated data (same seed, same bytes)")
	fs.IntVar(&g.days, "days", 2, "number of days the generated logs span")
	fs.IntVar(&g.files, "files", 0, "number of files (0: about one per 8 MiB of text, like busy 5-minute files)")
	fs.StringVar(&g.dir, "dir", "", dirHelp)
}

// generate writes the data set unless dir already holds it (a marker file
// records the parameters it was generated with).
func (g *genFlags) generate(ctx context.Context, stderr io.Writer) error {
	marker := filepath.Join(g.dir, ".convert-gen.json")
	want, _ := json.Marshal(map[string]any{"kind": g.kind, "size": int64(g.size), "seed": g.seed, "days": g.days, "files": g.files})
	if have, err := os.ReadFile(marker); err == nil && string(have) == string(want) {
		fmt.Fprintf(stderr, "using the data already generated in %s\n", g.dir)
		return nil
	}
	fmt.Fprintf(stderr, "generating %s of %s logs in %s …\n", formatBytes(int64(g.size)), g.kind, g.dir)
	if err := g.kind.command().generate(ctx, g, stderr); err != nil {
		return err
	}
	return os.WriteFile(marker, want, 0o644)
}

// parseKind takes the log kind, the first argument of ddl, plan, gen and
// bench. It returns the remaining arguments and -1, or the exit status when
// the command is done: help printed (0) or a usage error reported (2).
func parseKind(command string, args []string, stdout, stderr io.Writer, help func(io.Writer)) (kindName, []string, int) {
	if len(args) == 0 {
		reportUsage(stderr, command, &usageError{msg: "missing the log kind: convert " + command + " " + kindList("|", "|") + " …", flags: true})
		return "", nil, exitUsage
	}
	switch {
	case isKind(args[0]):
		return kindName(args[0]), args[1:], -1
	case isHelp(args[0]):
		help(stdout)
		return "", nil, exitOK
	case strings.HasPrefix(args[0], "-"):
		reportUsage(stderr, command, &usageError{msg: "the log kind comes first: convert " + command + " " + kindList("|", "|") + " [flags]", flags: true})
	default:
		reportUsage(stderr, command, &usageError{msg: fmt.Sprintf("unknown log kind %q (want %s)", args[0], kindList(", ", " or ")), flags: true})
	}
	return "", nil, exitUsage
}

const genUsage = `Usage: convert gen flowlogs|cloudtrail|s3access --dir DIR [--size 1GiB] [--seed 1] [--days 2] [--files N]

Writes realistic, deterministic logs in the AWS key layout (for trying and
benchmarking convert without an AWS account).
`

func genCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	var g genFlags
	g.register(fs, "directory to write the logs to (required)")
	header := func(w io.Writer) { fmt.Fprint(w, genUsage) }
	kind, args, code := parseKind("gen", args, stdout, stderr, func(w io.Writer) { printHelp(fs, w, header) })
	if code >= 0 {
		return code
	}
	g.kind = kind
	if err := parseFlags(fs, args, stdout, header); err != nil {
		return usageExit(stderr, "gen", err)
	}
	if err := applyEnv(fs); err != nil {
		return usageExit(stderr, "gen", err)
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, "gen", &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), flags: true})
	}
	if g.dir == "" {
		return usageExit(stderr, "gen", &usageError{msg: "--dir is required", flags: true})
	}
	if err := g.generate(ctx, stderr); err != nil {
		fmt.Fprintln(stderr, "convert gen:", err)
		return exitFailed
	}
	return exitOK
}

const benchUsage = `Usage: convert bench flowlogs|cloudtrail|s3access [--size 1GiB] [--dir DIR] [--workers N] [--keep-output]

Generates --size of logs (once; reused while the parameters match), then
measures in one process: plain gunzip of the files (the floor, --workers files
at a time), the full conversion to Snappy Parquet, and the peak RSS of the
conversion. Prints a report on stderr and JSON on stdout.
`

func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var g genFlags
	g.register(fs, "directory of the generated logs (default: a folder under the temp dir named after the parameters)")
	workers := fs.Int("workers", runtime.NumCPU(), "conversion workers, and files decompressed at once for the floor")
	keep := fs.Bool("keep-output", false, "keep the Parquet output (printed path) instead of deleting it")
	memoryLimit := byteSize(384 << 20)
	fs.Var(&memoryLimit, "memory-limit", "soft memory limit for the Go runtime during the conversion (0: none)")
	header := func(w io.Writer) { fmt.Fprint(w, benchUsage) }
	kind, args, code := parseKind("bench", args, stdout, stderr, func(w io.Writer) { printHelp(fs, w, header) })
	if code >= 0 {
		return code
	}
	g.kind = kind
	if err := parseFlags(fs, args, stdout, header); err != nil {
		return usageExit(stderr, "bench", err)
	}
	if err := applyEnv(fs); err != nil {
		return usageExit(stderr, "bench", err)
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, "bench", &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), flags: true})
	}
	if g.dir == "" {
		g.dir = filepath.Join(os.TempDir(), fmt.Sprintf("convert-bench-%s-%s-seed%d-days%d", kind, formatBytes(int64(g.size)), g.seed, g.days))
	}
	if err := g.generate(ctx, stderr); err != nil {
		fmt.Fprintln(stderr, "convert bench:", err)
		return exitFailed
	}
	out, err := os.MkdirTemp("", "convert-bench-out-")
	if err != nil {
		fmt.Fprintln(stderr, "convert bench:", err)
		return exitFailed
	}
	if !*keep {
		defer os.RemoveAll(out)
	}
	if memoryLimit > 0 {
		debug.SetMemoryLimit(int64(memoryLimit))
	}
	report, err := bench.Measure(ctx, bench.MeasureConfig{InputDir: g.dir, OutputDir: out, Workers: *workers},
		func(ctx context.Context) (bench.Conversion, error) {
			var c convertFlags
			c.register(flag.NewFlagSet("defaults", flag.ContinueOnError), kind)
			k, err := kind.command().configure(ctx, &c, nil)
			if err != nil {
				return bench.Conversion{}, err
			}
			cfg := pipeline.Config{
				Kind:           k,
				Source:         &storage.LocalSource{Root: g.dir},
				Sink:           &storage.LocalSink{Root: out},
				Workers:        *workers,
				MaxRejectRatio: pipeline.DefaultMaxRejectRatio,
				Writer:         writer.Options{},
			}
			s, err := pipeline.Run(ctx, cfg)
			if err == nil && !s.Balanced {
				err = errors.New("summary does not balance")
			}
			return bench.Conversion{InputBytes: s.BytesUncompressed, Records: s.RecordsRead,
				OutputBytes: s.OutputBytes, OutputFiles: len(s.OutputFiles)}, err
		})
	if err != nil {
		fmt.Fprintln(stderr, "convert bench:", err)
		return exitFailed
	}
	fmt.Fprint(stderr, report.Format())
	if *keep {
		fmt.Fprintln(stderr, "output kept in", out)
	}
	js, _ := report.JSON()
	fmt.Fprintln(stdout, string(js))
	return exitOK
}
