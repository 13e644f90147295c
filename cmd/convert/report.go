package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"convert/internal/report"
	"convert/internal/storage"
)

const reportCommandUsage = `Usage: convert report flowlogs|cloudtrail|s3access --in PATH|s3://bucket/prefix [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format html|json|tsv] [--out FILE|s3://…]

Answers who is using the traffic, from convert's Parquet output: for flow logs
the top source/destination pairs, internet traffic by internal and by remote
address and by remote AWS service, the NAT gateways' top contributors (each
flow once) and bytes per day and traffic class (the classification tables need
output converted with --classify); for S3 access logs the top download and
copy IPs; for CloudTrail the S3 GetObject requests by identity and by source
IP. Each table equals an Athena query, which the report prints with it.
It reads only the columns it needs, only the days of --from/--to, and keeps at
most --group-budget groups per table in memory (more spill to --temp-dir; the
answers are exact either way). The HTML page is self-contained: no network is
needed to view it.
`

func reportCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	in := fs.String("in", "", "the converted output tree: a directory or s3://bucket/prefix (the --out of the conversion; required)")
	var from, to dayFlag
	fs.Var(&from, "from", "first partition day to read (YYYY-MM-DD; default: the first there is)")
	fs.Var(&to, "to", "last partition day to read (YYYY-MM-DD; default: the last there is)")
	format := fs.String("format", "html", "html (a self-contained page with charts), json or tsv")
	out := fs.String("out", "", "write the report to this file or s3:// URL instead of stdout")
	top := fs.Int("top", report.DefaultTop, "rows of each top-N table")
	budget := fs.Int("group-budget", report.DefaultGroupBudget, "groups per table held in memory before they spill to disk")
	tempDir := fs.String("temp-dir", "", "directory for spilled groups (default: the system's temporary directory)")
	progress := fs.String("progress", "auto", "progress line on stderr: auto (when a terminal), always or never")
	var s3 s3Flags
	s3.register(fs)
	header := func(w io.Writer) { fmt.Fprint(w, reportCommandUsage) }
	kind, args, code := parseKind("report", args, stdout, stderr, func(w io.Writer) { printHelp(fs, w, header) })
	if code >= 0 {
		return code
	}
	if err := parseFlags(fs, args, stdout, header); err != nil {
		return usageExit(stderr, "report", err)
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, "report", &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), flags: true})
	}
	if err := applyEnv(fs); err != nil {
		return usageExit(stderr, "report", err)
	}
	switch {
	case *in == "":
		return usageExit(stderr, "report", &usageError{msg: "--in is required: the converted output to report on", flags: true})
	case *format != "html" && *format != "json" && *format != "tsv":
		return usageExit(stderr, "report", &usageError{msg: fmt.Sprintf("--format %q: want html, json or tsv", *format), flags: true})
	case *top <= 0 || *budget <= 0:
		return usageExit(stderr, "report", &usageError{msg: "--top and --group-budget must be positive", flags: true})
	case !from.t.IsZero() && !to.t.IsZero() && to.t.Before(from.t):
		return usageExit(stderr, "report", usagef("--to %s is before --from %s", &to, &from))
	}
	log := newLogger(stderr, "info")
	st := &stores{flags: s3, log: log}
	var sink storage.Sink
	if isS3(*in) {
		bucket, prefix, ok := storage.ParseS3URL(*in)
		if !ok {
			return usageExit(stderr, "report", usagef("--in: not an s3://bucket/prefix URL: %q", *in))
		}
		c, err := st.s3(ctx)
		if err != nil {
			log.Error("report failed", "error", err)
			return failureStatus(err)
		}
		sink = &storage.S3Sink{Client: c, Bucket: bucket, Prefix: prefix}
	} else {
		if fi, err := os.Stat(*in); err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return usageExit(stderr, "report", usagef("--in: %v", err))
		}
		sink = &storage.LocalSink{Root: *in}
	}
	cfg := report.Config{Kind: string(kind), Input: sink, From: from.t, To: to.t, Top: *top,
		GroupBudget: *budget, TempDir: *tempDir}
	if showProgress(*progress, stderr) {
		cfg.Progress = stderr
	}
	rep, err := report.Run(ctx, cfg)
	if err != nil {
		log.Error("report failed", "error", err)
		return failureStatus(err)
	}
	var buf bytes.Buffer
	switch *format {
	case "json":
		err = report.WriteJSON(&buf, rep)
	case "tsv":
		err = report.WriteTSV(&buf, rep)
	default:
		err = report.WriteHTML(&buf, rep)
	}
	if err == nil {
		if *out != "" {
			err = st.writeTo(ctx, *out, buf.Bytes())
		} else {
			_, err = stdout.Write(buf.Bytes())
		}
	}
	if err != nil {
		log.Error("report failed", "error", err)
		return failureStatus(err)
	}
	log.Info("report", "kind", kind, "files", rep.Files, "rows", rep.Rows, "tables", len(rep.Tables), "spills", rep.Spills)
	return exitOK
}
