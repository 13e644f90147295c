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
	"convert/internal/reader/vpcflow"
	"convert/internal/writer"
)

type kindName string

const (
	kindFlowLogs   kindName = "flowlogs"
	kindCloudTrail kindName = "cloudtrail"
	kindS3Access   kindName = "s3access"
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
	maxLineBytes   byteSize
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

	// flowlogs
	fields string
	// cloudtrail
	maxRecordBytes byteSize
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
	if kind == kindCloudTrail {
		c.maxRecordBytes = 16 << 20
		fs.Var(&c.maxRecordBytes, "max-record-bytes", "reject CloudTrail records larger than this (skipped without being held in memory)")
	}
	if kind != kindCloudTrail {
		c.maxLineBytes = 1 << 20
		fs.Var(&c.maxLineBytes, "max-line-bytes", "reject lines longer than this (they are never held in memory whole)")
	}
	if kind == kindFlowLogs {
		fs.StringVar(&c.fields, "fields", "", "field list for files without a header line: \"version account-id …\" or \"${version} ${account-id} …\"")
	}
}

// parseConvertFlags parses a conversion command line. Precedence: flags on
// the command line, then the flags of the work item (--item/--plan), then
// CONVERT_* environment variables, then defaults.
func parseConvertFlags(ctx context.Context, kind kindName, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*flag.FlagSet, *convertFlags, *pipeline.Item, *stores, int) {
	fs := flag.NewFlagSet(string(kind), flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &convertFlags{}
	c.register(fs, kind)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: convert %s --in PATH|s3://… --out PATH|s3://… [flags]\n\nFlags (each also from the environment variable CONVERT_<NAME>):\n", kind)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, nil, nil, exitOK
		}
		return nil, nil, nil, nil, exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "convert: unexpected argument %q\n", fs.Arg(0))
		return nil, nil, nil, nil, exitUsage
	}
	for _, name := range []string{"item", "plan", "item-index", "log-level", "region", "endpoint-url", "path-style", "expected-bucket-owner"} {
		if err := applyEnvTo(fs, name); err != nil {
			fmt.Fprintln(stderr, "convert:", err)
			return nil, nil, nil, nil, exitUsage
		}
	}
	st := &stores{flags: c.s3, log: newLogger(stderr, c.logLevel)}
	var item *pipeline.Item
	if c.item != "" || c.plan != "" {
		var err error
		if item, err = loadItem(ctx, st, c); err != nil {
			fmt.Fprintln(stderr, "convert:", err)
			return nil, nil, nil, nil, exitUsage
		}
		if item.Kind != string(kind) {
			fmt.Fprintf(stderr, "convert: the item is of kind %q, not %s\n", item.Kind, kind)
			return nil, nil, nil, nil, exitUsage
		}
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		sub := flag.NewFlagSet("item", flag.ContinueOnError)
		sub.SetOutput(io.Discard)
		var ic convertFlags
		ic.register(sub, kind)
		if err := sub.Parse(item.Flags); err != nil {
			fmt.Fprintln(stderr, "convert: the item's flags:", err)
			return nil, nil, nil, nil, exitUsage
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
			fmt.Fprintln(stderr, "convert: the item's flags:", setErr)
			return nil, nil, nil, nil, exitUsage
		}
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "convert:", err)
		return nil, nil, nil, nil, exitUsage
	}
	st.flags = c.s3
	st.log = newLogger(stderr, c.logLevel)
	return fs, c, item, st, -1
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
	_, c, item, st, code := parseConvertFlags(ctx, kind, args, stderr, nil)
	if c == nil {
		return code
	}
	log := newLogger(stderr, c.logLevel)
	cfg, err := c.pipelineConfig(ctx, kind, st, item, log)
	if err != nil {
		log.Error("invalid arguments", "error", err)
		return exitUsage
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
			log.Error("invalid arguments", "error", err)
			return exitUsage
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
		summary.ObjectsListed-summary.ObjectsSkipped["outside the work item's key ranges"] == 0 {
		err = fmt.Errorf("none of the item's %d objects was found under %s: wrong --in, or the objects were deleted", item.Objects, cfg.Source)
		summary.Status, summary.Error = "failed", err.Error()
	}
	js, _ := json.Marshal(summary)
	fmt.Fprintln(stdout, string(js))
	if c.summaryOut != "" {
		if werr := st.writeTo(context.WithoutCancel(ctx), c.summaryOut, append(js, '\n')); werr != nil {
			log.Error("writing --summary-out", "error", werr)
			if err == nil {
				err = fmt.Errorf("writing --summary-out: %w", werr)
			}
		}
	}
	if err != nil {
		log.Error("conversion failed", "error", err)
		return exitFailed
	}
	log.Info("done", "records_read", summary.RecordsRead, "written", summary.RecordsWritten,
		"rejected", summary.RecordsRejected, "files", len(summary.OutputFiles),
		"seconds", fmt.Sprintf("%.2f", summary.WallSeconds), "MB/s", fmt.Sprintf("%.1f", summary.MBPerSecond))
	return exitOK
}

// newKind builds the kind from the flags.
func (c *convertFlags) newKind(kind kindName) (pipeline.Kind, error) {
	byDelivery := c.partitionTime == "delivery"
	switch kind {
	case kindFlowLogs:
		k := &pipeline.FlowLogs{ByDelivery: byDelivery, MaxLineBytes: int(c.maxLineBytes)}
		if c.fields != "" {
			var err error
			if k.Fields, err = vpcflow.ParseFieldList(c.fields); err != nil {
				return nil, fmt.Errorf("--fields: %w", err)
			}
		}
		return k, nil
	case kindS3Access:
		return &pipeline.S3Access{ByDelivery: byDelivery, MaxLineBytes: int(c.maxLineBytes)}, nil
	case kindCloudTrail:
		return &pipeline.CloudTrail{ByDelivery: byDelivery, MaxRecordBytes: int(c.maxRecordBytes)}, nil
	}
	return nil, fmt.Errorf("unknown kind %s", kind)
}

func (c *convertFlags) pipelineConfig(ctx context.Context, kind kindName, st *stores, item *pipeline.Item, log *slog.Logger) (pipeline.Config, error) {
	var cfg pipeline.Config
	if c.in == "" || c.out == "" {
		return cfg, errors.New("--in and --out are required")
	}
	if c.workers < 1 {
		return cfg, errors.New("--workers must be at least 1")
	}
	if _, err := writer.ParseCompression(c.compression); err != nil {
		return cfg, err
	}
	if c.partitionTime != "record" && c.partitionTime != "delivery" {
		return cfg, fmt.Errorf("--partition-time must be record or delivery, not %q", c.partitionTime)
	}
	if !c.from.t.IsZero() && !c.to.t.IsZero() && c.to.t.Before(c.from.t) {
		return cfg, errors.New("--to is before --from")
	}
	k, err := c.newKind(kind)
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
		return cfg, err
	}
	return cfg, nil
}

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
