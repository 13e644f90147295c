package schema

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// cloudTrailDDLColumns is the column list of the documented Athena table
// (docs/formats.md §2.5, manual partitioning), verbatim.
const cloudTrailDDLColumns = `
eventversion STRING,
useridentity STRUCT<
                  type:STRING,
                  principalid:STRING,
                  arn:STRING,
                  accountid:STRING,
                  invokedby:STRING,
                  accesskeyid:STRING,
                  username:STRING,
                  onbehalfof: STRUCT<
                       userid: STRING,
                       identitystorearn: STRING>,
     sessioncontext:STRUCT<
       attributes:STRUCT<
                  mfaauthenticated:STRING,
                  creationdate:STRING>,
       sessionissuer:STRUCT<
                  type:STRING,
                  principalid:STRING,
                  arn:STRING,
                  accountid:STRING,
                  username:STRING>,
       ec2roledelivery:string,
       webidfederationdata: STRUCT<
                  federatedprovider: STRING,
                  attributes: map<string,string>>
     >
>,
eventtime STRING,
eventsource STRING,
eventname STRING,
awsregion STRING,
sourceipaddress STRING,
useragent STRING,
errorcode STRING,
errormessage STRING,
requestparameters STRING,
responseelements STRING,
additionaleventdata STRING,
requestid STRING,
eventid STRING,
resources ARRAY<STRUCT<
                  arn:STRING,
                  accountid:STRING,
                  type:STRING>>,
eventtype STRING,
apiversion STRING,
readonly STRING,
recipientaccountid STRING,
serviceeventdetails STRING,
sharedeventid STRING,
vpcendpointid STRING,
vpcendpointaccountid STRING,
eventcategory STRING,
addendum STRUCT<
     reason:STRING,
     updatedfields:STRING,
     originalrequestid:STRING,
     originaleventid:STRING>,
sessioncredentialfromconsole STRING,
edgedevicedetails STRING,
tlsdetails STRUCT<
     tlsversion:STRING,
     ciphersuite:STRING,
     clientprovidedhostheader:STRING>
`

// hiveType writes an Arrow type the way a Hive DDL declares it.
func hiveType(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.StringType:
		return "string"
	case *arrow.StructType:
		var parts []string
		for _, f := range t.Fields() {
			parts = append(parts, f.Name+":"+hiveType(f.Type))
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case *arrow.MapType:
		return "map<" + hiveType(t.KeyType()) + "," + hiveType(t.ItemType()) + ">"
	case *arrow.ListType:
		return "array<" + hiveType(t.Elem()) + ">"
	}
	return "?" + t.String()
}

func TestCloudTrailSchemaIsTheDocumentedTable(t *testing.T) {
	var cols []string
	fields := CloudTrailSchema().Fields()
	require.Equal(t, CloudTrailUnmappedColumn, fields[len(fields)-1].Name, "the lossless column comes last")
	for _, f := range fields[:len(fields)-1] {
		require.True(t, f.Nullable)
		cols = append(cols, f.Name+" "+hiveType(f.Type))
	}
	got := strings.Join(cols, ",")
	norm := strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace
	want := strings.ToLower(norm(cloudTrailDDLColumns))
	// Column names are separated from their type by a space in the DDL.
	require.Equal(t, want, strings.ToLower(norm(got)))
	require.Equal(t, arrow.BinaryTypes.String, fields[len(fields)-1].Type)
}

func TestCloudTrailNamesAreLowercase(t *testing.T) {
	var walk func(prefix string, ft arrow.DataType)
	walk = func(prefix string, ft arrow.DataType) {
		if nt, ok := ft.(arrow.NestedType); ok {
			for _, f := range nt.Fields() {
				require.Equal(t, strings.ToLower(f.Name), f.Name, prefix+f.Name)
				walk(prefix+f.Name+".", f.Type)
			}
		}
	}
	for _, f := range CloudTrailSchema().Fields() {
		require.Equal(t, ColumnName(f.Name), f.Name)
		walk(f.Name+".", f.Type)
	}
}

func TestCloudTrailPartitionAndJSONColumnsExist(t *testing.T) {
	sc := CloudTrailSchema()
	for _, name := range append([]string{CloudTrailAccountColumn, CloudTrailRegionColumn, CloudTrailTimeColumn, CloudTrailUnmappedColumn}, CloudTrailJSONColumns...) {
		idx := sc.FieldIndices(name)
		require.Len(t, idx, 1, name)
		require.Equal(t, arrow.STRING, sc.Field(idx[0]).Type.ID(), name)
	}
}

// TestCloudTrailParquetLayout: resources becomes a 3-level LIST and the
// attributes a MAP in Parquet.
func TestCloudTrailParquetLayout(t *testing.T) {
	ps, err := pqarrow.ToParquet(CloudTrailSchema(), nil, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	paths := map[string]bool{}
	for i := 0; i < ps.NumColumns(); i++ {
		paths[ps.Column(i).Path()] = true
	}
	require.True(t, paths["resources.list.element.arn"], "paths: %v", paths)
	require.True(t, paths["resources.list.element.accountid"])
	require.True(t, paths["useridentity.sessioncontext.webidfederationdata.attributes.key_value.key"])
	require.True(t, paths["useridentity.sessioncontext.webidfederationdata.attributes.key_value.value"])
	require.True(t, paths["unmappedfields"])
}

func TestSortCloudTrailFields(t *testing.T) {
	sc := CloudTrailSchema()
	fields := []arrow.Field{{Name: "zzz"}, sc.Field(3), {Name: "aaa"}, sc.Field(0), sc.Field(sc.NumFields() - 1)}
	SortCloudTrailFields(fields)
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	require.Equal(t, []string{"eventversion", "eventsource", CloudTrailUnmappedColumn, "aaa", "zzz"}, names)
}
