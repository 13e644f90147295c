package cloudtrail

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeRecord decodes one record per case and checks the cells named by
// want: a path of column and struct field names (dot-separated) → the
// expected Go value (nil for NULL; see rowValue).
func TestDecodeRecord(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		{
			name: "scalar columns",
			in:   `{"eventVersion":"1.08","eventTime":"2024-05-01T12:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","recipientAccountId":"012345678901"}`,
			want: map[string]any{
				"eventversion": "1.08", "eventtime": "2024-05-01T12:00:00Z", "eventname": "GetObject",
				"awsregion": "us-east-1", "sourceipaddress": "192.0.2.1", "recipientaccountid": "012345678901",
				"useragent": nil, "useridentity": nil, "resources": nil, "unmappedfields": nil,
			},
		},
		{
			name: "booleans and numbers where the table has strings become their JSON text",
			in:   `{"eventName":"X","readOnly":true,"sessionCredentialFromConsole":false,"errorCode":200,"apiVersion":1.5e3,"eventID":-0.25}`,
			want: map[string]any{"readonly": "true", "sessioncredentialfromconsole": "false", "errorcode": "200", "apiversion": "1.5e3", "eventid": "-0.25"},
		},
		{
			name: "objects and arrays where the table has strings become compact JSON text",
			in:   "{\"eventName\":\"X\",\"userAgent\":{ \"a\" : [1, 2] },\"errorMessage\":[\"x\", {}]}",
			want: map[string]any{"useragent": `{"a":[1,2]}`, "errormessage": `["x",{}]`},
		},
		{
			name: "null is NULL",
			in:   `{"eventName":null,"eventTime":null,"userIdentity":null,"resources":null,"requestParameters":null,"tlsDetails":null}`,
			want: map[string]any{"eventname": nil, "eventtime": nil, "useridentity": nil, "resources": nil, "requestparameters": nil, "tlsdetails": nil, "unmappedfields": nil},
		},
		{
			name: "JSON-text columns keep the bytes, compacted",
			in:   "{\"eventName\":\"X\",\"requestParameters\":{\n  \"bucketName\": \"b\",\n  \"key\": \"a b\\u00e9\\n\",\n  \"n\": 1.50E+3\n},\"responseElements\":\"text\",\"additionalEventData\":{\"bytesTransferredOut\":3726},\"serviceEventDetails\":[1,true,null],\"edgeDeviceDetails\":7}",
			want: map[string]any{
				"requestparameters":   `{"bucketName":"b","key":"a b\u00e9\n","n":1.50E+3}`,
				"responseelements":    `"text"`,
				"additionaleventdata": `{"bytesTransferredOut":3726}`,
				"serviceeventdetails": `[1,true,null]`,
				"edgedevicedetails":   `7`,
			},
		},
		{
			name: "string escapes are resolved",
			in:   `{"eventName":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"}`,
			want: map[string]any{"eventname": "a\"b\\c/d\b\f\n\r\té😀\ufffdx"},
		},
		{
			name: "userIdentity with every nested struct",
			in: `{"eventName":"X","userIdentity":{"type":"AssumedRole","principalId":"AROAX:alice","arn":"arn:aws:sts::1:assumed-role/R/alice","accountId":"1","accessKeyId":"ASIA","invokedBy":"svc","userName":"u",
				"onBehalfOf":{"userId":"uid","identityStoreArn":"arn:is"},
				"sessionContext":{"attributes":{"creationDate":"2024-01-01T00:00:00Z","mfaAuthenticated":"false"},
					"sessionIssuer":{"type":"Role","principalId":"AROAX","arn":"arn:aws:iam::1:role/R","accountId":"1","userName":"R"},
					"ec2RoleDelivery":"2.0",
					"webIdFederationData":{"federatedProvider":"arn:oidc","attributes":{"aud":"sts","sub":"repo:x"}}}}}`,
			want: map[string]any{
				"useridentity.type":                                                 "AssumedRole",
				"useridentity.principalid":                                          "AROAX:alice",
				"useridentity.invokedby":                                            "svc",
				"useridentity.onbehalfof.userid":                                    "uid",
				"useridentity.onbehalfof.identitystorearn":                          "arn:is",
				"useridentity.sessioncontext.attributes.creationdate":               "2024-01-01T00:00:00Z",
				"useridentity.sessioncontext.attributes.mfaauthenticated":           "false",
				"useridentity.sessioncontext.sessionissuer.arn":                     "arn:aws:iam::1:role/R",
				"useridentity.sessioncontext.ec2roledelivery":                       "2.0",
				"useridentity.sessioncontext.webidfederationdata.federatedprovider": "arn:oidc",
				"useridentity.sessioncontext.webidfederationdata.attributes":        map[string]any{"aud": "sts", "sub": "repo:x"},
				"unmappedfields":                                                    nil,
			},
		},
		{
			name: "empty objects are present structs of NULLs",
			in:   `{"eventName":"X","userIdentity":{"sessionContext":{"sessionIssuer":{},"webIdFederationData":{}}}}`,
			want: map[string]any{
				"useridentity.type":                               nil,
				"useridentity.onbehalfof":                         nil,
				"useridentity.sessioncontext.sessionissuer":       map[string]any{"type": nil, "principalid": nil, "arn": nil, "accountid": nil, "username": nil},
				"useridentity.sessioncontext.webidfederationdata": map[string]any{"federatedprovider": nil, "attributes": nil},
				"useridentity.sessioncontext.attributes":          nil,
			},
		},
		{
			name: "key case variants fill one column; a second variant is kept unmapped",
			in:   `{"EVENTNAME":"X","userIdentity":{"AccountID":"1","accountid":"2"},"resources":[{"arn":"a1","accountid":"1","TYPE":"t"},{"ARN":"a2","ARN":"a3"}]}`,
			want: map[string]any{
				"eventname":              "X",
				"useridentity.accountid": "1",
				"resources": []any{
					map[string]any{"arn": "a1", "accountid": "1", "type": "t"},
					map[string]any{"arn": "a2", "accountid": nil, "type": nil},
				},
				"unmappedfields": `{"userIdentity":{"accountid":"2"},"resources":[null,{"ARN":"a3"}]}`,
			},
		},
		{
			name: "fields without a column are kept at their paths",
			in: `{"eventVersion":"1.11","managementEvent":true,"userIdentity":{"type":"WebIdentityUser","identityProvider":"accounts.google.com","sessionContext":{"sourceIdentity":"alice","attributes":{"mfaAuthenticated":"true"}}},
				"tlsDetails":{"tlsVersion":"TLSv1.3","keyExchange":"x25519"},"eventContext":{"tags":["a"]},"insightDetails":{"state":"Start"}}`,
			want: map[string]any{
				"tlsdetails.tlsversion":                                   "TLSv1.3",
				"useridentity.sessioncontext.attributes.mfaauthenticated": "true",
				"unmappedfields":                                          `{"managementEvent":true,"userIdentity":{"identityProvider":"accounts.google.com","sessionContext":{"sourceIdentity":"alice"}},"tlsDetails":{"keyExchange":"x25519"},"eventContext":{"tags":["a"]},"insightDetails":{"state":"Start"}}`,
			},
		},
		{
			name: "values whose shape cannot fill their column are kept unmapped",
			in:   `{"eventName":"X","userIdentity":"root","addendum":[1],"resources":{"arn":"x"},"tlsDetails":true}`,
			want: map[string]any{
				"useridentity": nil, "addendum": nil, "resources": nil, "tlsdetails": nil,
				"unmappedfields": `{"userIdentity":"root","addendum":[1],"resources":{"arn":"x"},"tlsDetails":true}`,
			},
		},
		{
			name: "resources elements that are not objects",
			in:   `{"eventName":"X","resources":[null,"arn:x",{"ARN":"a","ARNPrefix":"p"},{}]}`,
			want: map[string]any{
				"resources": []any{
					nil, nil,
					map[string]any{"arn": "a", "accountid": nil, "type": nil},
					map[string]any{"arn": nil, "accountid": nil, "type": nil},
				},
				"unmappedfields": `{"resources":[null,"arn:x",{"ARNPrefix":"p"},null]}`,
			},
		},
		{
			name: "empty resources",
			in:   `{"eventName":"X","resources":[]}`,
			want: map[string]any{"resources": []any{}, "unmappedfields": nil},
		},
		{
			name: "map values of other types and repeated map keys",
			in:   `{"eventName":"X","userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"a":1,"b":null,"c":{"d":true},"a":"again"}}}}}`,
			want: map[string]any{
				"useridentity.sessioncontext.webidfederationdata.attributes": map[string]any{"a": "1", "b": nil, "c": `{"d":true}`},
				"unmappedfields": `{"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"a":"again"}}}}}`,
			},
		},
		{
			name: "addendum and tlsDetails",
			in:   `{"eventName":"X","addendum":{"reason":"UPDATED_DATA","updatedFields":["a","b"],"originalRequestID":"r","originalEventID":"e"},"tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"c","clientProvidedHostHeader":"h"}}`,
			want: map[string]any{
				"addendum":   map[string]any{"reason": "UPDATED_DATA", "updatedfields": `["a","b"]`, "originalrequestid": "r", "originaleventid": "e"},
				"tlsdetails": map[string]any{"tlsversion": "TLSv1.2", "ciphersuite": "c", "clientprovidedhostheader": "h"},
			},
		},
		{
			name: "invalid UTF-8 becomes U+FFFD",
			in:   "{\"eventName\":\"a\xffb\",\"requestParameters\":{\"k\":\"\xfe\"},\"x\xff\":1}",
			want: map[string]any{"eventname": "a\ufffdb", "requestparameters": "{\"k\":\"\ufffd\"}", "unmappedfields": "{\"x\ufffd\":1}"},
		},
		{
			name: "escaped key names match columns",
			in:   `{"event\u004eame":"X","\u0061wsRegion":"r"}`,
			want: map[string]any{"eventname": "X", "awsregion": "r", "unmappedfields": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readString(t, strings.ReplaceAll(strings.ReplaceAll(tt.in, "\n", " "), "\t", " "))
			require.NoError(t, res.err)
			require.Empty(t, res.rejects)
			require.Len(t, res.rows, 1)
			for path, want := range tt.want {
				require.Equal(t, want, get(res.rows[0], strings.Split(path, ".")...), path)
			}
			if u, ok := res.rows[0]["unmappedfields"].(string); ok {
				require.True(t, json.Valid([]byte(u)), "unmappedfields is JSON: %s", u)
			}
		})
	}
}

// TestJSONTextColumnsParse checks that every JSON-text cell of the sample
// inputs is valid JSON equal to the record's value.
func TestJSONTextColumnsParse(t *testing.T) {
	in := `{"eventName":"X","requestParameters":{"policyDocument":"{\"Version\":\"2012-10-17\"}","n":[1,2.5,-3e2],"s":"\u00e9"}}`
	res := readString(t, in)
	require.Len(t, res.rows, 1)
	var got, want any
	require.NoError(t, json.Unmarshal([]byte(res.rows[0]["requestparameters"].(string)), &got))
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(in), &rec))
	want = rec["requestParameters"]
	require.Equal(t, want, got)
}
