package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"golang.org/x/term"

	"convert/internal/pipeline"
	"convert/internal/writer"
)

// convertFlags are the flags every conversion command takes.
type convertFlags struct {
	in, out        string
	workers        int
	compression    string
	parquetProfile profileFlag
	targetFileSize byteSize
	rowGroupSize   byteSize
	unitSize       byteSize
	memoryLimit    byteSize
	from, to       dayFlag
	partitionDate  dayFlag
	partitionTime  string
	maxRejectRatio float64
	skipBad        bool
	logLevel       string
	progress       string
	cpuProfile     string
	summaryOut     string
	incremental    bool
	s3             s3Flags

	// scale-out: one item of a plan
	item      string
	plan      string
	itemIndex int

	// flags of some kinds (kindCommand.register)
	fields         string        // flowlogs
	cls            classifyFlags // flowlogs
	maxLineBytes   byteSize      // kinds read by lines
	maxRecordBytes byteSize      // cloudtrail
}

// notItemFlags are not carried from a plan into its items: they say where
// the plan's own input, output and bookkeeping are.
var notItemFlags = map[string]bool{"in": true, "out": true, "item": true, "plan": true, "item-index": true,
	"plan-out": true, "target-bytes": true, "summary-out": true, "cpuprofile": true, "progress": true}

func (c *convertFlags) register(fs *flag.FlagSet, kind kindName) {
	fs.StringVar(&c.in, "in", "", "input: a file, a directory tree (read recursively) or s3://bucket/prefix (required)")
	fs.StringVar(&c.out, "out", "", "output: a directory or s3://bucket/prefix for the Parquet tree (required)")
	fs.IntVar(&c.workers, "workers", runtime.NumCPU(), "units of work converted at once")
	fs.StringVar(&c.compression, "compression", "snappy", "Parquet codec: snappy, zstd, gzip or none")
	registerParquetProfile(fs, &c.parquetProfile)
	c.targetFileSize = writer.DefaultTargetFileBytes
	fs.Var(&c.targetFileSize, "target-file-size", "roll output files at about this size")
	c.rowGroupSize = writer.DefaultRowGroupBytes
	fs.Var(&c.rowGroupSize, "row-group-size", "cut Parquet row groups at about this size")
	c.unitSize = pipeline.DefaultUnitBytes
	fs.Var(&c.unitSize, "unit-size", "compressed input per unit of work (one set of output files per unit)")
	c.memoryLimit = 384 << 20
	fs.Var(&c.memoryLimit, "memory-limit", "soft memory limit for the Go runtime (0: none)")
	fs.Var(&c.from, "from", "first input day to convert, by the date in the key (YYYY-MM-DD)")
	fs.Var(&c.to, "to", "last input day to convert, by the date in the key (YYYY-MM-DD)")
	fs.Var(&c.partitionDate, "partition-date", "partition for records whose date is known neither from the record nor from the key (YYYY-MM-DD)")
	fs.StringVar(&c.partitionTime, "partition-time", "record", "partition by the record's own time (record) or by the date in the object key (delivery)")
	fs.Float64Var(&c.maxRejectRatio, "max-reject-ratio", pipeline.DefaultMaxRejectRatio, "fail when a larger share of records is rejected (negative: never)")
	fs.BoolVar(&c.skipBad, "skip-bad-objects", false, "skip objects that cannot be read to the end (corrupt gzip, wrong format) instead of failing; none of their records are written")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.progress, "progress", "auto", "progress line on stderr: auto (when a terminal), always or never")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for performance work)")
	fs.BoolVar(&c.incremental, "incremental", false, "convert only objects not converted before (by key, size and ETag, from the ledger in the output); changed objects are converted again and reported")
	fs.StringVar(&c.summaryOut, "summary-out", "", "also write the summary JSON to this file or s3:// URL")
	fs.StringVar(&c.item, "item", "", "convert one work item of a plan: its JSON, or a file or s3:// URL holding it")
	fs.StringVar(&c.plan, "plan", "", "a plan (file or s3:// URL) to take the item --item-index from")
	fs.IntVar(&c.itemIndex, "item-index", -1, "index of the item in --plan (default: $AWS_BATCH_JOB_ARRAY_INDEX)")
	c.s3.register(fs)
	kind.command().register(fs, c)
}

// byDelivery says whether --partition-time is delivery.
func (c *convertFlags) byDelivery() bool { return c.partitionTime == "delivery" }

// parseConvertFlags parses a conversion command line. Precedence: flags on
// the command line, then the flags of the work item (--item/--plan), then
// CONVERT_* environment variables, then defaults. -h prints help on stdout
// and returns flag.ErrHelp. On a usage error it still returns the flags as
// far as they were parsed (the failure summary names --in and --out).
func parseConvertFlags(ctx context.Context, kind kindName, args []string, stdout, stderr io.Writer, header func(io.Writer), extra func(*flag.FlagSet)) (*flag.FlagSet, *convertFlags, *pipeline.Item, *stores, error) {
	fs := flag.NewFlagSet(string(kind), flag.ContinueOnError)
	c := &convertFlags{}
	c.register(fs, kind)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args, stdout, header); err != nil {
		return nil, c, nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, c, nil, nil, &usageError{msg: fmt.Sprintf("unexpected argument %q (flags take the form --name value)", fs.Arg(0)), flags: true}
	}
	for _, name := range []string{"item", "plan", "item-index", "log-level", "region", "endpoint-url", "path-style", "expected-bucket-owner"} {
		if err := applyEnvTo(fs, name); err != nil {
			return nil, c, nil, nil, &usageError{msg: err.Error()}
		}
	}
	st := &stores{flags: c.s3, log: newLogger(stderr, c.logLevel)}
	var item *pipeline.Item
	if c.item != "" || c.plan != "" {
		var err error
		if item, err = loadItem(ctx, st, c); err != nil {
			return nil, c, nil, nil, &usageError{msg: err.Error(), err: err}
		}
		if item.Kind != string(kind) {
			return nil, c, nil, nil, usagef("the item is of kind %q, not %s", item.Kind, kind)
		}
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		sub := flag.NewFlagSet("item", flag.ContinueOnError)
		sub.SetOutput(io.Discard)
		var ic convertFlags
		ic.register(sub, kind)
		if err := sub.Parse(item.Flags); err != nil {
			return nil, c, nil, nil, usagef("the item's flags: %v", err)
		}
		var setErr error
		sub.Visit(func(f *flag.Flag) {
			if !given[f.Name] && setErr == nil {
				setErr = fs.Set(f.Name, f.Value.String())
			}
		})
		if !given["in"] && setErr == nil {
			setErr = fs.Set("in", item.In)
		}
		if !given["out"] && setErr == nil {
			setErr = fs.Set("out", item.Out)
		}
		if setErr != nil {
			return nil, c, nil, nil, usagef("the item's flags: %v", setErr)
		}
	}
	if err := applyEnv(fs); err != nil {
		return nil, c, nil, nil, &usageError{msg: err.Error()}
	}
	st.flags = c.s3
	st.log = newLogger(stderr, c.logLevel)
	return fs, c, item, st, nil
}

// convertHeader is the start of a conversion command's help.
func convertHeader(kind kindName) func(io.Writer) {
	what := kind.command().Title
	return func(w io.Writer) {
		fmt.Fprintf(w, `Usage: convert %s --in PATH|s3://… --out PATH|s3://… [flags]

Converts %s into partitioned, Snappy-compressed Parquet under --out.
Prints the run summary (one JSON object, also when the run fails) on stdout
and logs on stderr. Exit status: 0 ok, 1 the run failed, 2 bad flags or
arguments, 130/143 stopped by SIGINT/SIGTERM.
`, kind, what)
	}
}

// loadItem reads the work item of --item or of --plan and --item-index.
func loadItem(ctx context.Context, st *stores, c *convertFlags) (*pipeline.Item, error) {
	if c.item != "" {
		data := []byte(c.item)
		if !strings.HasPrefix(strings.TrimSpace(c.item), "{") {
			var err error
			if data, err = st.readFrom(ctx, c.item); err != nil {
				return nil, fmt.Errorf("--item: %w", err)
			}
		}
		var it pipeline.Item
		if err := json.Unmarshal(data, &it); err != nil {
			return nil, fmt.Errorf("--item: %w", err)
		}
		return &it, nil
	}
	idx := c.itemIndex
	if idx < 0 {
		v := os.Getenv("AWS_BATCH_JOB_ARRAY_INDEX")
		if v == "" {
			return nil, errors.New("--plan needs --item-index (or AWS_BATCH_JOB_ARRAY_INDEX)")
		}
		if _, err := fmt.Sscanf(v, "%d", &idx); err != nil {
			return nil, fmt.Errorf("AWS_BATCH_JOB_ARRAY_INDEX=%q: %w", v, err)
		}
	}
	data, err := st.readFrom(ctx, c.plan)
	if err != nil {
		return nil, fmt.Errorf("--plan: %w", err)
	}
	var items []pipeline.Item
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("--plan %s: %w", c.plan, err)
	}
	if idx >= len(items) {
		return nil, fmt.Errorf("--item-index %d: the plan has %d items", idx, len(items))
	}
	return &items[idx], nil
}

func convertCommand(ctx context.Context, kind kindName, args []string, stdout, stderr io.Writer) int {
	_, c, item, st, err := parseConvertFlags(ctx, kind, args, stdout, stderr, convertHeader(kind), nil)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return failUsage(ctx, kind, c, nil, stdout, stderr, err)
	}
	log := newLogger(stderr, c.logLevel)
	cfg, err := c.pipelineConfig(ctx, kind, st, item, log)
	if err != nil {
		return failUsage(ctx, kind, c, st, stdout, stderr, err)
	}
	if c.memoryLimit > 0 {
		debug.SetMemoryLimit(int64(c.memoryLimit))
	}
	if showProgress(c.progress, stderr) {
		cfg.Progress = progressPrinter(stderr)
	}
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return failUsage(ctx, kind, c, st, stdout, stderr, err)
		}
		defer stop()
	}

	attrs := []any{"kind", kind, "in", cfg.Source.String(), "out", cfg.Sink.String(), "workers", cfg.Workers}
	if item != nil {
		attrs = append(attrs, "item", item.ID)
	}
	log.Info("converting", attrs...)
	summary, err := pipeline.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err == nil && item != nil && item.Objects > 0 &&
		summary.ObjectsListed-summary.ObjectsSkipped[pipeline.SkipOutsideItem] == 0 {
		err = fmt.Errorf("none of the item's %d objects was found under %s: wrong --in, or the objects were deleted", item.Objects, cfg.Source)
		summary.Status, summary.Error = pipeline.StatusFailed, err.Error()
	}
	if werr := writeSummary(ctx, summary, c, st, stdout); werr != nil {
		log.Error("writing --summary-out", "error", werr)
		if err == nil {
			err = werr
		}
	}
	if err != nil {
		log.Error("conversion failed", "error", err)
		return failureStatus(err)
	}
	log.Info("done", "records_read", summary.RecordsRead, "written", summary.RecordsWritten,
		"rejected", summary.RecordsRejected, "files", len(summary.OutputFiles),
		"seconds", fmt.Sprintf("%.2f", summary.WallSeconds), "MB/s", fmt.Sprintf("%.1f", summary.MBPerSecond))
	return exitOK
}

// writeSummary prints the run summary on stdout and, with --summary-out
// (st is nil before the flags are fully parsed), writes it there too.
func writeSummary(ctx context.Context, summary pipeline.Summary, c *convertFlags, st *stores, stdout io.Writer) error {
	js, _ := json.Marshal(summary)
	fmt.Fprintln(stdout, string(js))
	if c == nil || c.summaryOut == "" || st == nil {
		return nil
	}
	if err := st.writeTo(context.WithoutCancel(ctx), c.summaryOut, append(js, '\n')); err != nil {
		return fmt.Errorf("writing --summary-out: %w", err)
	}
	return nil
}

// failUsage reports a conversion command that could not start: the reason
// on stderr and, as the README promises for every failure, a summary with
// status "failed" on stdout. The exit status is exitUsage.
func failUsage(ctx context.Context, kind kindName, c *convertFlags, st *stores, stdout, stderr io.Writer, err error) int {
	reportUsage(stderr, string(kind), err)
	s := pipeline.Summary{Kind: string(kind), Status: pipeline.StatusFailed, Error: err.Error(), Balanced: true,
		OutputFiles: []writer.FileInfo{}, Partitions: []string{}}
	if c != nil {
		s.Input, s.Output = c.in, c.out
	}
	if werr := writeSummary(ctx, s, c, st, stdout); werr != nil {
		fmt.Fprintf(stderr, "convert %s: %v\n", kind, werr)
	}
	return argumentStatus(err)
}

func (c *convertFlags) pipelineConfig(ctx context.Context, kind kindName, st *stores, item *pipeline.Item, log *slog.Logger) (pipeline.Config, error) {
	var cfg pipeline.Config
	switch {
	case c.in == "" && c.out == "":
		return cfg, &usageError{msg: "--in and --out are required", flags: true}
	case c.in == "":
		return cfg, &usageError{msg: "--in is required: the logs to convert (a file, a directory or s3://bucket/prefix; or CONVERT_IN)", flags: true}
	case c.out == "":
		return cfg, &usageError{msg: "--out is required: where the Parquet goes (a directory or s3://bucket/prefix; or CONVERT_OUT)", flags: true}
	}
	if c.workers < 1 {
		return cfg, &usageError{msg: "--workers must be at least 1", flags: true}
	}
	if _, err := writer.ParseCompression(c.compression); err != nil {
		return cfg, &usageError{msg: "--compression: " + err.Error(), flags: true}
	}
	if c.partitionTime != "record" && c.partitionTime != "delivery" {
		return cfg, &usageError{msg: fmt.Sprintf("--partition-time must be record or delivery, not %q", c.partitionTime), flags: true}
	}
	if !c.from.t.IsZero() && !c.to.t.IsZero() && c.to.t.Before(c.from.t) {
		return cfg, usagef("--to %s is before --from %s", &c.to, &c.from)
	}
	k, err := kind.command().configure(ctx, c, st)
	if err != nil {
		return cfg, err
	}
	src, sink, err := st.open(ctx, c.in, c.out)
	if err != nil {
		return cfg, err
	}
	cfg.Kind = k
	cfg.Source, cfg.Sink = src, sink
	cfg.Workers = c.workers
	cfg.UnitBytes = int64(c.unitSize)
	cfg.From, cfg.To = c.from.t, c.to.t
	cfg.PartitionDate = c.partitionDate.t
	cfg.SkipBadObjects = c.skipBad
	cfg.MaxRejectRatio = c.maxRejectRatio
	cfg.Incremental = c.incremental
	cfg.Writer = writer.Options{
		Compression:     c.compression,
		RowGroupBytes:   int64(c.rowGroupSize),
		TargetFileBytes: int64(c.targetFileSize),
		Profile:         c.parquetProfile.p,
	}
	cfg.Log = log
	var itemPrefixes []string
	if item != nil {
		cfg.Ranges = item.Ranges
		itemPrefixes = pipeline.ItemPrefixes(*item)
	}
	if _, err := prune(ctx, src, kind, &cfg, itemPrefixes); err != nil {
		return cfg, fmt.Errorf("%w: %w", errListing, err)
	}
	return cfg, nil
}

// errListing marks an error of the listing that prunes the input: the
// arguments were fine, the run failed.
var errListing = errors.New("listing the input")

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func showProgress(mode string, w io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func progressPrinter(w io.Writer) func(pipeline.Progress) {
	return func(p pipeline.Progress) {
		secs := p.Elapsed.Seconds()
		rate := 0.0
		if secs > 0 {
			rate = float64(p.BytesRead) / 1e6 / secs
		}
		line := fmt.Sprintf("\r%d objects, %d units, %.1f MB in, %.1f MB read, %.1f MB/s, %s",
			p.Objects, p.Units, float64(p.BytesIn)/1e6, float64(p.BytesRead)/1e6, rate, p.Elapsed.Round(time.Second))
		fmt.Fprint(w, line+strings.Repeat(" ", 4))
	}
}
