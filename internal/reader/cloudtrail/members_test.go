package cloudtrail

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// spaceAfterCommas returns rec with a space and a tab after every comma
// outside strings.
func spaceAfterCommas(rec []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for _, c := range rec {
		out = append(out, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && c == ',':
			out = append(out, ' ', '\t')
		}
	}
	return out
}

// firstValueValid reports whether v starts with a valid JSON value, as
// encoding/json reads it: decode reads one object and leaves what follows.
func firstValueValid(v []byte) bool {
	var raw json.RawMessage
	return json.NewDecoder(bytes.NewReader(v)).Decode(&raw) == nil
}

var decodedEnd = regexp.MustCompile(`^end \d+`)

// parseObject takes the member after a comma with no space between them
// on a path of its own. Every prefix of compact records, and the records
// with each comma, or the byte after it, replaced, decode as encoding/json
// judges their first value, and alike with spaces after their commas
// (where the general path takes every member).
func TestCompactMembers(t *testing.T) {
	records := append([]string{
		`{"eventVersion":"1.08","eventName":"A","resources":[{"ARN":"a","type":"t"},{"accountId":"1"}],"requestParameters":{"a":[1,2],"b":{"c":"d"}},"x":1,"eventTime":"t"}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"T","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"d"}}},"eventID":"e"}`,
	}, keyMemoryRecords...)
	after := []byte{'"', ' ', '\t', ',', '}', ']', ':', 'x', '1', '{', 0}
	for _, r := range records {
		rec := []byte(r)
		var variants [][]byte
		for k := 1; k <= len(rec); k++ {
			variants = append(variants, rec[:k])
		}
		for k := 0; k+1 < len(rec); k++ {
			if rec[k] != ',' {
				continue
			}
			for _, c := range after {
				v := append([]byte(nil), rec...)
				v[k+1] = c
				variants = append(variants, v)
				v = append([]byte(nil), rec...)
				v[k] = c // the comma itself
				variants = append(variants, v)
			}
		}
		for _, v := range variants {
			compact := decodeState(newDecoder(DefaultMaxDepth), v)
			spaced := decodeState(newDecoder(DefaultMaxDepth), spaceAfterCommas(v))
			if !firstValueValid(v) {
				require.Regexp(t, `^(syntax )?error`, compact, "%q", v)
				require.Regexp(t, `^(syntax )?error`, spaced, "%q", v)
				continue
			}
			require.Regexp(t, `^end `, compact, "%q", v)
			require.Equal(t, decodedEnd.ReplaceAllString(compact, "end"), decodedEnd.ReplaceAllString(spaced, "end"), "%q", v)
		}
	}
}
