package schema

import (
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// VPCField is one documented VPC Flow Logs field.
type VPCField struct {
	// Name is the field name as AWS writes it in a log format and in the
	// header line of an S3-delivered file, for example "account-id".
	Name string
	// Type is the Arrow type of the column. It follows the seed's Athena DDL
	// for the 14 default fields and AWS's own Parquet delivery for the rest.
	Type arrow.DataType
	// Version is the flow-log format version that introduced the field.
	Version int
}

// Column returns the Parquet column name of the field: account-id → account_id.
func (f VPCField) Column() string { return ColumnName(f.Name) }

// Short names for the column types, all of type arrow.DataType.
var (
	i32 arrow.DataType = arrow.PrimitiveTypes.Int32
	i64 arrow.DataType = arrow.PrimitiveTypes.Int64
	str arrow.DataType = arrow.BinaryTypes.String
)

// VPCFields lists every known field in documented order (docs/formats.md §1.2 and
// §1.3). Output columns are ordered by their position here.
var VPCFields = []VPCField{
	{"version", i32, 2},
	{"account-id", str, 2},
	{"interface-id", str, 2},
	{"srcaddr", str, 2},
	{"dstaddr", str, 2},
	{"srcport", i32, 2},
	{"dstport", i32, 2},
	// protocol is INT_32 in AWS's VPC Parquet but bigint in every Athena DDL
	// (and INT_64 in transit-gateway logs): write the width the tables declare,
	// so that Spark readers do not fail on INT32 under bigint.
	{"protocol", i64, 2},
	{"packets", i64, 2},
	{"bytes", i64, 2},
	{"start", i64, 2},
	{"end", i64, 2},
	{"action", str, 2},
	{"log-status", str, 2},
	{"vpc-id", str, 3},
	{"subnet-id", str, 3},
	{"instance-id", str, 3},
	{"tcp-flags", i32, 3},
	{"type", str, 3},
	{"pkt-srcaddr", str, 3},
	{"pkt-dstaddr", str, 3},
	{"region", str, 4},
	{"az-id", str, 4},
	{"sublocation-type", str, 4},
	{"sublocation-id", str, 4},
	{"pkt-src-aws-service", str, 5},
	{"pkt-dst-aws-service", str, 5},
	{"flow-direction", str, 5},
	{"traffic-path", i32, 5},
	{"ecs-cluster-arn", str, 7},
	{"ecs-cluster-name", str, 7},
	{"ecs-container-instance-arn", str, 7},
	{"ecs-container-instance-id", str, 7},
	{"ecs-container-id", str, 7},
	{"ecs-second-container-id", str, 7},
	{"ecs-service-name", str, 7},
	{"ecs-task-definition-arn", str, 7},
	{"ecs-task-arn", str, 7},
	{"ecs-task-id", str, 7},
	{"reject-reason", str, 8},
	// Transit-gateway flow logs (version 6).
	{"resource-type", str, 6},
	{"tgw-id", str, 6},
	{"tgw-attachment-id", str, 6},
	{"tgw-src-vpc-account-id", str, 6},
	{"tgw-dst-vpc-account-id", str, 6},
	{"tgw-src-vpc-id", str, 6},
	{"tgw-dst-vpc-id", str, 6},
	{"tgw-src-subnet-id", str, 6},
	{"tgw-dst-subnet-id", str, 6},
	{"tgw-src-eni", str, 6},
	{"tgw-dst-eni", str, 6},
	{"tgw-src-az-id", str, 6},
	{"tgw-dst-az-id", str, 6},
	{"tgw-pair-attachment-id", str, 6},
	{"packets-lost-no-route", i64, 6},
	{"packets-lost-blackhole", i64, 6},
	{"packets-lost-mtu-exceeded", i64, 6},
	{"packets-lost-ttl-expired", i64, 6},
	// Newer fields whose version and Parquet type AWS has not published
	// (docs/formats.md §1.2): kept as strings, the lossless choice.
	{"resource-id", str, 9},
	{"encryption-status", str, 10},
	{"interface-type", str, 11},
	{"next-hop-interface-id", str, 11},
	{"next-hop-subnet-id", str, 11},
	{"next-hop-az-id", str, 11},
	{"next-hop-vpc-id", str, 11},
	{"next-hop-interface-type", str, 11},
	{"instance-tag", str, 11},
	{"instance-tag-2", str, 11},
	{"interface-tag", str, 11},
	{"interface-tag-2", str, 11},
	{"asg-tag", str, 11},
	{"asg-tag-2", str, 11},
}

// VPCDefaultFormat is the field list of the default (version 2) format.
var VPCDefaultFormat = []string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status",
}

var vpcFieldIndex = func() map[string]int {
	m := make(map[string]int, len(VPCFields))
	for i, f := range VPCFields {
		m[f.Name] = i
		m[f.Column()] = i
	}
	return m
}()

// LookupVPCField finds a documented field by its AWS name (account-id) or its
// column name (account_id). The second result reports whether it is known.
func LookupVPCField(name string) (VPCField, bool) {
	i, ok := vpcFieldIndex[name]
	if !ok {
		return VPCField{}, false
	}
	return VPCFields[i], true
}

// ColumnName turns a source field name into a column name Athena accepts:
// lowercase letters, digits and underscores only (hyphens and anything else
// become underscores).
func ColumnName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// VPCColumn returns the Arrow field for a source field name. Unknown names
// become nullable strings; known reports which it was.
func VPCColumn(name string) (field arrow.Field, known bool) {
	if f, ok := LookupVPCField(name); ok {
		return arrow.Field{Name: f.Column(), Type: f.Type, Nullable: true}, true
	}
	return arrow.Field{Name: ColumnName(name), Type: str, Nullable: true}, false
}

// VPCOrder returns the sort position of a column: documented fields in
// documented order, then unknown columns after them.
func vpcOrder(column string) int {
	if i, ok := vpcFieldIndex[column]; ok {
		return i
	}
	return len(VPCFields)
}

// SortVPCFields orders columns in documented order, unknown columns last in
// name order. It sorts in place and returns its argument.
func SortVPCFields(fields []arrow.Field) []arrow.Field {
	sort.SliceStable(fields, func(a, b int) bool {
		oa, ob := vpcOrder(fields[a].Name), vpcOrder(fields[b].Name)
		if oa != ob {
			return oa < ob
		}
		return fields[a].Name < fields[b].Name
	})
	return fields
}

// VPCFullSchema is the schema with every documented field, in order. It is
// the schema the DDL for flow logs describes.
func VPCFullSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(VPCFields))
	for i, f := range VPCFields {
		fields[i] = arrow.Field{Name: f.Column(), Type: f.Type, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}
