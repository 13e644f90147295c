package schema

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"
)

// TestS3AccessSchema pins the columns of AWS's current Athena table for
// server access logs (docs/formats.md §3.3), in order, with their types.
func TestS3AccessSchema(t *testing.T) {
	want := []struct{ name, typ string }{
		{"bucketowner", "utf8"}, {"bucket_name", "utf8"}, {"requestdatetime", "utf8"}, {"remoteip", "utf8"},
		{"requester", "utf8"}, {"requestid", "utf8"}, {"operation", "utf8"}, {"key", "utf8"},
		{"request_uri", "utf8"}, {"httpstatus", "utf8"}, {"errorcode", "utf8"}, {"bytessent", "int64"},
		{"objectsize", "int64"}, {"totaltime", "utf8"}, {"turnaroundtime", "utf8"}, {"referrer", "utf8"},
		{"useragent", "utf8"}, {"versionid", "utf8"}, {"hostid", "utf8"}, {"sigv", "utf8"},
		{"ciphersuite", "utf8"}, {"authtype", "utf8"}, {"endpoint", "utf8"}, {"tlsversion", "utf8"},
		{"accesspointarn", "utf8"}, {"aclrequired", "utf8"}, {"sourceregion", "utf8"},
	}
	sc := S3AccessSchema()
	require.Equal(t, len(want), sc.NumFields())
	require.Len(t, S3AccessColumns, len(want))
	for i, w := range want {
		f := sc.Field(i)
		require.Equal(t, w.name, f.Name)
		require.Equal(t, w.name, S3AccessColumns[i])
		require.Equal(t, w.typ, f.Type.String(), w.name)
		require.True(t, f.Nullable, w.name)
		require.Equal(t, w.name, ColumnName(w.name), "already a valid Athena column name")
	}
	require.True(t, sc.Equal(S3AccessSchema()), "deterministic")
	require.Equal(t, arrow.INT64, sc.Field(sc.FieldIndices("bytessent")[0]).Type.ID())
}
