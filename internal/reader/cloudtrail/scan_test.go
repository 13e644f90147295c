package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scanAll scans data as one JSON value surrounded by optional whitespace, the
// way json.Valid does. A space is appended so that a top-level number ends.
func scanAll(data []byte, maxDepth int) (start, end int, spaced bool, err error) {
	b := append(bytes.Clone(data), ' ')
	var sc scanner
	start = skipSpace(b, 0)
	end, spaced, err = sc.skipValue(b, start, 0, maxDepth)
	if err == nil && skipSpace(b, end) != len(b) {
		err = errors.New("data after the value")
	}
	return start, end, spaced, err
}

func TestScanAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range scanCorpus {
		t.Run(in, func(t *testing.T) { checkScan(t, []byte(in)) })
	}
}

var scanCorpus = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5`, `-1.5e-10`, `1E+2`, `true`, `false`, `null`,
	`{"a":1}`, `{"a" : [1, 2 , {"b":null}] }`, "\t[\n1\r]\n", `"\u00e9\ud83d\ude00"`, `"\"\\\/\b\f\n\r\t"`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`, `nul`, `True`,
	`{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{1:2}`, `{"a":1 "b":2}`, `[1 2]`, `]`, `}`, `{]`, `[}`,
	"\"a\x01b\"", `"\x"`, `"\u12"`, `"\u12G4"`, `"abc`, `"abc\`, "\"\xff\"", `"a` + strings.Repeat("b", 100) + `"`,
	`[[[[[[[[[[]]]]]]]]]]`, `{"a":{"b":{"c":{}}}}`, `[1] [2]`, ``, ` `,
}

func checkScan(t *testing.T, data []byte) {
	start, end, spaced, err := scanAll(data, 10001) // encoding/json allows 10000
	require.Equal(t, json.Valid(data), err == nil, "valid %q: %v", data, err)
	if err != nil {
		return
	}
	v := data[start:end]
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, v))
	require.Equal(t, want.String(), string(appendCompact(nil, v)), "compact")
	require.Equal(t, !bytes.Equal(want.Bytes(), v), spaced, "spaced")
	if v[0] == '"' {
		var s string
		require.NoError(t, json.Unmarshal(v, &s))
		require.Equal(t, s, string(appendUnquoted(nil, v[1:len(v)-1])), "unquote")
	}
}

func FuzzScanValue(f *testing.F) {
	for _, in := range scanCorpus {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkScan(t, data) })
}

func TestScanDepth(t *testing.T) {
	deep := strings.Repeat("[", 20) + strings.Repeat("]", 20)
	_, _, _, err := scanAll([]byte(deep), 20)
	require.NoError(t, err)
	_, _, _, err = scanAll([]byte(deep), 19)
	require.ErrorIs(t, err, errTooDeep)
}

func TestScanShortInput(t *testing.T) {
	// Every proper prefix of a value inside a container is errShort: the
	// reader then reads more and starts the record again.
	full := []byte(`{"a":"x\u00e9y","b":[1.5e3,true,false,null,{"c":-0}],"d":"\\"}`)
	var sc scanner
	for n := range len(full) {
		_, _, err := sc.skipValue(full[:n], 0, 0, 100)
		require.ErrorIs(t, err, errShort, "prefix %q", full[:n])
		_, err = newDecoder(100).decode(full[:n])
		require.ErrorIs(t, err, errShort, "decode prefix %q", full[:n])
	}
	end, _, err := sc.skipValue(full, 0, 0, 100)
	require.NoError(t, err)
	require.Equal(t, len(full), end)
}

func TestHasSpecialByte(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			v := uint64(0)
			for i := 7; i >= 0; i-- {
				v = v<<8 | uint64(w[i])
			}
			require.Equal(t, !strPlain[c], hasSpecialByte(v), "byte %#x at %d", c, pos)
		}
	}
}
