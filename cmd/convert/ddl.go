package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"convert/internal/schema"
	"convert/internal/storage"
)

const ddlUsage = `Usage: convert ddl flowlogs|cloudtrail|s3access --location s3://bucket/prefix/ [--table NAME] [--database NAME] [--out PATH|s3://…] [--no-projection] [--classify]

Prints the Athena CREATE EXTERNAL TABLE statement for convert's Parquet output
of a kind, its columns generated from the same schema the writer uses. By
default it uses partition projection, so no MSCK REPAIR TABLE or ALTER TABLE ADD
PARTITION is ever needed. --no-projection prints the plain table and, with --out,
the ALTER TABLE ADD PARTITION statements for the partitions that output tree holds.
For cloudtrail, --out (or --accounts/--regions) lists the accounts and regions as
enums, so that queries need not filter on them; without, they are injected.
The projected years run from 1970 (records keep their own times) to NOW, widened
to every year=YYYY under --out; run it again after a backfill reaches new years.
--format cloudformation prints the same table as an AWS::Glue::Table resource
(--location optional: by default it refers to the stack of deploy/convert.yaml).
`

// ddlFlags are the ddl flags a kind's part of the DDL reads (kindCommand.ddl).
type ddlFlags struct {
	fields   string // flowlogs: --fields
	classify bool   // flowlogs: --classify
	accounts string // cloudtrail: --accounts
	regions  string // cloudtrail: --regions
	out      string // --out, an output tree
	// listOut lists the partitions under --out (once).
	listOut func() ([]string, error)
}

func ddlCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ddl", flag.ContinueOnError)
	location := fs.String("location", "", "s3://bucket/prefix/ where the Parquet tree is (the --out of the conversion; required)")
	table := fs.String("table", "", "table name (default: per kind, e.g. flow_logs_parquet)")
	database := fs.String("database", "", "database (default: the query's current database)")
	noProjection := fs.Bool("no-projection", false, "no partition projection; print ALTER TABLE ADD PARTITION for --out's partitions")
	out := fs.String("out", "", "an output tree (directory or s3://): its years widen the projected range; with --no-projection, its partitions to add")
	years := fs.String("years", "", "projected year range, e.g. 2019 or 2019,NOW (default "+schema.DefaultYearRange+", widened to --out's years)")
	var d ddlFlags
	fs.StringVar(&d.fields, "fields", "", "flowlogs: only these fields (the flow log's format), instead of every documented field")
	fs.BoolVar(&d.classify, "classify", false, "flowlogs: add the columns that a conversion with --classify appends")
	fs.StringVar(&d.accounts, "accounts", "", "cloudtrail: comma-separated account ids to project as an enum (default: the accounts under --out if given, else injected: every query must then filter on account)")
	fs.StringVar(&d.regions, "regions", "", "cloudtrail: comma-separated regions to project as an enum (default: the regions under --out if given, else injected)")
	format := fs.String("format", "sql", "sql (CREATE EXTERNAL TABLE) or cloudformation (the AWS::Glue::Table resource, as deploy/convert.yaml holds it)")
	resource := fs.String("resource", "", "cloudformation: the resource's logical id (default: per kind, e.g. FlowLogsTable)")
	condition := fs.String("condition", "", "cloudformation: the resource's Condition")
	var s3 s3Flags
	s3.register(fs)
	header := func(w io.Writer) { fmt.Fprint(w, ddlUsage) }
	kind, args, code := parseKind("ddl", args, stdout, stderr, func(w io.Writer) { printHelp(fs, w, header) })
	if code >= 0 {
		return code
	}
	if err := parseFlags(fs, args, stdout, header); err != nil {
		return usageExit(stderr, "ddl", err)
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, "ddl", &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), flags: true})
	}
	if err := applyEnv(fs); err != nil {
		return usageExit(stderr, "ddl", err)
	}
	k := kind.command()
	if d.classify && k.Optional == nil {
		// --classify adds the Optional columns; a kind without them has
		// nothing to add.
		return usageExit(stderr, "ddl", &usageError{msg: "--classify is for " + optionalKinds() + " only", flags: true})
	}
	cfg := schema.DDLConfig{Database: *database, Table: *table, Location: *location,
		Projection: !*noProjection, YearRange: *years, Schema: k.Schema(), Partitions: k.Partitions}
	if cfg.Table == "" {
		cfg.Table = k.Table
	}
	var outParts []string // --out's partitions, listed once
	d.out = *out
	d.listOut = func() ([]string, error) {
		if outParts != nil {
			return outParts, nil
		}
		st := &stores{flags: s3, log: newLogger(stderr, "info")}
		parts, err := outputPartitions(ctx, st, *out)
		if parts == nil {
			parts = []string{}
		}
		outParts = parts
		return parts, err
	}
	if err := k.ddl(&d, &cfg); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return usageExit(stderr, "ddl", err)
		}
		fmt.Fprintln(stderr, "convert ddl:", err)
		return failureStatus(err)
	}
	switch *format {
	case "sql":
	case "cloudformation":
		return ddlCloudFormation(cfg, cfnTable{logicalID: *resource, condition: *condition, database: *database, location: *location}, kind, stdout, stderr)
	default:
		return usageExit(stderr, "ddl", &usageError{msg: fmt.Sprintf("--format must be sql or cloudformation, not %q", *format), flags: true})
	}
	if *location == "" {
		return usageExit(stderr, "ddl", &usageError{msg: "--location is required: the s3://bucket/prefix/ of the conversion's --out", flags: true})
	}
	if *out != "" && cfg.Projection {
		// The projected years must reach every partition --out holds
		// (a record's own time may be 1975): widen the default to them, or
		// warn when --years leaves some out.
		parts, err := d.listOut()
		if err != nil {
			fmt.Fprintln(stderr, "convert ddl:", err)
			return exitFailed
		}
		if *years == "" {
			cfg.YearRange = schema.YearRangeCovering(parts, time.Now())
		} else if outside, err := schema.YearsOutside(*years, parts, time.Now()); err == nil && len(outside) > 0 {
			fmt.Fprintf(stderr, "warning: --years %s leaves out years under --out, which queries will never read: %v\n", *years, outside)
		}
	}
	ddl, err := schema.AthenaDDL(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "convert ddl:", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, strings.TrimRight(ddl, ";\n")+";")
	if len(cfg.InjectedPartitions) > 0 && cfg.Projection {
		fmt.Fprintf(stderr, "note: %s projected as injected: every query must filter on them with = (or give --accounts/--regions or --out for enums)\n",
			strings.Join(cfg.InjectedPartitions, " and "))
	}
	if *noProjection && *out != "" {
		parts, err := d.listOut()
		if err != nil {
			fmt.Fprintln(stderr, "convert ddl:", err)
			return failureStatus(err)
		}
		stmts, err := schema.AddPartitionsDDL(*database, cfg.Table, *location, parts)
		if err != nil {
			fmt.Fprintln(stderr, "convert ddl:", err)
			return exitFailed
		}
		if stmts != "" {
			fmt.Fprintln(stdout)
			fmt.Fprintln(stdout, strings.TrimRight(stmts, ";\n")+";")
		}
	}
	return exitOK
}

// ddlCloudFormation prints the AWS::Glue::Table resource of cfg. Without
// --location and --database it refers to the stack of deploy/convert.yaml.
func ddlCloudFormation(cfg schema.DDLConfig, at cfnTable, kind kindName, stdout, stderr io.Writer) int {
	if at.logicalID == "" {
		at.logicalID = kind.command().Resource
	}
	table, err := schema.GlueTableOf(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "convert ddl:", err)
		return exitUsage
	}
	fmt.Fprint(stdout, cloudFormationTable(table, at))
	return exitOK
}

// outputPartitions lists the Hive partition paths holding Parquet files in
// an output tree (not its _-prefixed folders).
func outputPartitions(ctx context.Context, st *stores, out string) ([]string, error) {
	var sink storage.Sink
	if isS3(out) {
		bucket, prefix, ok := storage.ParseS3URL(out)
		if !ok {
			return nil, fmt.Errorf("--out: not an s3://bucket/prefix URL: %q", out)
		}
		c, err := st.s3(ctx)
		if err != nil {
			return nil, err
		}
		sink = &storage.S3Sink{Client: c, Bucket: bucket, Prefix: prefix}
	} else {
		sink = &storage.LocalSink{Root: out}
	}
	set := map[string]bool{}
	err := sink.List(ctx, "", func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".parquet") && !strings.HasPrefix(o.Key, "_") {
			set[path.Dir(o.Key)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var parts []string
	for p := range set {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return parts, nil
}

// optionalKinds names the kinds whose Description has Optional columns (the
// kinds --classify applies to), in the order of pipeline.Kinds.
func optionalKinds() string {
	var names []string
	for _, n := range kindNames() {
		if kindName(n).command().Optional != nil {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}
