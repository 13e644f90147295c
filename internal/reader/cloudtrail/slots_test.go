package cloudtrail

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A record that does not become a row leaves values in the decoder's slots
// that appendRow never reads back (see decoder.valsNull): the next row must
// not take them. Each bad line below sets fields, then fails (broken JSON,
// too deep, no event field after an envelope), and the next event lacks
// those fields, top-level and in structs.
func TestSlotsAfterRejectedRecord(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	lines := []string{
		`{"eventName":"A","awsRegion":"r1","userIdentity":{"type":"T1","sessionContext":{"sessionIssuer":{"arn":"i1"}}},"tlsDetails":{"tlsVersion":"v1"}}`,
		`{"eventName":"B","errorCode":"E","userIdentity":{"type":"T2","arn":"a2","sessionContext":{"sessionIssuer":{"arn":"i2"}}},"tlsDetails":{"tlsVersion":"v2"},"awsRegion":bad}`,
		`{"eventID":"1"}`,
		`{"eventName":"C","errorCode":"E3","userIdentity":{"arn":"a3","sessionContext":{"sessionIssuer":{"arn":"i3"}}},"requestParameters":` + deep + `}`,
		`{"userIdentity":{}}`,
		`{"_raw":"{\"eventName\":\"D\",\"userIdentity\":{\"type\":\"T4\"},\"awsRegion\":"}`,
		`{"eventVersion":"1.08"}`,
	}
	res := readAll(t, strings.NewReader(strings.Join(lines, "\n")), Config{MaxDepth: 20})
	require.NoError(t, res.err)
	require.Len(t, res.rejects, 3)
	require.Len(t, res.rows, 4)
	second, third, last := res.rows[1], res.rows[2], res.rows[3]
	require.Equal(t, "1", second["eventid"])
	for _, row := range []map[string]any{second, third, last} {
		require.Nil(t, row["eventname"])
		require.Nil(t, row["errorcode"])
		require.Nil(t, row["awsregion"])
		require.Nil(t, row["tlsdetails"])
		require.Nil(t, row["requestparameters"])
	}
	require.Nil(t, second["useridentity"])
	require.NotNil(t, third["useridentity"])
	require.Nil(t, get(third, "useridentity", "type"))
	require.Nil(t, get(third, "useridentity", "arn"))
	require.Nil(t, get(third, "useridentity", "sessioncontext"))
	require.Nil(t, last["useridentity"])
	require.Equal(t, "1.08", last["eventversion"])
}
