package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"convert/internal/pipeline"
	"convert/internal/storage"
	"convert/internal/writer"
)

const compactUsage = `Usage: convert compact --out PATH|s3://bucket/prefix [--from DAY] [--to DAY] [--target-file-size SIZE] [flags]

Rewrites the Parquet of every key day whose partitions hold more files than
their bytes need at --target-file-size (the 24 files a day of hourly
--incremental runs leaves, say) into as few files as the target allows, with
the union of the files' columns in documented order. Each day is committed
through the ledger as one unit that replaces the day's units: a crash or a
rerun never loses or duplicates a row, convert verify stays clean, and
--incremental runs afterwards still skip what was converted. Rows stream row
group by row group; files are read by range (S3: ranged GETs). Every kind in
the output is compacted, or only --kind. Prints a JSON summary.
`

func compactCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	out := fs.String("out", "", "the output tree to compact: a directory or s3://bucket/prefix (required)")
	kind := fs.String("kind", "", "compact only this kind: flowlogs, cloudtrail or s3access (default: all)")
	var from, to dayFlag
	fs.Var(&from, "from", "first key day to compact (YYYY-MM-DD)")
	fs.Var(&to, "to", "last key day to compact (YYYY-MM-DD)")
	target := byteSize(writer.DefaultTargetFileBytes)
	fs.Var(&target, "target-file-size", "roll the new files at about this size; a day whose partitions need fewer files at this size is rewritten")
	rowGroup := byteSize(writer.DefaultRowGroupBytes)
	fs.Var(&rowGroup, "row-group-size", "cut Parquet row groups at about this size")
	compression := fs.String("compression", "snappy", "Parquet codec of the new files: snappy, zstd, gzip or none")
	var profile profileFlag
	registerParquetProfile(fs, &profile)
	memoryLimit := byteSize(384 << 20)
	fs.Var(&memoryLimit, "memory-limit", "soft memory limit for the Go runtime (0: none)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var s3 s3Flags
	s3.register(fs)
	if err := parseFlags(fs, args, stdout, func(w io.Writer) { fmt.Fprint(w, compactUsage) }); err != nil {
		return usageExit(stderr, "compact", err)
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, "compact", &usageError{msg: fmt.Sprintf("unexpected argument %q (the tree to compact is --out PATH)", fs.Arg(0)), flags: true})
	}
	if err := applyEnv(fs); err != nil {
		return usageExit(stderr, "compact", err)
	}
	if *out == "" {
		return usageExit(stderr, "compact", &usageError{msg: "--out is required: the output tree to compact", flags: true})
	}
	if _, err := writer.ParseCompression(*compression); err != nil {
		return usageExit(stderr, "compact", &usageError{msg: "--compression: " + err.Error(), flags: true})
	}
	log := newLogger(stderr, *logLevel)
	if memoryLimit > 0 {
		debug.SetMemoryLimit(int64(memoryLimit))
	}
	cfg := pipeline.CompactConfig{From: from.t, To: to.t, Log: log,
		Writer: writer.Options{Compression: *compression, Profile: profile.p, TargetFileBytes: int64(target), RowGroupBytes: int64(rowGroup)}}
	if *kind != "" {
		k, err := pipeline.CompactKind(*kind)
		if err != nil {
			return usageExit(stderr, "compact", &usageError{msg: "--kind: " + err.Error(), flags: true})
		}
		cfg.Kinds = []pipeline.Kind{k}
	}
	failed := func(code int, err error) int {
		js, _ := json.Marshal(pipeline.CompactSummary{Output: *out, Status: "failed", Error: err.Error()})
		fmt.Fprintln(stdout, string(js))
		log.Error("compaction failed", "error", err)
		return code
	}
	if isS3(*out) {
		bucket, prefix, ok := storage.ParseS3URL(*out)
		if !ok {
			return failed(exitUsage, fmt.Errorf("--out: not an s3://bucket/prefix URL: %q", *out))
		}
		c, err := (&stores{flags: s3, log: log}).s3(ctx)
		if err != nil {
			return failed(exitFailed, err)
		}
		cfg.Sink = &storage.S3Sink{Client: c, Bucket: bucket, Prefix: prefix}
	} else {
		if _, err := os.Stat(*out); err != nil {
			return failed(exitUsage, fmt.Errorf("--out: %w", err))
		}
		cfg.Sink = &storage.LocalSink{Root: *out}
	}
	log.Info("compacting", "out", cfg.Sink.String(), "target_file_size", formatBytes(int64(target)))
	s, err := pipeline.Compact(ctx, cfg)
	js, _ := json.Marshal(s)
	fmt.Fprintln(stdout, string(js))
	if err != nil {
		log.Error("compaction failed", "error", err)
		return failureStatus(err)
	}
	log.Info("done", "days", s.GroupsCompacted, "files_before", s.FilesBefore, "files_after", s.FilesAfter,
		"rows_moved", s.RowsMoved, "seconds", fmt.Sprintf("%.2f", s.WallSeconds), "MB/s", fmt.Sprintf("%.1f", s.MBPerSecond))
	return exitOK
}
