package schema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"
)

// parsedDDL is what the test's independent reading of a CREATE TABLE finds.
type parsedDDL struct {
	table      string
	columns    []parsedColumn
	partitions []parsedColumn
	location   string
	props      map[string]string
}

type parsedColumn struct {
	name   string // without backquotes
	quoted bool
	typ    arrow.DataType
}

var ddlHead = regexp.MustCompile("^CREATE EXTERNAL TABLE IF NOT EXISTS ((?:`[a-z0-9_]+`\\.)?`[a-z0-9_]+`) \\(\n")

// parseDDL reads a statement AthenaDDL wrote, checking its syntax as it goes:
// balanced brackets and quotes, known type names only, one statement.
func parseDDL(t *testing.T, ddl string) parsedDDL {
	t.Helper()
	requireBalanced(t, ddl)
	require.True(t, strings.HasSuffix(ddl, ";\n"), "ends the statement")
	require.Equal(t, 1, strings.Count(ddl, ";"), "one statement")
	m := ddlHead.FindStringSubmatch(ddl)
	require.NotNil(t, m, ddl)
	out := parsedDDL{table: m[1], props: map[string]string{}}
	rest := ddl[len(m[0]):]
	body, rest, ok := strings.Cut(rest, "\n)\n")
	require.True(t, ok)
	out.columns = parseColumns(t, body)
	if after, ok := strings.CutPrefix(rest, "PARTITIONED BY (\n"); ok {
		var parts string
		parts, rest, ok = strings.Cut(after, "\n)\n")
		require.True(t, ok)
		out.partitions = parseColumns(t, parts)
	}
	rest, ok = strings.CutPrefix(rest, "STORED AS PARQUET\nLOCATION '")
	require.True(t, ok, rest)
	out.location, rest, ok = strings.Cut(rest, "'")
	require.True(t, ok)
	if after, ok := strings.CutPrefix(rest, "\nTBLPROPERTIES (\n"); ok {
		props, tail, ok := strings.Cut(after, "\n)")
		require.True(t, ok)
		rest = tail
		for _, line := range strings.Split(props, ",\n") {
			pm := regexp.MustCompile(`^  '([a-z0-9_.]+)'='([^']*)'$`).FindStringSubmatch(line)
			require.NotNil(t, pm, "property %q", line)
			require.NotContains(t, out.props, pm[1], "property set twice")
			out.props[pm[1]] = pm[2]
		}
	}
	require.Equal(t, ";\n", rest)
	return out
}

func requireBalanced(t *testing.T, s string) {
	t.Helper()
	var stack []rune
	pairs := map[rune]rune{')': '(', '>': '<'}
	inQuote := false
	for _, r := range s {
		if r == '\'' {
			inQuote = !inQuote
		}
		if inQuote {
			continue // ${year} and paths inside literals are not brackets
		}
		switch r {
		case '(', '<':
			stack = append(stack, r)
		case ')', '>':
			require.NotEmpty(t, stack, "unbalanced %c", r)
			require.Equal(t, pairs[r], stack[len(stack)-1], "mismatched %c", r)
			stack = stack[:len(stack)-1]
		}
	}
	require.Empty(t, stack, "unclosed brackets")
	require.False(t, inQuote, "unclosed string literal")
	require.Zero(t, strings.Count(s, "`")%2, "unbalanced backquotes")
}

// splitTop splits s at commas outside <> and ().
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseColumns(t *testing.T, body string) []parsedColumn {
	t.Helper()
	var cols []parsedColumn
	for _, item := range splitTop(body) {
		item = strings.TrimSpace(item)
		name, typ, ok := strings.Cut(item, " ")
		require.True(t, ok, item)
		c := parsedColumn{name: name}
		if unq, ok := strings.CutPrefix(name, "`"); ok {
			c.name, c.quoted = strings.TrimSuffix(unq, "`"), true
		}
		c.typ = parseType(t, typ)
		cols = append(cols, c)
	}
	return cols
}

// parseType reads an Athena type back into Arrow. It knows only the type
// names Athena has; anything else fails the test.
func parseType(t *testing.T, s string) arrow.DataType {
	t.Helper()
	dt, rest := parseTypePrefix(t, s)
	require.Empty(t, rest, "trailing text after type %q", s)
	return dt
}

func parseTypePrefix(t *testing.T, s string) (arrow.DataType, string) {
	simple := map[string]arrow.DataType{
		"boolean": arrow.FixedWidthTypes.Boolean, "tinyint": arrow.PrimitiveTypes.Int8, "smallint": arrow.PrimitiveTypes.Int16,
		"int": arrow.PrimitiveTypes.Int32, "bigint": arrow.PrimitiveTypes.Int64, "float": arrow.PrimitiveTypes.Float32,
		"double": arrow.PrimitiveTypes.Float64, "string": arrow.BinaryTypes.String, "binary": arrow.BinaryTypes.Binary,
		"date": arrow.FixedWidthTypes.Date32, "timestamp": arrow.FixedWidthTypes.Timestamp_ms,
	}
	word := s
	if i := strings.IndexAny(s, "<>,(:"); i >= 0 {
		word = s[:i]
	}
	rest := s[len(word):]
	switch word {
	case "struct":
		require.True(t, strings.HasPrefix(rest, "<"), s)
		rest = rest[1:]
		var fields []arrow.Field
		for {
			name, after, ok := strings.Cut(rest, ":")
			require.True(t, ok, s)
			if unq, ok := strings.CutPrefix(name, "`"); ok {
				name = strings.TrimSuffix(unq, "`")
			} else {
				require.False(t, IsReservedDDLWord(name), "reserved struct field %q not backquoted", name)
			}
			require.Regexp(t, `^[a-z0-9_]+$`, name)
			var ft arrow.DataType
			ft, rest = parseTypePrefix(t, after)
			fields = append(fields, arrow.Field{Name: name, Type: ft, Nullable: true})
			if strings.HasPrefix(rest, ">") {
				return arrow.StructOf(fields...), rest[1:]
			}
			require.True(t, strings.HasPrefix(rest, ","), s)
			rest = rest[1:]
		}
	case "array":
		require.True(t, strings.HasPrefix(rest, "<"), s)
		elem, after := parseTypePrefix(t, rest[1:])
		require.True(t, strings.HasPrefix(after, ">"), s)
		return arrow.ListOf(elem), after[1:]
	case "map":
		require.True(t, strings.HasPrefix(rest, "<"), s)
		k, after := parseTypePrefix(t, rest[1:])
		require.True(t, strings.HasPrefix(after, ","), s)
		v, after := parseTypePrefix(t, after[1:])
		require.True(t, strings.HasPrefix(after, ">"), s)
		return arrow.MapOf(k, v), after[1:]
	case "decimal":
		m := regexp.MustCompile(`^\((\d+),(\d+)\)`).FindStringSubmatch(rest)
		require.NotNil(t, m, s)
		p, _ := strconv.Atoi(m[1])
		sc, _ := strconv.Atoi(m[2])
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(sc)}, rest[len(m[0]):]
	}
	dt, ok := simple[word]
	require.True(t, ok, "unknown Athena type %q in %q", word, s)
	return dt, rest
}

// sameType compares the Athena-relevant shape of two types: names and types
// of struct fields, element, key and value types. Nullability, list element
// names, dictionary encoding and timestamp units do not reach the DDL.
func sameType(a, b arrow.DataType) bool {
	if d, ok := a.(*arrow.DictionaryType); ok {
		a = d.ValueType
	}
	switch at := a.(type) {
	case *arrow.StructType:
		bt, ok := b.(*arrow.StructType)
		if !ok || at.NumFields() != bt.NumFields() {
			return false
		}
		for i := range at.Fields() {
			if at.Field(i).Name != bt.Field(i).Name || !sameType(at.Field(i).Type, bt.Field(i).Type) {
				return false
			}
		}
		return true
	case *arrow.MapType:
		bt, ok := b.(*arrow.MapType)
		return ok && sameType(at.KeyType(), bt.KeyType()) && sameType(at.ItemType(), bt.ItemType())
	case *arrow.ListType:
		bt, ok := b.(*arrow.ListType)
		return ok && sameType(at.Elem(), bt.Elem())
	case *arrow.LargeStringType:
		return b.ID() == arrow.STRING
	case *arrow.TimestampType:
		return b.ID() == arrow.TIMESTAMP
	}
	return arrow.TypeEqual(a, b)
}

// checkDDL checks a table against the schema it was made from: every column
// in order with the matching type, backquoted; the partitions; and, with
// projection, a complete configuration for every partition column.
func checkDDL(t *testing.T, cfg DDLConfig, ddl string) parsedDDL {
	t.Helper()
	p := parseDDL(t, ddl)
	require.Len(t, p.columns, cfg.Schema.NumFields())
	for i, f := range cfg.Schema.Fields() {
		c := p.columns[i]
		require.Equal(t, f.Name, c.name)
		require.True(t, c.quoted, "column %s backquoted", f.Name)
		require.True(t, sameType(f.Type, c.typ), "column %s: DDL type %s, schema type %s", f.Name, c.typ, f.Type)
		if IsReservedDDLWord(f.Name) {
			require.Contains(t, ddl, "`"+f.Name+"` ")
		}
	}
	require.Len(t, p.partitions, len(cfg.Partitions))
	for i, name := range cfg.Partitions {
		require.Equal(t, name, p.partitions[i].name)
		require.True(t, p.partitions[i].quoted)
		require.Equal(t, arrow.STRING, p.partitions[i].typ.ID())
	}
	if !cfg.Projection {
		require.Empty(t, p.props)
		return p
	}
	require.Equal(t, "true", p.props["projection.enabled"])
	template := strings.TrimSuffix(cfg.Location, "/") + "/"
	for _, name := range cfg.Partitions {
		typ := p.props["projection."+name+".type"]
		switch typ {
		case "integer":
			require.Regexp(t, `^\d+,\d+$`, p.props["projection."+name+".range"])
			require.Equal(t, "2", p.props["projection."+name+".digits"])
		case "date":
			require.NotEmpty(t, p.props["projection."+name+".range"])
			require.NotEmpty(t, p.props["projection."+name+".format"])
		case "enum":
			require.NotEmpty(t, p.props["projection."+name+".values"])
		case "injected":
		default:
			t.Fatalf("partition %s: projection type %q", name, typ)
		}
		template += name + "=${" + name + "}/"
	}
	require.Equal(t, template, p.props["storage.location.template"])
	for k := range p.props {
		if rest, ok := strings.CutPrefix(k, "projection."); ok && k != "projection.enabled" {
			col, _, _ := strings.Cut(rest, ".")
			require.Contains(t, cfg.Partitions, col, "property %s for a partition column", k)
		}
	}
	return p
}

// synthNested has struct, list and map nested to depth four, and reserved
// words as column and struct field names.
func synthNested() *arrow.Schema {
	str := arrow.BinaryTypes.String
	inner := arrow.StructOf(
		arrow.Field{Name: "end", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "tags", Type: arrow.MapOf(str, arrow.ListOf(arrow.PrimitiveTypes.Int32)), Nullable: true},
	)
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: false},
		{Name: "date", Type: str, Nullable: true},
		{Name: "timestamp", Type: arrow.FixedWidthTypes.Timestamp_ms, Nullable: true},
		{Name: "key", Type: str, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ratio", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 18, Scale: 4}, Nullable: true},
		{Name: "payload", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "label", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: str}, Nullable: true},
		{Name: "spans", Type: arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "date", Type: str, Nullable: true},
			arrow.Field{Name: "inner", Type: inner, Nullable: true},
			arrow.Field{Name: "_hidden", Type: str, Nullable: true},
		)), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(str, arrow.StructOf(arrow.Field{Name: "type", Type: str, Nullable: true})), Nullable: true},
	}, nil)
}

func TestAthenaDDLKinds(t *testing.T) {
	day := []string{"year", "month", "day"}
	tests := []struct {
		name string
		cfg  DDLConfig
	}{
		{"flowlogs", DDLConfig{Database: "logs", Table: "vpc_flow_logs", Location: "s3://my-bucket/out/flowlogs/", Schema: VPCFullSchema(), Partitions: day, Projection: true}},
		{"s3access", DDLConfig{Table: "s3_access_logs", Location: "s3://my-bucket/out/s3access", Schema: S3AccessSchema(), Partitions: day, Projection: true, YearRange: "2019"}},
		{"cloudtrail", DDLConfig{Database: "logs", Table: "cloudtrail_logs", Location: "s3://my-bucket/out/cloudtrail/", Schema: CloudTrailSchema(),
			Partitions: []string{"account", "region", "year", "month", "day"}, Projection: true, InjectedPartitions: []string{"account", "region"}}},
		{"cloudtrail enum", DDLConfig{Table: "ct", Location: "s3://b/p/", Schema: CloudTrailSchema(),
			Partitions: []string{"account", "region", "year", "month", "day"}, Projection: true,
			EnumPartitions: map[string][]string{"account": {"111122223333", "012345678901"}, "region": {"us-east-1", "eu-west-1"}}}},
		{"synthetic nested", DDLConfig{Database: "db", Table: "nested", Location: "s3://b/p", Schema: synthNested(), Partitions: day, Projection: true, YearRange: "2020,2030"}},
		{"flowlogs without projection", DDLConfig{Table: "vpc", Location: "s3://b/p/", Schema: VPCFullSchema(), Partitions: day}},
		{"cloudtrail without projection", DDLConfig{Table: "ct", Location: "s3://b/p/", Schema: CloudTrailSchema(),
			Partitions: []string{"account", "region", "year", "month", "day"}, InjectedPartitions: []string{"account", "region"}}},
		{"no partitions", DDLConfig{Table: "flat", Location: "s3://b/p/", Schema: S3AccessSchema()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ddl, err := AthenaDDL(tc.cfg)
			require.NoError(t, err)
			p := checkDDL(t, tc.cfg, ddl)
			require.Equal(t, strings.TrimSuffix(tc.cfg.Location, "/")+"/", p.location)
			if tc.cfg.Database != "" {
				require.Equal(t, "`"+tc.cfg.Database+"`.`"+tc.cfg.Table+"`", p.table)
			}
		})
	}
}

func TestAthenaDDLValues(t *testing.T) {
	ddl, err := AthenaDDL(DDLConfig{Database: "logs", Table: "vpc", Location: "s3://b/out", Schema: VPCFullSchema(),
		Partitions: []string{"year", "month", "day"}, Projection: true})
	require.NoError(t, err)
	p := parseDDL(t, ddl)
	require.Equal(t, map[string]string{
		"projection.enabled":            "true",
		"projection.year.type":          "date",
		"projection.year.format":        "yyyy",
		"projection.year.range":         "1970,NOW",
		"projection.year.interval":      "1",
		"projection.year.interval.unit": "YEARS",
		"projection.month.type":         "integer",
		"projection.month.range":        "1,12",
		"projection.month.digits":       "2",
		"projection.day.type":           "integer",
		"projection.day.range":          "1,31",
		"projection.day.digits":         "2",
		"storage.location.template":     "s3://b/out/year=${year}/month=${month}/day=${day}/",
	}, p.props)
	// The flow-log columns AWS's DDL backquotes, and their types.
	require.Contains(t, ddl, "  `end` bigint,\n")
	require.Contains(t, ddl, "  `start` bigint,\n")
	require.Contains(t, ddl, "  `protocol` bigint,\n")
	require.Contains(t, ddl, "  `srcport` int,\n")
	require.Contains(t, ddl, "  `account_id` string,\n")

	s3, err := AthenaDDL(DDLConfig{Table: "s3_access_logs", Location: "s3://b/s3/", Schema: S3AccessSchema(),
		Partitions: []string{"year", "month", "day"}, Projection: true, YearRange: "2019"})
	require.NoError(t, err)
	require.Contains(t, s3, "  `key` string,\n")
	require.Contains(t, s3, "  `bytessent` bigint,\n")
	require.Contains(t, s3, "  `objectsize` bigint,\n")
	require.Contains(t, s3, "  `sourceregion` string\n)\n")
	require.Contains(t, s3, "'projection.year.range'='2019,NOW'")

	ct, err := AthenaDDL(DDLConfig{Table: "ct", Location: "s3://b/ct/", Schema: CloudTrailSchema(),
		Partitions: []string{"account", "region", "year", "month", "day"}, Projection: true, InjectedPartitions: []string{"account", "region"}})
	require.NoError(t, err)
	require.Contains(t, ct, "'projection.account.type'='injected'")
	require.Contains(t, ct, "'projection.region.type'='injected'")
	require.Contains(t, ct, "'storage.location.template'='s3://b/ct/account=${account}/region=${region}/year=${year}/month=${month}/day=${day}/'")
	require.Contains(t, ct, "  `resources` array<struct<arn:string,accountid:string,type:string>>,\n")
	require.Contains(t, ct, "webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>")
}

// TestAthenaDDLExact pins the whole text for a small table.
func TestAthenaDDLExact(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "end", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "detail", Type: arrow.StructOf(
			arrow.Field{Name: "date", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		), Nullable: true},
	}, nil)
	ddl, err := AthenaDDL(DDLConfig{Database: "db", Table: "t", Location: "s3://b/p/", Schema: sc,
		Partitions: []string{"account", "year", "month", "day"}, Projection: true, InjectedPartitions: []string{"account"}, YearRange: "2020"})
	require.NoError(t, err)
	require.Equal(t, "CREATE EXTERNAL TABLE IF NOT EXISTS `db`.`t` (\n"+
		"  `end` bigint,\n"+
		"  `detail` struct<`date`:string,n:int>\n"+
		")\n"+
		"PARTITIONED BY (\n"+
		"  `account` string,\n"+
		"  `year` string,\n"+
		"  `month` string,\n"+
		"  `day` string\n"+
		")\n"+
		"STORED AS PARQUET\n"+
		"LOCATION 's3://b/p/'\n"+
		"TBLPROPERTIES (\n"+
		"  'projection.enabled'='true',\n"+
		"  'projection.account.type'='injected',\n"+
		"  'projection.year.type'='date',\n"+
		"  'projection.year.format'='yyyy',\n"+
		"  'projection.year.range'='2020,NOW',\n"+
		"  'projection.year.interval'='1',\n"+
		"  'projection.year.interval.unit'='YEARS',\n"+
		"  'projection.month.type'='integer',\n"+
		"  'projection.month.range'='1,12',\n"+
		"  'projection.month.digits'='2',\n"+
		"  'projection.day.type'='integer',\n"+
		"  'projection.day.range'='1,31',\n"+
		"  'projection.day.digits'='2',\n"+
		"  'storage.location.template'='s3://b/p/account=${account}/year=${year}/month=${month}/day=${day}/'\n"+
		");\n", ddl)

	plain, err := AthenaDDL(DDLConfig{Table: "t", Location: "s3://b/p", Schema: sc, Partitions: []string{"year"}})
	require.NoError(t, err)
	require.Equal(t, "CREATE EXTERNAL TABLE IF NOT EXISTS `t` (\n"+
		"  `end` bigint,\n"+
		"  `detail` struct<`date`:string,n:int>\n"+
		")\n"+
		"PARTITIONED BY (\n"+
		"  `year` string\n"+
		")\n"+
		"STORED AS PARQUET\n"+
		"LOCATION 's3://b/p/';\n", plain)
}

func TestAthenaDDLErrors(t *testing.T) {
	good := DDLConfig{Table: "t", Location: "s3://b/p/", Schema: S3AccessSchema(), Partitions: []string{"year", "month", "day"}, Projection: true}
	tests := []struct {
		name   string
		modify func(*DDLConfig)
		msg    string
	}{
		{"uppercase table", func(c *DDLConfig) { c.Table = "MyTable" }, "table name"},
		{"hyphen in table", func(c *DDLConfig) { c.Table = "my-table" }, "table name"},
		{"empty table", func(c *DDLConfig) { c.Table = "" }, "table name"},
		{"long table", func(c *DDLConfig) { c.Table = strings.Repeat("a", 256) }, "table name"},
		{"bad database", func(c *DDLConfig) { c.Database = "logs; drop" }, "database name"},
		{"http location", func(c *DDLConfig) { c.Location = "https://b/p" }, "want s3://"},
		{"quote in location", func(c *DDLConfig) { c.Location = "s3://b/p'x" }, "quotes"},
		{"space in location", func(c *DDLConfig) { c.Location = "s3://b/p x" }, "spaces"},
		{"template in location", func(c *DDLConfig) { c.Location = "s3://b/${x}" }, "${"},
		{"bucketless location", func(c *DDLConfig) { c.Location = "s3://" }, "want s3://"},
		{"no schema", func(c *DDLConfig) { c.Schema = nil }, "no columns"},
		{"partition is a column", func(c *DDLConfig) { c.Partitions = []string{"key"} }, "also a data column"},
		{"unprojected partition", func(c *DDLConfig) { c.Partitions = []string{"bucket", "year"} }, `"bucket" has no projection`},
		{"injected not a partition", func(c *DDLConfig) { c.InjectedPartitions = []string{"account"} }, "not a partition column"},
		{"empty enum", func(c *DDLConfig) {
			c.Partitions = []string{"region", "year"}
			c.EnumPartitions = map[string][]string{"region": nil}
		}, "no values"},
		{"enum value with a quote", func(c *DDLConfig) {
			c.Partitions = []string{"region", "year"}
			c.EnumPartitions = map[string][]string{"region": {"us-east-1'"}}
		}, "value"},
		{"bad year range", func(c *DDLConfig) { c.YearRange = "19" }, "year range"},
		{"reversed year range", func(c *DDLConfig) { c.YearRange = "2030,2020" }, "year range"},
		{"bad partition name", func(c *DDLConfig) { c.Partitions = []string{"Year"} }, "partition column name"},
		{"bad column name", func(c *DDLConfig) {
			c.Schema = arrow.NewSchema([]arrow.Field{{Name: "eventTime", Type: arrow.BinaryTypes.String}}, nil)
		}, "column name"},
		{"bad struct field name", func(c *DDLConfig) {
			c.Schema = arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "a-b", Type: arrow.BinaryTypes.String})}}, nil)
		}, "field name"},
		{"unsigned", func(c *DDLConfig) {
			c.Schema = arrow.NewSchema([]arrow.Field{{Name: "u", Type: arrow.PrimitiveTypes.Uint32}}, nil)
		}, "no Athena type"},
		{"duplicate column", func(c *DDLConfig) {
			c.Schema = arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "a", Type: arrow.BinaryTypes.String}}, nil)
		}, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.modify(&cfg)
			_, err := AthenaDDL(cfg)
			require.ErrorIs(t, err, ErrDDL)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestAthenaType(t *testing.T) {
	for dt, want := range map[arrow.DataType]string{
		arrow.PrimitiveTypes.Int32:                           "int",
		arrow.PrimitiveTypes.Int64:                           "bigint",
		arrow.PrimitiveTypes.Int8:                            "tinyint",
		arrow.PrimitiveTypes.Float32:                         "float",
		arrow.FixedWidthTypes.Date32:                         "date",
		arrow.BinaryTypes.LargeString:                        "string",
		arrow.ListOf(arrow.ListOf(arrow.BinaryTypes.String)): "array<array<string>>",
		arrow.MapOf(arrow.BinaryTypes.String, arrow.StructOf(arrow.Field{Name: "timestamp", Type: arrow.PrimitiveTypes.Int64})): "map<string,struct<`timestamp`:bigint>>",
	} {
		got, err := AthenaType(dt)
		require.NoError(t, err, dt.String())
		require.Equal(t, want, got)
	}
	_, err := AthenaType(&arrow.Decimal128Type{Precision: 39, Scale: 0})
	require.ErrorIs(t, err, ErrDDL)
	require.True(t, IsReservedDDLWord("END"))
	require.True(t, IsReservedDDLWord("timestamp"))
	require.False(t, IsReservedDDLWord("key"))
}

func TestAddPartitionsDDL(t *testing.T) {
	got, err := AddPartitionsDDL("logs", "vpc", "s3://b/out", []string{"year=2024/month=01/day=05", "year=2024/month=01/day=06/", "year=2024/month=01/day=05"})
	require.NoError(t, err)
	require.Equal(t, "ALTER TABLE `logs`.`vpc` ADD IF NOT EXISTS\n"+
		"  PARTITION (`year`='2024', `month`='01', `day`='05') LOCATION 's3://b/out/year=2024/month=01/day=05/'\n"+
		"  PARTITION (`year`='2024', `month`='01', `day`='06') LOCATION 's3://b/out/year=2024/month=01/day=06/';\n", got)

	ct, err := AddPartitionsDDL("", "ct", "s3://b/ct/", []string{"account=012345678901/region=us-east-1/year=2024/month=12/day=31"})
	require.NoError(t, err)
	require.Equal(t, "ALTER TABLE `ct` ADD IF NOT EXISTS\n"+
		"  PARTITION (`account`='012345678901', `region`='us-east-1', `year`='2024', `month`='12', `day`='31') LOCATION 's3://b/ct/account=012345678901/region=us-east-1/year=2024/month=12/day=31/';\n", ct)

	empty, err := AddPartitionsDDL("", "t", "s3://b/", nil)
	require.NoError(t, err)
	require.Equal(t, "", empty)

	for _, bad := range [][]string{
		{"year=2024'/month=01"},
		{"year=2024/month"},
		{"Year=2024"},
		{"year=2024", "year=2024/month=01"},
		{"year=2024/month=01", "month=01/year=2024"},
		{"year=../x"},
		{"year="},
	} {
		_, err := AddPartitionsDDL("", "t", "s3://b/", bad)
		require.ErrorIs(t, err, ErrDDL, "%v", bad)
	}
	_, err = AddPartitionsDDL("", "T", "s3://b/", []string{"year=2024"})
	require.ErrorIs(t, err, ErrDDL)
	_, err = AddPartitionsDDL("", "t", "b/", []string{"year=2024"})
	require.ErrorIs(t, err, ErrDDL)
}

// Many partitions are split into statements under Athena's query size
// limit, and none is lost.
func TestAddPartitionsDDLBatches(t *testing.T) {
	var paths []string
	for d := range 4000 {
		paths = append(paths, fmt.Sprintf("account=%012d/region=ap-southeast-2/year=%d/month=%02d/day=%02d", d%7, 2000+d/372, 1+d/31%12, 1+d%31))
	}
	got, err := AddPartitionsDDL("logs", "cloudtrail_logs", "s3://a-rather-long-bucket-name/with/a/prefix", paths)
	require.NoError(t, err)
	statements := strings.Split(strings.TrimSuffix(got, ";\n"), ";\n")
	require.Greater(t, len(statements), 2)
	total := 0
	for _, s := range statements {
		require.LessOrEqual(t, len(s)+2, ddlMaxStatementBytes)
		require.True(t, strings.HasPrefix(s, "ALTER TABLE `logs`.`cloudtrail_logs` ADD IF NOT EXISTS\n  PARTITION ("))
		requireBalanced(t, s)
		total += strings.Count(s, "PARTITION (")
	}
	require.Equal(t, len(paths), total)
	for _, p := range []string{paths[0], paths[len(paths)-1]} {
		require.Contains(t, got, "LOCATION 's3://a-rather-long-bucket-name/with/a/prefix/"+p+"/'")
	}
}

// The projected years cover every partition an output tree holds (issue 16:
// a record of 1975 in year=1975 was never read through a 2013,NOW table).
func TestYearRangeCovering(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	require.Equal(t, "1970,NOW", YearRangeCovering(nil, now))
	require.Equal(t, "1970,NOW", YearRangeCovering([]string{"year=1975/month=01/day=01", "year=2024/month=05/day=01"}, now))
	require.Equal(t, "1969,NOW", YearRangeCovering([]string{"year=1969/month=12/day=31"}, now))
	require.Equal(t, "0001,2031", YearRangeCovering([]string{
		"account=1/region=r/year=0001/month=01/day=01", "account=1/region=r/year=2031/month=01/day=01", "account=1/region=r/year=2026/month=12/day=02"}, now))
	require.Equal(t, "1970,NOW", YearRangeCovering([]string{"year=2026/month=12/day=02"}, now))

	out, err := YearsOutside("2013,NOW", []string{"year=1975/month=01/day=01", "year=2024/month=05/day=01", "year=2031/month=01/day=01"}, now)
	require.NoError(t, err)
	require.Equal(t, []int{1975, 2031}, out)
	out, err = YearsOutside("", []string{"year=1975/month=01/day=01"}, now)
	require.NoError(t, err)
	require.Empty(t, out)
	_, err = YearsOutside("x", nil, now)
	require.ErrorIs(t, err, ErrDDL)
}
