package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"convert/internal/pipeline"
	"convert/internal/storage"
)

const verifyUsage = `Usage: convert verify --out PATH|s3://bucket/prefix [S3 flags]

Checks every Parquet file under an output tree against convert's ledger
(_convert/): footers readable, row counts and columns as recorded, nothing
missing, nothing extra, no unfinished commit. Prints a JSON report; the exit
status is 1 when there is any problem.
`

func verifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the output tree to check (required)")
	var s3 s3Flags
	s3.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "convert:", err)
		return exitUsage
	}
	if *out == "" {
		fmt.Fprint(stderr, "convert verify: --out is required\n\n"+verifyUsage)
		return exitUsage
	}
	log := newLogger(stderr, "info")
	var sink storage.Sink
	if isS3(*out) {
		bucket, prefix, ok := storage.ParseS3URL(*out)
		if !ok {
			log.Error("invalid arguments", "error", fmt.Sprintf("--out: not an s3://bucket/prefix URL: %q", *out))
			return exitUsage
		}
		st := &stores{flags: s3, log: log}
		c, err := st.s3(ctx)
		if err != nil {
			log.Error("verify failed", "error", err)
			return exitFailed
		}
		sink = &storage.S3Sink{Client: c, Bucket: bucket, Prefix: prefix}
	} else {
		if _, err := os.Stat(*out); err != nil {
			log.Error("invalid arguments", "error", err)
			return exitUsage
		}
		sink = &storage.LocalSink{Root: *out}
	}
	rep, err := pipeline.Verify(ctx, sink)
	js, _ := json.Marshal(rep)
	fmt.Fprintln(stdout, string(js))
	switch {
	case err != nil:
		log.Error("verify failed", "error", err)
		return failureStatus(err)
	case !rep.OK:
		log.Error("verify found problems", "missing", len(rep.Missing), "extra", len(rep.Extra),
			"corrupt", len(rep.Corrupt), "pending", len(rep.Pending))
		return exitFailed
	}
	log.Info("verified", "units", rep.Units, "files", rep.Files, "rows", rep.Rows)
	return exitOK
}
