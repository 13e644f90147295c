package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"convert/internal/gen"
	"convert/internal/pipeline"
	"convert/internal/reader/vpcflow"
	"convert/internal/schema"
)

// kindName is the name of a registered log kind: a conversion command, the
// first argument of ddl, plan, gen and bench.
type kindName string

// kindCommand is the command line of one log kind: the flags it adds to the
// conversion commands, how they configure its pipeline.Kind, its part of the
// DDL and its generator. The pipeline.Kind describes the rest (names,
// schema, partitioning, where AWS delivers it). Every kind of
// pipeline.Kinds has one (TestEveryKindHasACommand).
type kindCommand struct {
	pipeline.Description
	// register adds the kind's own conversion flags to fs, into c.
	register func(fs *flag.FlagSet, c *convertFlags)
	// configure builds the kind from the parsed conversion flags. st is nil
	// when only defaults are used (convert bench).
	configure func(ctx context.Context, c *convertFlags, st *stores) (pipeline.Kind, error)
	// ddl fills in the kind's part of cfg (Schema and Partitions are set
	// from the Description before) from the ddl flags.
	ddl func(d *ddlFlags, cfg *schema.DDLConfig) error
	// generate writes a generated data set (convert gen, convert bench).
	generate func(ctx context.Context, g *genFlags, stderr io.Writer) error
}

// kindCommands are the commands of the kinds, by name.
var kindCommands = map[kindName]*kindCommand{
	"flowlogs": {
		register: func(fs *flag.FlagSet, c *convertFlags) {
			registerMaxLineBytes(fs, c)
			fs.StringVar(&c.fields, "fields", "", "field list for files without a header line: \"version account-id …\" or \"${version} ${account-id} …\"")
			c.cls.register(fs)
		},
		configure: func(ctx context.Context, c *convertFlags, st *stores) (pipeline.Kind, error) {
			k := &pipeline.FlowLogs{ByDelivery: c.byDelivery(), MaxLineBytes: int(c.maxLineBytes)}
			if c.fields != "" {
				var err error
				if k.Fields, err = vpcflow.ParseFieldList(c.fields); err != nil {
					return nil, &usageError{msg: "--fields: " + err.Error(), flags: true}
				}
			}
			var err error
			k.Classifier, err = c.cls.classifier(ctx, st)
			return k, err
		},
		ddl: func(d *ddlFlags, cfg *schema.DDLConfig) error {
			if d.fields != "" {
				list, err := vpcflow.ParseFieldList(d.fields)
				if err != nil {
					return &usageError{msg: "--fields: " + err.Error(), flags: true}
				}
				var cols []arrow.Field
				for _, f := range list {
					col, _ := schema.VPCColumn(f)
					cols = append(cols, col)
				}
				cfg.Schema = arrow.NewSchema(schema.SortVPCFields(cols), nil)
			}
			if d.classify {
				cfg.Schema = schema.WithVPCClassification(cfg.Schema)
			}
			return nil
		},
		generate: func(ctx context.Context, g *genFlags, stderr io.Writer) error {
			st, err := gen.GenerateFlowLogsContext(ctx, gen.FlowLogsConfig{Dir: g.dir, Bytes: int64(g.size), Seed: g.seed, Days: g.days, Files: g.files})
			return generated(stderr, err, st.Files, st.Records, "%.1f MB of text, %.1f MB gzip", st.UncompressedBytes, st.CompressedBytes)
		},
	},
	"cloudtrail": {
		register: func(fs *flag.FlagSet, c *convertFlags) {
			c.maxRecordBytes = 16 << 20
			fs.Var(&c.maxRecordBytes, "max-record-bytes", "reject CloudTrail records larger than this (skipped without being held in memory)")
		},
		configure: func(_ context.Context, c *convertFlags, _ *stores) (pipeline.Kind, error) {
			return &pipeline.CloudTrail{ByDelivery: c.byDelivery(), MaxRecordBytes: int(c.maxRecordBytes)}, nil
		},
		ddl: cloudTrailDDL,
		generate: func(ctx context.Context, g *genFlags, stderr io.Writer) error {
			st, err := gen.GenerateCloudTrailContext(ctx, gen.CloudTrailConfig{Dir: g.dir, Bytes: int64(g.size), Seed: g.seed, Days: g.days, Files: g.files})
			return generated(stderr, err, st.Files, st.Records, "%.1f MB of JSON, %.1f MB gzip", st.UncompressedBytes, st.CompressedBytes)
		},
	},
	"s3access": {
		register: registerMaxLineBytes,
		configure: func(_ context.Context, c *convertFlags, _ *stores) (pipeline.Kind, error) {
			return &pipeline.S3Access{ByDelivery: c.byDelivery(), MaxLineBytes: int(c.maxLineBytes)}, nil
		},
		ddl: func(*ddlFlags, *schema.DDLConfig) error { return nil },
		generate: func(ctx context.Context, g *genFlags, stderr io.Writer) error {
			st, err := gen.GenerateS3AccessContext(ctx, gen.S3AccessConfig{Dir: g.dir, Bytes: int64(g.size), Seed: g.seed, Days: g.days, Files: g.files, DateBased: true})
			return generated(stderr, err, st.Files, st.Records, "%.1f MB of text (access logs are not compressed)", st.UncompressedBytes)
		},
	},
}

func init() {
	for _, k := range pipeline.Kinds() {
		if c := kindCommands[kindName(k.Name())]; c != nil {
			c.Description = k.Describe()
		}
	}
}

// command returns the kind's command (every kindName is registered).
func (k kindName) command() *kindCommand { return kindCommands[k] }

// isKind reports whether name is a registered kind.
func isKind(name string) bool { return kindCommands[kindName(name)] != nil }

// kindNames are the registered kinds, in the order of pipeline.Kinds.
func kindNames() []string {
	var names []string
	for _, k := range pipeline.Kinds() {
		names = append(names, k.Name())
	}
	return names
}

// kindList words the kinds for messages: "flowlogs, cloudtrail or s3access"
// (sep ", ", last " or ") or "flowlogs|cloudtrail|s3access".
func kindList(sep, last string) string {
	names := kindNames()
	if len(names) < 2 || sep == last {
		return strings.Join(names, sep)
	}
	return strings.Join(names[:len(names)-1], sep) + last + names[len(names)-1]
}

// generated reports what a generator wrote, unless it failed: files,
// records, then the sizes in MB as format says.
func generated(stderr io.Writer, err error, files int, records int64, format string, sizes ...int64) error {
	if err == nil {
		mb := make([]any, len(sizes))
		for i, n := range sizes {
			mb[i] = float64(n) / 1e6
		}
		fmt.Fprintf(stderr, "generated %d files, %d records, "+format+"\n", append([]any{files, records}, mb...)...)
	}
	return err
}

// registerMaxLineBytes adds --max-line-bytes, the flag of the kinds read by
// lines.
func registerMaxLineBytes(fs *flag.FlagSet, c *convertFlags) {
	c.maxLineBytes = 1 << 20
	fs.Var(&c.maxLineBytes, "max-line-bytes", "reject lines longer than this (they are never held in memory whole)")
}

// cloudTrailDDL lists the accounts and regions as enums (from --accounts,
// --regions or the partitions under --out), else projects them as injected.
func cloudTrailDDL(d *ddlFlags, cfg *schema.DDLConfig) error {
	enums := map[string][]string{}
	if d.accounts != "" {
		enums["account"] = strings.Split(d.accounts, ",")
	}
	if d.regions != "" {
		enums["region"] = strings.Split(d.regions, ",")
	}
	if d.out != "" && (enums["account"] == nil || enums["region"] == nil) {
		parts, err := d.listOut()
		if err != nil {
			return err
		}
		found := map[string]map[string]bool{"account": {}, "region": {}}
		for _, p := range parts {
			for _, seg := range strings.Split(p, "/") {
				if name, v, ok := strings.Cut(seg, "="); ok && found[name] != nil {
					found[name][v] = true
				}
			}
		}
		for name, set := range found {
			if enums[name] == nil && len(set) > 0 {
				for v := range set {
					enums[name] = append(enums[name], v)
				}
				sort.Strings(enums[name])
			}
		}
	}
	for _, name := range []string{"account", "region"} {
		if enums[name] == nil {
			cfg.InjectedPartitions = append(cfg.InjectedPartitions, name)
		}
	}
	if len(enums) > 0 {
		cfg.EnumPartitions = enums
	}
	return nil
}
