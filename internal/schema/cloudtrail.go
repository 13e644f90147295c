package schema

import (
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
)

// Column names of the CloudTrail table that other packages refer to.
const (
	// CloudTrailAccountColumn holds recipientAccountId, the account that
	// received the event: the account partition of a row.
	CloudTrailAccountColumn = "recipientaccountid"
	// CloudTrailRegionColumn holds awsRegion: the region partition of a row.
	CloudTrailRegionColumn = "awsregion"
	// CloudTrailTimeColumn holds eventTime exactly as the record wrote it
	// (ISO 8601 UTC, e.g. 2024-05-01T12:34:56Z): the day partition of a row.
	// It is NULL when the record has no eventTime.
	CloudTrailTimeColumn = "eventtime"
	// CloudTrailUnmappedColumn holds, as JSON text, every field of the record
	// that the documented table has no column for (see CloudTrailSchema).
	CloudTrailUnmappedColumn = "unmappedfields"
)

// CloudTrailJSONColumns are the top-level columns that hold a JSON value as
// text, as the Athena DDL declares them (query them with json_extract). The
// text is the record's own bytes with insignificant whitespace removed, so a
// string value keeps its quotes and every value parses with json_parse.
var CloudTrailJSONColumns = []string{
	"requestparameters",
	"responseelements",
	"additionaleventdata",
	"serviceeventdetails",
	"edgedevicedetails",
}

func ctString(name string) arrow.Field { return arrow.Field{Name: name, Type: str, Nullable: true} }

func ctStruct(name string, fields ...arrow.Field) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.StructOf(fields...), Nullable: true}
}

// cloudTrailFields is the documented cloudtrail_logs table (docs/formats.md §2.5,
// manual-partitioning DDL) in its column order, followed by the lossless
// column.
var cloudTrailFields = []arrow.Field{
	ctString("eventversion"),
	ctStruct("useridentity",
		ctString("type"),
		ctString("principalid"),
		ctString("arn"),
		ctString("accountid"),
		ctString("invokedby"),
		ctString("accesskeyid"),
		ctString("username"),
		ctStruct("onbehalfof",
			ctString("userid"),
			ctString("identitystorearn"),
		),
		ctStruct("sessioncontext",
			ctStruct("attributes",
				ctString("mfaauthenticated"),
				ctString("creationdate"),
			),
			ctStruct("sessionissuer",
				ctString("type"),
				ctString("principalid"),
				ctString("arn"),
				ctString("accountid"),
				ctString("username"),
			),
			ctString("ec2roledelivery"),
			ctStruct("webidfederationdata",
				ctString("federatedprovider"),
				arrow.Field{Name: "attributes", Type: arrow.MapOf(str, str), Nullable: true},
			),
		),
	),
	ctString("eventtime"),
	ctString("eventsource"),
	ctString("eventname"),
	ctString("awsregion"),
	ctString("sourceipaddress"),
	ctString("useragent"),
	ctString("errorcode"),
	ctString("errormessage"),
	ctString("requestparameters"),
	ctString("responseelements"),
	ctString("additionaleventdata"),
	ctString("requestid"),
	ctString("eventid"),
	{
		Name: "resources",
		// "element" is the element name the Parquet LIST spec recommends;
		// pqarrow writes list<…> as the 3-level LIST structure.
		Type: arrow.ListOfField(arrow.Field{Name: "element", Nullable: true, Type: arrow.StructOf(
			ctString("arn"),
			ctString("accountid"),
			ctString("type"),
		)}),
		Nullable: true,
	},
	ctString("eventtype"),
	ctString("apiversion"),
	ctString("readonly"),
	ctString("recipientaccountid"),
	ctString("serviceeventdetails"),
	ctString("sharedeventid"),
	ctString("vpcendpointid"),
	ctString("vpcendpointaccountid"),
	ctString("eventcategory"),
	ctStruct("addendum",
		ctString("reason"),
		ctString("updatedfields"),
		ctString("originalrequestid"),
		ctString("originaleventid"),
	),
	ctString("sessioncredentialfromconsole"),
	ctString("edgedevicedetails"),
	ctStruct("tlsdetails",
		ctString("tlsversion"),
		ctString("ciphersuite"),
		ctString("clientprovidedhostheader"),
	),
	ctString(CloudTrailUnmappedColumn),
}

var cloudTrailSchema = arrow.NewSchema(cloudTrailFields, nil)

var cloudTrailOrder = func() map[string]int {
	m := make(map[string]int, len(cloudTrailFields))
	for i, f := range cloudTrailFields {
		m[f.Name] = i
	}
	return m
}()

// CloudTrailSchema is the Arrow schema of converted CloudTrail events: the
// current documented Athena cloudtrail_logs table (docs/formats.md §2.5, the
// manual-partitioning DDL), column for column and in that order, with every
// name lowercase down to nested struct fields, plus one last column,
// unmappedfields. A table created with the documented DDL and STORED AS
// PARQUET reads the files unchanged (Athena resolves Parquet columns by name).
//
// Types: every scalar is a string, as the DDL declares. A boolean or number
// the record has where the table has a string is stored as its JSON text
// ("true", "123"); an object or array as its JSON text. The JSON-text columns
// (CloudTrailJSONColumns) hold the record's value as compact JSON text.
// useridentity, its nested onbehalfof and sessioncontext structs, addendum and
// tlsdetails are structs; resources is a list of struct<arn, accountid, type>
// (a 3-level Parquet LIST); sessioncontext.webidfederationdata.attributes is
// a map<string,string>. Record keys match columns case-insensitively
// (accountId, accountid and ACCOUNTID fill the same column).
//
// unmappedfields (CloudTrailUnmappedColumn) makes the conversion lossless: it
// is a JSON object holding exactly the record's fields that have no column,
// at their original paths and with their original key spelling, or NULL when
// there are none. Examples: {"managementEvent":true},
// {"userIdentity":{"sessionContext":{"sourceIdentity":"alice"}}},
// {"tlsDetails":{"keyExchange":"x25519"}}. It also receives a value whose
// shape cannot fill its column (userIdentity that is a string rather than an
// object; a second spelling of a key already seen, such as accountid after
// accountId). Inside resources, unmapped content sits in an array as long as
// resources, with null for elements that have none:
// {"resources":[null,{"ARNPrefix":"arn:aws:s3:::b/"}]}. Query it with
// json_extract_scalar(unmappedfields, '$.managementEvent').
//
// Partitioning uses plain columns: recipientaccountid (account), awsregion
// (region) and eventtime (day, in UTC).
func CloudTrailSchema() *arrow.Schema { return cloudTrailSchema }

// SortCloudTrailFields orders columns as CloudTrailSchema does; columns it
// does not know go last, in name order. It sorts in place and returns its
// argument.
func SortCloudTrailFields(fields []arrow.Field) []arrow.Field {
	order := func(name string) int {
		if i, ok := cloudTrailOrder[name]; ok {
			return i
		}
		return len(cloudTrailFields)
	}
	sort.SliceStable(fields, func(a, b int) bool {
		oa, ob := order(fields[a].Name), order(fields[b].Name)
		if oa != ob {
			return oa < ob
		}
		return fields[a].Name < fields[b].Name
	})
	return fields
}
