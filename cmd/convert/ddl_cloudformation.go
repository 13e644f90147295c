package main

import (
	"fmt"
	"strings"

	"convert/internal/schema"
)

// cfnTable says where a generated AWS::Glue::Table resource sits in a
// template. Empty fields refer to the stack deploy/convert.yaml defines.
type cfnTable struct {
	logicalID string // default: per kind, e.g. FlowLogsTable
	condition string // the resource's Condition, if any
	database  string // default: !Ref GlueDatabase
	location  string // default: !Sub s3://${OutputBucket}/${OutputPrefix}
}

// cloudFormationTable renders the AWS::Glue::Table resource of t as a YAML
// mapping entry (to go under Resources:), with its columns, partition keys
// and projection as AthenaDDL renders them.
func cloudFormationTable(t schema.GlueTable, at cfnTable) string {
	var b strings.Builder
	line := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	database := "!Ref GlueDatabase"
	if at.database != "" {
		database = yamlQuote(at.database)
	}
	location, template := yamlQuote(at.location), yamlQuote(at.location+t.LocationTemplate)
	if at.location == "" {
		// In !Sub, ${name} is a stack reference; ${!name} a literal ${name}.
		location = "!Sub 's3://${OutputBucket}/${OutputPrefix}'"
		template = "!Sub " + yamlQuote("s3://${OutputBucket}/${OutputPrefix}"+strings.ReplaceAll(t.LocationTemplate, "${", "${!"))
	}
	line(0, "%s:", at.logicalID)
	line(1, "Type: AWS::Glue::Table")
	if at.condition != "" {
		line(1, "Condition: %s", at.condition)
	}
	line(1, "Properties:")
	line(2, "CatalogId: !Ref AWS::AccountId")
	line(2, "DatabaseName: %s", database)
	line(2, "TableInput:")
	line(3, "Name: %s", t.Name)
	line(3, "TableType: EXTERNAL_TABLE")
	line(3, "Parameters:")
	for _, p := range t.Parameters {
		line(4, "%s: %s", p.Key, yamlQuote(p.Value))
	}
	if t.LocationTemplate != "" {
		line(4, "storage.location.template: %s", template)
	}
	if len(t.PartitionKeys) > 0 {
		line(3, "PartitionKeys:")
		for _, c := range t.PartitionKeys {
			line(4, "- { Name: %s, Type: %s }", c.Name, yamlQuote(c.Type))
		}
	}
	line(3, "StorageDescriptor:")
	line(4, "Location: %s", location)
	line(4, "InputFormat: %s", schema.GlueParquetInputFormat)
	line(4, "OutputFormat: %s", schema.GlueParquetOutputFormat)
	line(4, "SerdeInfo:")
	line(5, "SerializationLibrary: %s", schema.GlueParquetSerDe)
	line(4, "Columns:")
	for _, c := range t.Columns {
		line(5, "- { Name: %s, Type: %s }", c.Name, yamlQuote(c.Type))
	}
	return b.String()
}

// yamlQuote renders s as a single-quoted YAML scalar, which keeps every
// character literal (a quote is doubled).
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
