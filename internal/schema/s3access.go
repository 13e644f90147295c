package schema

import "github.com/apache/arrow-go/v18/arrow"

// S3AccessColumns lists the columns of S3 server access logs in field order,
// named as in AWS's current Athena table (docs/formats.md §3.3): the 26 fields of
// the 2023 format plus sourceregion. A log line carries them in this order;
// lines of older formats end early and leave the later columns NULL.
var S3AccessColumns = []string{
	"bucketowner",
	"bucket_name",
	"requestdatetime",
	"remoteip",
	"requester",
	"requestid",
	"operation",
	"key",
	"request_uri",
	"httpstatus",
	"errorcode",
	"bytessent",
	"objectsize",
	"totaltime",
	"turnaroundtime",
	"referrer",
	"useragent",
	"versionid",
	"hostid",
	"sigv",
	"ciphersuite",
	"authtype",
	"endpoint",
	"tlsversion",
	"accesspointarn",
	"aclrequired",
	"sourceregion",
}

// s3aBigintColumns are the only non-string columns of the AWS table: every
// other field, numeric-looking or not (httpstatus, totaltime), is STRING
// there, and the seed's queries compare them as strings.
var s3aBigintColumns = map[string]bool{"bytessent": true, "objectsize": true}

// S3AccessSchema is the schema of S3 server access logs: every column of
// S3AccessColumns, nullable, with bytessent and objectsize int64 (Athena
// bigint) and the rest strings. requestdatetime holds the bracketed time as
// written (06/Feb/2019:00:00:38 +0000), so that the seed's
// parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z') works unchanged.
func S3AccessSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(S3AccessColumns))
	for i, name := range S3AccessColumns {
		typ := str
		if s3aBigintColumns[name] {
			typ = i64
		}
		fields[i] = arrow.Field{Name: name, Type: typ, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}
