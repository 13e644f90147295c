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
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"golang.org/x/term"

	"convert/internal/pipeline"
	"convert/internal/reader/vpcflow"
	"convert/internal/storage"
	"convert/internal/writer"
)

type kindName string

const kindFlowLogs kindName = "flowlogs"

// convertFlags are the flags every conversion command takes.
type convertFlags struct {
	in, out        string
	workers        int
	compression    string
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

	// flowlogs
	fields string
}

func (c *convertFlags) register(fs *flag.FlagSet, kind kindName) {
	fs.StringVar(&c.in, "in", "", "input: a file or a directory tree, read recursively (required)")
	fs.StringVar(&c.out, "out", "", "output directory for the Parquet tree (required)")
	fs.IntVar(&c.workers, "workers", runtime.NumCPU(), "objects decoded and units written at once")
	fs.StringVar(&c.compression, "compression", "snappy", "Parquet codec: snappy, zstd, gzip or none")
	c.targetFileSize = writer.DefaultTargetFileBytes
	fs.Var(&c.targetFileSize, "target-file-size", "roll output files at about this size")
	c.rowGroupSize = writer.DefaultRowGroupBytes
	fs.Var(&c.rowGroupSize, "row-group-size", "cut Parquet row groups at about this size")
	c.unitSize = pipeline.DefaultUnitBytes
	fs.Var(&c.unitSize, "unit-size", "compressed input per unit of work (one set of output files per unit)")
	c.memoryLimit = 448 << 20
	fs.Var(&c.memoryLimit, "memory-limit", "soft memory limit for the Go runtime (0: none)")
	fs.Var(&c.from, "from", "first input day to convert, by the date in the key (YYYY-MM-DD)")
	fs.Var(&c.to, "to", "last input day to convert, by the date in the key (YYYY-MM-DD)")
	fs.Var(&c.partitionDate, "partition-date", "partition for records whose date is known neither from the record nor from the key (YYYY-MM-DD)")
	fs.StringVar(&c.partitionTime, "partition-time", "record", "partition by the record's own time (record) or by the date in the object key (delivery)")
	fs.Float64Var(&c.maxRejectRatio, "max-reject-ratio", pipeline.DefaultMaxRejectRatio, "fail when a larger share of records is rejected (negative: never)")
	fs.BoolVar(&c.skipBad, "skip-bad-objects", false, "skip objects that cannot be read to the end (corrupt gzip, wrong format) instead of failing; none of their records are written")
	c.maxLineBytes = 1 << 20
	fs.Var(&c.maxLineBytes, "max-line-bytes", "reject lines longer than this")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.progress, "progress", "auto", "progress line on stderr: auto (when a terminal), always or never")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for performance work)")
	if kind == kindFlowLogs {
		fs.StringVar(&c.fields, "fields", "", "field list for files without a header line: \"version account-id …\" or \"${version} ${account-id} …\"")
	}
}

func convertCommand(ctx context.Context, kind kindName, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(string(kind), flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c convertFlags
	c.register(fs, kind)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: convert %s --in PATH --out PATH [flags]\n\nFlags (each also from the environment variable CONVERT_<NAME>):\n", kind)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintln(stderr, "convert:", err)
		return exitUsage
	}
	log := newLogger(stderr, c.logLevel)
	cfg, err := c.pipelineConfig(kind, log)
	if err != nil {
		log.Error("invalid arguments", "error", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		log.Error("invalid arguments", "error", fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
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
	log.Info("converting", "kind", kind, "in", cfg.Source.String(), "out", cfg.Sink.String(), "workers", cfg.Workers)
	summary, err := pipeline.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprintln(stderr)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if encErr := enc.Encode(summary); encErr != nil {
		log.Error("writing summary", "error", encErr)
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

func (c *convertFlags) pipelineConfig(kind kindName, log *slog.Logger) (pipeline.Config, error) {
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
	src, sink, err := openLocal(c.in, c.out)
	if err != nil {
		return cfg, err
	}
	switch kind {
	case kindFlowLogs:
		k := &pipeline.FlowLogs{ByDelivery: c.partitionTime == "delivery", MaxLineBytes: int(c.maxLineBytes)}
		if c.fields != "" {
			if k.Fields, err = vpcflow.ParseFieldList(c.fields); err != nil {
				return cfg, fmt.Errorf("--fields: %w", err)
			}
		}
		cfg.Kind = k
	}
	cfg.Source, cfg.Sink = src, sink
	cfg.Workers = c.workers
	cfg.UnitBytes = int64(c.unitSize)
	cfg.From, cfg.To = c.from.t, c.to.t
	cfg.PartitionDate = c.partitionDate.t
	cfg.SkipBadObjects = c.skipBad
	cfg.MaxRejectRatio = c.maxRejectRatio
	cfg.Writer = writer.Options{
		Compression:     c.compression,
		RowGroupBytes:   int64(c.rowGroupSize),
		TargetFileBytes: int64(c.targetFileSize),
	}
	cfg.Log = log
	return cfg, nil
}

// openLocal checks the input and output paths. An output directory inside
// the input tree is not read as input.
func openLocal(in, out string) (storage.Source, storage.Sink, error) {
	if _, err := os.Stat(in); err != nil {
		return nil, nil, fmt.Errorf("--in: %w", err)
	}
	absIn, err1 := filepath.Abs(in)
	absOut, err2 := filepath.Abs(out)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, err
	}
	if absIn == absOut {
		return nil, nil, errors.New("--in and --out are the same directory")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("--out: %w", err)
	}
	return &storage.LocalSource{Root: in, Exclude: []string{out}}, &storage.LocalSink{Root: out}, nil
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
