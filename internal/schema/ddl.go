package schema

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// DDLConfig describes an Athena table over convert's Parquet output.
type DDLConfig struct {
	// Database is the Glue database; empty leaves the table unqualified
	// (Athena then uses the query's current database).
	Database string
	// Table is the table name.
	Table string
	// Location is the output root on S3: s3://bucket/prefix/. The partition
	// directories are under it.
	Location string
	// Schema gives the data columns, in order: the Arrow schema the writer
	// uses, so that the table and the files cannot drift apart.
	Schema *arrow.Schema
	// Partitions are the partition columns in path order, e.g. year, month,
	// day for LOCATION/year=YYYY/month=MM/day=DD/. They are string columns.
	Partitions []string
	// Projection adds partition projection (TBLPROPERTIES), so that no
	// MSCK REPAIR TABLE or ALTER TABLE ADD PARTITION is ever needed.
	// Without it, load partitions with AddPartitionsDDL.
	Projection bool
	// InjectedPartitions are partition columns projected as "injected":
	// their values come from the query's WHERE clause (CloudTrail's account
	// and region), so every query must filter on them with equality. Like
	// EnumPartitions and YearRange it only matters with Projection.
	InjectedPartitions []string
	// EnumPartitions are partition columns projected as "enum", with their
	// known values: an alternative to injected when the values are few and
	// known, and queries should not have to name them.
	EnumPartitions map[string][]string
	// YearRange is the projected range of the year column: "2019" (from 2019
	// to the current year), "2019,NOW" or "2019,2030". Empty means
	// DefaultYearRange.
	YearRange string
}

// DefaultYearRange is the projected years when neither the caller nor an
// output tree says otherwise. Records are partitioned by their own times,
// not by when AWS began the service: a VPC flow record's start is Unix
// seconds, and a real one reads 1975; so the range starts at 1970, and ends
// at the current year at query time. A year outside the projected range is
// never read, whatever the query; see YearRangeCovering.
const DefaultYearRange = "1970,NOW"

// YearRangeCovering returns DefaultYearRange widened to every year=YYYY of
// partitions (paths such as year=1975/month=01/day=02), as "first,last": the
// earlier of 1970 and the first year found, and NOW unless a year found lies
// after now's year, then that year. So the table reads every partition an
// output tree holds and, through NOW, the years still to come.
func YearRangeCovering(partitions []string, now time.Time) string {
	first, last := 1970, 0
	for _, y := range partitionYears(partitions) {
		first, last = min(first, y), max(last, y)
	}
	end := "NOW"
	if last > now.UTC().Year() {
		end = strconv.Itoa(last)
	}
	return fmt.Sprintf("%04d,%s", first, end)
}

// YearsOutside returns the years of partitions that the year range rng
// (as YearRange takes it) does not project, in order.
func YearsOutside(rng string, partitions []string, now time.Time) ([]int, error) {
	r, err := ddlYearRange(rng)
	if err != nil {
		return nil, err
	}
	a, b, _ := strings.Cut(r, ",")
	first, _ := strconv.Atoi(a)
	last := now.UTC().Year()
	if b != "NOW" {
		last, _ = strconv.Atoi(b)
	}
	var out []int
	for _, y := range partitionYears(partitions) {
		if y < first || y > last {
			out = append(out, y)
		}
	}
	return out, nil
}

// partitionYears returns the distinct years of year=YYYY segments, sorted.
func partitionYears(partitions []string) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range partitions {
		for _, seg := range strings.Split(p, "/") {
			v, ok := strings.CutPrefix(seg, "year=")
			if !ok {
				continue
			}
			if y, err := strconv.Atoi(v); err == nil && y >= 0 && !seen[y] {
				seen[y] = true
				out = append(out, y)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ErrDDL wraps every invalid DDL input.
var ErrDDL = errors.New("schema: invalid DDL input")

// ddlMaxNameLen is Athena's limit for database, table and column names.
const ddlMaxNameLen = 255

// ddlReserved are Athena's reserved keywords in DDL statements
// (https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html). Top-level
// and partition columns are always backquoted; struct field names, which
// AWS's own DDLs leave bare, are backquoted when they are in this list.
var ddlReserved = func() map[string]bool {
	words := strings.Fields(`ALL ALTER AND ARRAY AS AUTHORIZATION BETWEEN BIGINT BINARY BOOLEAN BOTH BY
		CASE CASHE CAST CHAR COLUMN CONF CONSTRAINT COMMIT CREATE CROSS CUBE CURRENT CURRENT_DATE
		CURRENT_TIMESTAMP CURSOR DATABASE DATE DAYOFWEEK DECIMAL DELETE DESCRIBE DISTINCT DIV DOUBLE
		DROP ELSE END EXCHANGE EXISTS EXTENDED EXTERNAL EXTRACT FALSE FETCH FLOAT FLOOR FOLLOWING FOR
		FOREIGN FROM FULL FUNCTION GRANT GROUP GROUPING HAVING IF IMPORT IN INNER INSERT INT INTEGER
		INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LESS LIKE LOCAL MACRO MAP MORE NONE NOT NULL
		NUMERIC OF ON ONLY OR ORDER OUT OUTER OVER PARTIALSCAN PARTITION PERCENT PRECEDING PRECISION
		PRESERVE PRIMARY PROCEDURE RANGE READS REDUCE REGEXP REFERENCES REVOKE RIGHT RLIKE ROLLBACK
		ROLLUP ROW ROWS SELECT SET SMALLINT START TABLE TABLESAMPLE THEN TIME TIMESTAMP TO TRANSFORM
		TRIGGER TRUE TRUNCATE UNBOUNDED UNION UNIQUEJOIN UPDATE USER USING UTC_TIMESTAMP VALUES
		VARCHAR VIEWS WHEN WHERE WINDOW WITH`)
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[strings.ToLower(w)] = true
	}
	return m
}()

// IsReservedDDLWord reports whether name is an Athena DDL reserved keyword
// (case-insensitive), which must be backquoted in DDL.
func IsReservedDDLWord(name string) bool { return ddlReserved[strings.ToLower(name)] }

// ddlValidName reports whether s is an Athena name: lowercase letters,
// digits and underscores, 1 to 255 of them.
func ddlValidName(s string) bool {
	if s == "" || len(s) > ddlMaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ddlQuote backquotes a validated name.
func ddlQuote(name string) string { return "`" + name + "`" }

// ddlFieldName renders a struct field name: bare, as AWS's DDLs write them,
// unless it is reserved or starts with something other than a letter.
func ddlFieldName(name string) string {
	if ddlReserved[name] || name[0] < 'a' || name[0] > 'z' {
		return ddlQuote(name)
	}
	return name
}

// AthenaType returns the Athena (Hive DDL) type of an Arrow type, nested to
// any depth: int32 → int, int64 → bigint, string → string, bool → boolean,
// float64 → double, struct → struct<name:type,…>, list → array<…>,
// map → map<k,v>, and the other types Parquet and Athena share. Types Athena
// cannot read from Parquet (unsigned integers, for example) are an error.
func AthenaType(dt arrow.DataType) (string, error) {
	var b strings.Builder
	if err := ddlWriteType(&b, dt, ""); err != nil {
		return "", err
	}
	return b.String(), nil
}

func ddlWriteType(b *strings.Builder, dt arrow.DataType, path string) error {
	switch t := dt.(type) {
	case *arrow.BooleanType:
		b.WriteString("boolean")
	case *arrow.Int8Type:
		b.WriteString("tinyint")
	case *arrow.Int16Type:
		b.WriteString("smallint")
	case *arrow.Int32Type:
		b.WriteString("int")
	case *arrow.Int64Type:
		b.WriteString("bigint")
	case *arrow.Float32Type:
		b.WriteString("float")
	case *arrow.Float64Type:
		b.WriteString("double")
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		b.WriteString("string")
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		b.WriteString("binary")
	case *arrow.Date32Type:
		b.WriteString("date")
	case *arrow.TimestampType:
		b.WriteString("timestamp")
	case arrow.DecimalType:
		if t.GetPrecision() < 1 || t.GetPrecision() > 38 {
			return fmt.Errorf("%w: %s: decimal precision %d is outside Athena's 1-38", ErrDDL, path, t.GetPrecision())
		}
		fmt.Fprintf(b, "decimal(%d,%d)", t.GetPrecision(), t.GetScale())
	case *arrow.DictionaryType:
		return ddlWriteType(b, t.ValueType, path)
	case *arrow.StructType:
		if t.NumFields() == 0 {
			return fmt.Errorf("%w: %s: a struct needs at least one field", ErrDDL, path)
		}
		b.WriteString("struct<")
		for i, f := range t.Fields() {
			if !ddlValidName(f.Name) {
				return fmt.Errorf("%w: %s: field name %q is not lowercase letters, digits and underscores", ErrDDL, path, f.Name)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ddlFieldName(f.Name))
			b.WriteByte(':')
			if err := ddlWriteType(b, f.Type, path+"."+f.Name); err != nil {
				return err
			}
		}
		b.WriteByte('>')
	case *arrow.MapType:
		b.WriteString("map<")
		if err := ddlWriteType(b, t.KeyType(), path+".key"); err != nil {
			return err
		}
		b.WriteByte(',')
		if err := ddlWriteType(b, t.ItemType(), path+".value"); err != nil {
			return err
		}
		b.WriteByte('>')
	case *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType, *arrow.ListViewType, *arrow.LargeListViewType:
		b.WriteString("array<")
		if err := ddlWriteType(b, t.(arrow.ListLikeType).Elem(), path+".element"); err != nil {
			return err
		}
		b.WriteByte('>')
	default:
		return fmt.Errorf("%w: %s: Arrow type %s has no Athena type for Parquet", ErrDDL, path, dt)
	}
	return nil
}

// ddlTableName renders `database`.`table`, or `table` alone.
func ddlTableName(database, table string) (string, error) {
	if !ddlValidName(table) {
		return "", fmt.Errorf("%w: table name %q: use 1-255 lowercase letters, digits and underscores", ErrDDL, table)
	}
	if database == "" {
		return ddlQuote(table), nil
	}
	if !ddlValidName(database) {
		return "", fmt.Errorf("%w: database name %q: use 1-255 lowercase letters, digits and underscores", ErrDDL, database)
	}
	return ddlQuote(database) + "." + ddlQuote(table), nil
}

// ddlLocation checks an S3 location and returns it with one trailing slash.
// It must stay a plain literal: no quote, backslash, whitespace or "${".
func ddlLocation(loc string) (string, error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok || rest == "" || rest[0] == '/' {
		return "", fmt.Errorf("%w: location %q: want s3://bucket/prefix/", ErrDDL, loc)
	}
	for _, r := range loc {
		if r == '\'' || r == '\\' || r == '`' || r <= ' ' || r == 0x7f {
			return "", fmt.Errorf("%w: location %q: quotes, backslashes, spaces and control characters are not allowed", ErrDDL, loc)
		}
	}
	if strings.Contains(loc, "${") {
		return "", fmt.Errorf("%w: location %q: \"${\" is not allowed", ErrDDL, loc)
	}
	return strings.TrimRight(loc, "/") + "/", nil
}

// ddlYearRange normalises Config.YearRange to "first,last".
func ddlYearRange(s string) (string, error) {
	if s == "" {
		s = DefaultYearRange
	}
	first, last, hasLast := strings.Cut(s, ",")
	if !hasLast {
		last = "NOW"
	}
	y0, err := strconv.Atoi(first)
	if err != nil || len(first) != 4 {
		return "", fmt.Errorf("%w: year range %q: want YYYY, YYYY,YYYY or YYYY,NOW", ErrDDL, s)
	}
	if last != "NOW" {
		y1, err := strconv.Atoi(last)
		if err != nil || len(last) != 4 || y1 < y0 {
			return "", fmt.Errorf("%w: year range %q: want YYYY, YYYY,YYYY or YYYY,NOW", ErrDDL, s)
		}
	}
	return first + "," + last, nil
}

// AthenaDDL renders a CREATE EXTERNAL TABLE statement for Parquet files under
// cfg.Location, partitioned by cfg.Partitions (Hive-style name=value
// directories). Every column and partition name is backquoted, which Athena
// always accepts and which keeps reserved words (end, date, timestamp, …)
// and names starting with "_" valid.
//
// With cfg.Projection the table uses partition projection:
//   - year: type date, format yyyy, range cfg.YearRange (to NOW by default),
//     so that new years appear without changing the table;
//   - month and day (and hour): type integer, ranges 1-12, 1-31 (0-23),
//     digits 2, matching the zero-padded directory names;
//   - InjectedPartitions: type injected; EnumPartitions: type enum;
//   - storage.location.template: LOCATION/name=${name}/…/ in path order.
//
// Any other partition column is an error, since Athena fails every query on
// a projected table with an unconfigured partition column.
func AthenaDDL(cfg DDLConfig) (string, error) {
	name, err := ddlTableName(cfg.Database, cfg.Table)
	if err != nil {
		return "", err
	}
	loc, err := ddlLocation(cfg.Location)
	if err != nil {
		return "", err
	}
	if cfg.Schema == nil || cfg.Schema.NumFields() == 0 {
		return "", fmt.Errorf("%w: no columns", ErrDDL)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
	columns := map[string]bool{}
	for i, f := range cfg.Schema.Fields() {
		if !ddlValidName(f.Name) {
			return "", fmt.Errorf("%w: column name %q is not lowercase letters, digits and underscores", ErrDDL, f.Name)
		}
		if columns[f.Name] {
			return "", fmt.Errorf("%w: column %q appears twice", ErrDDL, f.Name)
		}
		columns[f.Name] = true
		typ, err := AthenaType(f.Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", f.Name, err)
		}
		sep := ","
		if i == cfg.Schema.NumFields()-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s %s%s\n", ddlQuote(f.Name), typ, sep)
	}
	b.WriteString(")\n")
	for _, p := range cfg.Partitions {
		if !ddlValidName(p) {
			return "", fmt.Errorf("%w: partition column name %q is not lowercase letters, digits and underscores", ErrDDL, p)
		}
		if columns[p] {
			return "", fmt.Errorf("%w: partition column %q is also a data column (Athena rejects the table)", ErrDDL, p)
		}
		columns[p] = true
	}
	if len(cfg.Partitions) > 0 {
		parts := make([]string, len(cfg.Partitions))
		for i, p := range cfg.Partitions {
			parts[i] = ddlQuote(p) + " string"
		}
		fmt.Fprintf(&b, "PARTITIONED BY (\n  %s\n)\n", strings.Join(parts, ",\n  "))
	}
	b.WriteString("STORED AS PARQUET\n")
	fmt.Fprintf(&b, "LOCATION '%s'", loc)
	if cfg.Projection && len(cfg.Partitions) > 0 {
		props, err := ddlProjection(cfg, loc)
		if err != nil {
			return "", err
		}
		b.WriteString("\nTBLPROPERTIES (\n  ")
		b.WriteString(strings.Join(props, ",\n  "))
		b.WriteString("\n)")
	}
	b.WriteString(";\n")
	return b.String(), nil
}

// ddlProjection returns the TBLPROPERTIES entries of partition projection.
func ddlProjection(cfg DDLConfig, loc string) ([]string, error) {
	injected := map[string]bool{}
	for _, p := range cfg.InjectedPartitions {
		if !slices.Contains(cfg.Partitions, p) {
			return nil, fmt.Errorf("%w: injected partition %q is not a partition column", ErrDDL, p)
		}
		injected[p] = true
	}
	for p := range cfg.EnumPartitions {
		if !slices.Contains(cfg.Partitions, p) {
			return nil, fmt.Errorf("%w: enum partition %q is not a partition column", ErrDDL, p)
		}
		if injected[p] {
			return nil, fmt.Errorf("%w: partition %q is both injected and enum", ErrDDL, p)
		}
	}
	prop := func(k, v string) string { return "'" + k + "'='" + v + "'" }
	props := []string{prop("projection.enabled", "true")}
	template := loc
	for _, p := range cfg.Partitions {
		key := "projection." + p
		switch values, isEnum := cfg.EnumPartitions[p]; {
		case injected[p]:
			props = append(props, prop(key+".type", "injected"))
		case isEnum:
			if len(values) == 0 {
				return nil, fmt.Errorf("%w: enum partition %q has no values", ErrDDL, p)
			}
			for _, v := range values {
				if !ddlValidPartitionValue(v) {
					return nil, fmt.Errorf("%w: enum partition %q: value %q: use letters, digits, '-', '_' and '.'", ErrDDL, p, v)
				}
			}
			props = append(props, prop(key+".type", "enum"), prop(key+".values", strings.Join(values, ",")))
		case p == "year":
			years, err := ddlYearRange(cfg.YearRange)
			if err != nil {
				return nil, err
			}
			// A date projection reaches NOW, so next year's data shows up
			// without editing the table; an integer range would silently
			// stop at its upper bound.
			props = append(props, prop(key+".type", "date"), prop(key+".format", "yyyy"), prop(key+".range", years),
				prop(key+".interval", "1"), prop(key+".interval.unit", "YEARS"))
		case p == "month", p == "day", p == "hour":
			// Integers with digits 2 give the zero-padded values of the
			// directory names (month=01); the impossible days of short
			// months project to empty locations, which Athena skips.
			rng := map[string]string{"month": "1,12", "day": "1,31", "hour": "0,23"}[p]
			props = append(props, prop(key+".type", "integer"), prop(key+".range", rng), prop(key+".digits", "2"))
		default:
			return nil, fmt.Errorf("%w: partition column %q has no projection: list it in InjectedPartitions or EnumPartitions", ErrDDL, p)
		}
		template += p + "=${" + p + "}/"
	}
	props = append(props, prop("storage.location.template", template))
	return props, nil
}

// ddlValidPartitionValue reports whether v can be a partition value in a
// path and in a SQL literal without escaping.
func ddlValidPartitionValue(v string) bool {
	if v == "" || v == "." || v == ".." {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ddlMaxStatementBytes keeps each ALTER TABLE statement well under Athena's
// 262,144-byte query string limit.
const ddlMaxStatementBytes = 200_000

// AddPartitionsDDL renders ALTER TABLE … ADD IF NOT EXISTS PARTITION (…)
// LOCATION '…' statements for the Hive partition paths of an output tree
// (e.g. "year=2024/month=01/day=05" or "account=…/region=…/year=…/…"), for a
// table created without projection. Partitions are grouped into as few
// statements as Athena's query size allows, separated by ";\n"; every path
// must name the same columns in the same order. Duplicates are dropped. No
// paths give an empty string.
func AddPartitionsDDL(database, table, location string, partitionPaths []string) (string, error) {
	name, err := ddlTableName(database, table)
	if err != nil {
		return "", err
	}
	loc, err := ddlLocation(location)
	if err != nil {
		return "", err
	}
	var columns []string
	seen := map[string]bool{}
	var clauses []string
	for _, p := range partitionPaths {
		p = strings.Trim(p, "/")
		if seen[p] {
			continue
		}
		seen[p] = true
		segs := strings.Split(p, "/")
		names := make([]string, len(segs))
		specs := make([]string, len(segs))
		for i, seg := range segs {
			col, val, ok := strings.Cut(seg, "=")
			if !ok || !ddlValidName(col) || !ddlValidPartitionValue(val) {
				return "", fmt.Errorf("%w: partition path %q: segment %q is not name=value (lowercase name; value of letters, digits, '-', '_', '.')", ErrDDL, p, seg)
			}
			names[i] = col
			specs[i] = ddlQuote(col) + "='" + val + "'"
		}
		if columns == nil {
			columns = names
		} else if !slices.Equal(columns, names) {
			return "", fmt.Errorf("%w: partition path %q has columns %v, earlier paths %v", ErrDDL, p, names, columns)
		}
		clauses = append(clauses, fmt.Sprintf("  PARTITION (%s) LOCATION '%s%s/'", strings.Join(specs, ", "), loc, p))
	}
	var out strings.Builder
	head := "ALTER TABLE " + name + " ADD IF NOT EXISTS\n"
	size := 0
	for i, c := range clauses {
		if i > 0 && size+len(c)+1 > ddlMaxStatementBytes {
			out.WriteString(";\n")
			size = 0
		}
		if size == 0 {
			out.WriteString(head)
			size = len(head)
		} else {
			out.WriteByte('\n')
		}
		out.WriteString(c)
		size += len(c) + 1
	}
	if out.Len() > 0 {
		out.WriteString(";\n")
	}
	return out.String(), nil
}
