package schema

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// VPCClassFields are the columns that flow-log classification (--classify)
// appends, in order. All are nullable: a record without addresses (NODATA,
// SKIPDATA) has none of them, and most records have no AWS service.
var VPCClassFields = []arrow.Field{
	// traffic_class has six values: as an Arrow dictionary it is written
	// as dictionary indices, with no hashing per value (a Parquet string
	// column all the same, a string in the DDL).
	{Name: "traffic_class", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: str}, Nullable: true},
	{Name: "remote_addr", Type: str, Nullable: true},
	{Name: "remote_aws_service", Type: str, Nullable: true},
	{Name: "remote_aws_region", Type: str, Nullable: true},
	{Name: "via_nat", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}

// IsVPCClassColumn reports whether name is one of VPCClassFields.
func IsVPCClassColumn(name string) bool {
	return slices.ContainsFunc(VPCClassFields, func(f arrow.Field) bool { return f.Name == name })
}

// WithVPCClassification returns sc with the classification columns
// appended: the schema of classified flow logs (and of their DDL).
func WithVPCClassification(sc *arrow.Schema) *arrow.Schema {
	fields := append(append([]arrow.Field(nil), sc.Fields()...), VPCClassFields...)
	return arrow.NewSchema(fields, nil)
}

// SortVPCClassifiedFields orders columns as SortVPCFields does, then moves
// the classification columns last, in their documented order. It sorts in
// place and returns its argument.
func SortVPCClassifiedFields(fields []arrow.Field) []arrow.Field {
	SortVPCFields(fields)
	pos := func(f arrow.Field) int {
		return slices.IndexFunc(VPCClassFields, func(c arrow.Field) bool { return c.Name == f.Name })
	}
	slices.SortStableFunc(fields, func(a, b arrow.Field) int { return pos(a) - pos(b) })
	return fields
}
