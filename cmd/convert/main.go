// Command convert turns AWS logs (VPC Flow Logs, CloudTrail, S3 server access
// logs) into partitioned, Athena-ready Parquet. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"convert/internal/pipeline"
	"convert/internal/storage"
	"convert/internal/writer"
)

// Exit statuses (README "Exit statuses"; the state machines in deploy/
// retry only exitTempFail).
const (
	exitOK       = 0
	exitFailed   = 1   // the run failed for a reason no retry fixes (bad input, too many rejects, no partition date); the reason is the last log line
	exitUsage    = 2   // bad flags or arguments
	exitTempFail = 75  // EX_TEMPFAIL: a transient failure (storage or network, after the SDK's retries); a later run may succeed
	exitSIGINT   = 130 // interrupted; nothing partial is visible
	exitSIGTERM  = 143 // stopped (ECS stop, Spot reclaim); nothing partial is visible
	usageSummary = `convert turns AWS logs into partitioned, Athena-ready Parquet.

Usage:
  convert flowlogs --in PATH --out PATH [flags]   VPC Flow Logs
  convert cloudtrail --in PATH --out PATH [flags] CloudTrail logs
  convert s3access --in PATH --out PATH [flags]   S3 server access logs
  convert ddl KIND --location s3://…              Athena DDL with partition projection
  convert plan KIND --in s3://… --out s3://…      split a backfill into work items
  convert verify --out PATH                       check an output tree against its ledger
  convert compact --out PATH                      merge small files of each day (exactly once)
  convert report KIND --in PATH [--from --to]     who uses the traffic: tables and charts (HTML, JSON, TSV)
  convert gen flowlogs --dir DIR [--size 1GiB]    generate realistic sample logs
  convert bench flowlogs [--size 1GiB]            measure MB/s, ratio to gunzip, peak RSS
  convert version                                 this convert's version (not ImageMagick's convert)

--in and --out take local paths or s3://bucket/prefix URLs. Run
"convert <command> -h" (or "convert help <command>") for a command's flags.
Every flag --name can also be set with the environment variable CONVERT_NAME
(flags win).
`
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Convert compresses Snappy pages with the writer's faster encoder (the
// bytes every golden test and the README's numbers are made with).
func init() { writer.UseFastSnappy() }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageSummary)
		return exitUsage
	}
	if args[0] == "help" && len(args) > 1 {
		args = []string{args[1], "-h"} // convert help flowlogs = convert flowlogs -h
	}
	ctx, stop, sig := signalContext()
	defer stop()

	var code int
	switch args[0] {
	case "plan":
		code = planCommand(ctx, args[1:], stdout, stderr)
	case "ddl":
		code = ddlCommand(ctx, args[1:], stdout, stderr)
	case "verify":
		code = verifyCommand(ctx, args[1:], stdout, stderr)
	case "compact":
		code = compactCommand(ctx, args[1:], stdout, stderr)
	case "report":
		code = reportCommand(ctx, args[1:], stdout, stderr)
	case "gen":
		code = genCommand(ctx, args[1:], stdout, stderr)
	case "bench":
		code = benchCommand(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "convert", version)
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usageSummary)
		return exitOK
	default:
		if isKind(args[0]) {
			code = convertCommand(ctx, kindName(args[0]), args[1:], stdout, stderr)
			break
		}
		msg := fmt.Sprintf("convert: unknown command %q", args[0])
		if s := nearestCommand(args[0]); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		fmt.Fprintf(stderr, "%s\nRun \"convert help\" for the commands.\n", msg)
		return exitUsage
	}
	if code == exitFailed || code == exitTempFail {
		switch sig() {
		case syscall.SIGTERM:
			return exitSIGTERM
		case os.Interrupt:
			return exitSIGINT
		}
	}
	return code
}

var commands = append(kindNames(), "ddl", "plan", "verify", "compact", "report", "gen", "bench", "version", "help")

// nearestCommand returns the command a mistyped one most likely meant, or "".
func nearestCommand(name string) string {
	best, bestDist := "", 3
	for _, c := range commands {
		if d := editDistance(strings.ToLower(name), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// signalContext is cancelled by SIGINT or SIGTERM; sig reports which arrived.
func signalContext() (ctx context.Context, stop func(), sig func() os.Signal) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got os.Signal
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			got = s
			cancel(fmt.Errorf("%w: received %v", errInterrupted, s))
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(ch); close(done); cancel(nil) }, func() os.Signal {
		if ctx.Err() == nil {
			return nil
		}
		return got
	}
}

var errInterrupted = errors.New("interrupted")

// failureStatus is the exit status of a run that failed with err:
// exitTempFail when a retry may succeed, exitFailed when it cannot help.
// Every command maps its run's error here. Another run holding a lease on the
// same part of the output is transient too: retry once it has finished.
func failureStatus(err error) int {
	switch {
	case storage.IsTransient(err), errors.Is(err, pipeline.ErrOutputBusy):
		return exitTempFail
	}
	return exitFailed
}

// argumentStatus is the exit status of an error met while reading the
// arguments: exitUsage, unless the error is transient (reading a plan or
// work item from S3) or the listing that prunes the input failed.
func argumentStatus(err error) int {
	if code := failureStatus(err); code == exitTempFail || errors.Is(err, errListing) {
		return code
	}
	return exitUsage
}
