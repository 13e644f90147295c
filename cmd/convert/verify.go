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
	"strings"

	"convert/internal/pipeline"
	"convert/internal/storage"
)

const verifyUsage = `Usage: convert verify --out PATH|s3://bucket/prefix [S3 flags]

Checks every Parquet file under an output tree against convert's ledger
(_convert/): footers readable, row counts and columns as recorded, nothing
missing, nothing extra, no unfinished commit, and no source object whose rows
two committed units hold (rows twice; the report says which day to convert
again). Prints a JSON report; the exit status is 1 when there is any problem,
and a tree without any ledger record (an empty or mistyped path) is one.
`

// verifyResult is the JSON verify prints: the report, and the error when
// there is one (no ledger, a listing that failed, a path that does not exist).
type verifyResult struct {
	pipeline.VerifyReport
	Error string `json:"error,omitempty"`
}

func verifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	out := fs.String("out", "", "the output tree to check (required)")
	var s3 s3Flags
	s3.register(fs)
	if err := parseFlags(fs, args, stdout, func(w io.Writer) { fmt.Fprint(w, verifyUsage) }); err != nil {
		return usageExit(stderr, "verify", err)
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, "verify", &usageError{msg: fmt.Sprintf("unexpected argument %q (the tree to check is --out PATH)", fs.Arg(0)), flags: true})
	}
	if err := applyEnv(fs); err != nil {
		return usageExit(stderr, "verify", err)
	}
	if *out == "" {
		return usageExit(stderr, "verify", &usageError{msg: "--out is required: the output tree to check", flags: true})
	}
	log := newLogger(stderr, "info")
	failed := func(code int, msg string, err error) int {
		js, _ := json.Marshal(verifyResult{VerifyReport: pipeline.VerifyReport{Output: *out, Kinds: map[string]int{}}, Error: err.Error()})
		fmt.Fprintln(stdout, string(js))
		log.Error(msg, "error", err)
		return code
	}
	var sink storage.Sink
	if isS3(*out) {
		bucket, prefix, ok := storage.ParseS3URL(*out)
		if !ok {
			return failed(exitUsage, "invalid arguments", fmt.Errorf("--out: not an s3://bucket/prefix URL: %q", *out))
		}
		st := &stores{flags: s3, log: log}
		c, err := st.s3(ctx)
		if err != nil {
			return failed(exitFailed, "verify failed", err)
		}
		sink = &storage.S3Sink{Client: c, Bucket: bucket, Prefix: prefix}
	} else {
		if _, err := os.Stat(*out); err != nil {
			return failed(exitUsage, "invalid arguments", fmt.Errorf("--out: %w", err))
		}
		sink = &storage.LocalSink{Root: *out}
	}
	rep, err := pipeline.Verify(ctx, sink)
	if errors.Is(err, pipeline.ErrNoLedger) && !isS3(*out) {
		if trees := ledgerTreesBelow(*out); len(trees) > 0 {
			err = fmt.Errorf("%w; did you mean --out %s?", err, strings.Join(trees, " or --out "))
		}
	}
	res := verifyResult{VerifyReport: rep}
	if err != nil {
		res.Error = err.Error()
	}
	js, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(js))
	switch {
	case err != nil:
		log.Error("verify failed", "error", err)
		return failureStatus(err)
	case !rep.OK:
		for _, o := range rep.Overlaps {
			log.Error("rows are in the output twice", "kind", o.Kind, "day", o.Day, "units", o.Units,
				"objects", o.Objects, "example", o.Example, "repair", o.Repair)
		}
		if len(rep.Pending)+len(rep.Superseded) > 0 {
			log.Warn("a run was stopped while committing; the next run in those days finishes it",
				"pending", rep.Pending, "superseded", rep.Superseded)
		}
		log.Error("verify found problems", "missing", len(rep.Missing), "extra", len(rep.Extra),
			"corrupt", len(rep.Corrupt), "pending", len(rep.Pending), "superseded", len(rep.Superseded),
			"overlaps", len(rep.Overlaps))
		return exitFailed
	}
	log.Info("verified", "units", rep.Units, "files", rep.Files, "rows", rep.Rows)
	return exitOK
}

// ledgerTreesBelow returns the directories right under dir that hold a
// ledger: the output trees a --out one level too high meant.
func ledgerTreesBelow(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var trees []string
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name(), pipeline.LedgerDir)); err == nil && fi.IsDir() && e.IsDir() {
			trees = append(trees, filepath.Join(dir, e.Name()))
		}
	}
	return trees
}
