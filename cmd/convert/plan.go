package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"convert/internal/pipeline"
)

const planUsage = `Usage: convert plan KIND --in s3://… --out s3://… [--from DAY --to DAY] [--target-bytes 2GiB] [--plan-out PATH|s3://…] [conversion flags]

Lists the input as "convert KIND" would and writes a JSON array of work items,
each a disjoint set of input objects (as key ranges) of about --target-bytes,
with the exact arguments that convert it. Run the items in separate processes
(Step Functions Distributed Map: one child per item with CONVERT_ITEM set to the
item; AWS Batch array jobs: convert KIND --plan … --item-index N). Conversion
flags given here (--fields, --partition-time, --compression, S3 flags, …) are
carried into every item.
`

func planCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	kind, args, code := parseKind("plan", args, stdout, stderr, func(w io.Writer) {
		fmt.Fprint(w, planUsage)
		fmt.Fprintln(w, "\nRun \"convert plan KIND -h\" for the flags (those of \"convert KIND\" and --target-bytes, --plan-out).")
	})
	if code >= 0 {
		return code
	}
	target := byteSize(2 << 30)
	var planOut string
	fs, c, _, st, err := parseConvertFlags(ctx, kind, args, stdout, stderr, func(w io.Writer) { fmt.Fprint(w, planUsage) }, func(fs *flag.FlagSet) {
		fs.Var(&target, "target-bytes", "input bytes (as stored) per work item")
		fs.StringVar(&planOut, "plan-out", "", "write the plan to this file or s3:// URL instead of stdout")
	})
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		reportUsage(stderr, "plan "+string(kind), err)
		return exitUsage
	}
	log := newLogger(stderr, c.logLevel)
	cfg, err := c.pipelineConfig(ctx, kind, st, nil, log)
	if err != nil {
		reportUsage(stderr, "plan "+string(kind), err)
		return argumentStatus(err)
	}
	prefixes, err := prune(ctx, cfg.Source, kind, &cfg, nil)
	if err != nil {
		log.Error("planning failed", "error", err)
		return failureStatus(err)
	}
	var flags []string
	fs.Visit(func(f *flag.Flag) {
		if !notItemFlags[f.Name] {
			flags = append(flags, "--"+f.Name+"="+f.Value.String())
		}
	})
	items, err := pipeline.Plan(ctx, pipeline.PlanConfig{Run: cfg, Prefixes: prefixes, TargetBytes: int64(target),
		In: c.in, Out: c.out, Flags: flags})
	if err != nil {
		log.Error("planning failed", "error", err)
		return failureStatus(err)
	}
	var total int64
	for i := range items {
		it := items[i]
		it.Args = nil
		js, _ := json.Marshal(it)
		items[i].Args = []string{string(kind), "--item", string(js)}
		total += it.Bytes
	}
	if items == nil {
		items = []pipeline.Item{}
	}
	data, _ := json.MarshalIndent(items, "", "  ")
	data = append(data, '\n')
	if planOut == "" {
		stdout.Write(data)
	} else if err := st.writeTo(ctx, planOut, data); err != nil {
		log.Error("writing the plan", "error", err)
		return failureStatus(err)
	}
	log.Info("planned", "items", len(items), "bytes", total, "target_bytes", int64(target), "out", planOut)
	return exitOK
}
