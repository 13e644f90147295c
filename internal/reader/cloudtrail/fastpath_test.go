package cloudtrail

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// parseObject takes a plain string member itself, without parseField and
// stringValue: for every kind of value, at the top level, in a struct and
// in a resources element, the cell must be what stringValue makes of the
// same bytes, and a record is an event exactly when a member maps to a
// column.
func TestStringMemberFastPath(t *testing.T) {
	values := []string{
		`"plain"`, `""`, `"with \"escapes\" \\ \/ \n"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, "\"caf\xc3\xa9\"",
		"\"bad \xff utf8\"", `"ctl\t"`, `123`, `-1.5e3`, `0`, `true`, `false`, `null`, `{"a":1}`, `[1, "x", {}]`,
		`{ "spaced" : [ 1 ] }`,
	}
	root := plan.root
	ui := root.find([]byte("useridentity")).child
	el := root.find([]byte("resources")).child
	for _, v := range values {
		ref := newDecoder(DefaultMaxDepth)
		ref.reset([]byte(v + "}"))
		want, _, err := ref.stringValue(0, 2)
		require.NoError(t, err, v)
		for _, rec := range []struct {
			json string
			cell func(d *decoder) value
		}{
			{`{"eventName":` + v + `}`, func(d *decoder) value { return d.vals[root.find([]byte("eventname")).slot] }},
			{`{"userIdentity":{"type":` + v + `,"arn":"a"}}`, func(d *decoder) value { return d.vals[ui.find([]byte("type")).slot] }},
			{`{"resources":[{"accountId":"1","ARN":` + v + `}]}`, func(d *decoder) value { return d.resVals[el.find([]byte("arn")).slot] }},
		} {
			d := newDecoder(DefaultMaxDepth)
			for range 2 { // the second time through the remembered keys
				end, err := d.decode([]byte(rec.json))
				require.NoError(t, err, rec.json)
				require.Equal(t, len(rec.json), end, rec.json)
				got := rec.cell(d)
				require.Equal(t, want.ok, got.ok, rec.json)
				require.Equal(t, string(want.b), string(got.b), rec.json)
				require.True(t, d.hasEvent, rec.json)
			}
		}
	}
	d := newDecoder(DefaultMaxDepth)
	for json, event := range map[string]bool{
		`{}`: false, `{"other":"x"}`: false, `{"other":"x","eventName":"e"}`: true, `{"eventName":null}`: true,
		`{"userIdentity":{}}`: true, `{"Records":[]}`: false, `{"_raw":"{}"}`: false,
	} {
		_, err := d.decode([]byte(json))
		require.NoError(t, err, json)
		require.Equal(t, event, d.hasEvent, json)
	}
}
