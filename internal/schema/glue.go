package schema

import (
	"fmt"
	"strings"
)

// The formats and SerDe of a Parquet table, as Athena records them for
// CREATE EXTERNAL TABLE … STORED AS PARQUET.
const (
	GlueParquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	GlueParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	GlueParquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// GlueColumn is a column of a Glue Data Catalog table.
type GlueColumn struct{ Name, Type string }

// GlueParameter is a table parameter (a TBLPROPERTIES entry).
type GlueParameter struct{ Key, Value string }

// GlueTable is the Glue Data Catalog form of the table AthenaDDL creates,
// what CloudFormation's AWS::Glue::Table TableInput holds: the same columns,
// partition keys and projection, from the same Arrow schema.
type GlueTable struct {
	Name          string
	Columns       []GlueColumn
	PartitionKeys []GlueColumn
	// Parameters are EXTERNAL and classification, then, with
	// DDLConfig.Projection, the projection.* properties in AthenaDDL's
	// order. storage.location.template is not among them: it is the
	// table's location followed by LocationTemplate.
	Parameters []GlueParameter
	// LocationTemplate is the partition path under the location, e.g.
	// "year=${year}/month=${month}/day=${day}/"; empty without projection.
	LocationTemplate string
}

// GlueTableOf returns the Glue form of the table AthenaDDL(cfg) creates.
// cfg.Location may be empty (the caller places the table, e.g. with a
// CloudFormation !Sub); everything else is checked as AthenaDDL checks it.
func GlueTableOf(cfg DDLConfig) (GlueTable, error) {
	check := cfg
	if check.Location == "" {
		check.Location = "s3://location/"
	}
	if _, err := AthenaDDL(check); err != nil {
		return GlueTable{}, err
	}
	t := GlueTable{Name: cfg.Table, Parameters: []GlueParameter{{"EXTERNAL", "TRUE"}, {"classification", "parquet"}}}
	for _, f := range cfg.Schema.Fields() {
		typ, err := AthenaType(f.Type)
		if err != nil {
			return GlueTable{}, fmt.Errorf("column %s: %w", f.Name, err)
		}
		t.Columns = append(t.Columns, GlueColumn{f.Name, typ})
	}
	for _, p := range cfg.Partitions {
		t.PartitionKeys = append(t.PartitionKeys, GlueColumn{p, "string"})
	}
	if !cfg.Projection || len(cfg.Partitions) == 0 {
		return t, nil
	}
	props, err := ddlProjection(cfg, "")
	if err != nil {
		return GlueTable{}, err
	}
	// ddlProjection renders 'key'='value' entries whose values hold no quote.
	for _, p := range props {
		k, v, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(p, "'"), "'"), "'='")
		if !ok {
			return GlueTable{}, fmt.Errorf("%w: projection property %s", ErrDDL, p)
		}
		if k == "storage.location.template" {
			t.LocationTemplate = v
			continue
		}
		t.Parameters = append(t.Parameters, GlueParameter{k, v})
	}
	return t, nil
}
