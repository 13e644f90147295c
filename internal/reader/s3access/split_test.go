package s3access

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Hand-written access-log pieces (not copies of the third-party samples).
const (
	tOwner   = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	tHead    = tOwner + " my-bucket [05/Jan/2024:23:59:58 +0000] 198.51.100.7 arn:aws:iam::111122223333:user/alice 7D3F1A2B3C4D5E6F REST.GET.OBJECT photos/cat%20one.jpg"
	tHostID  = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MDEyMzQ1Njc4OQ=="
	tTail24  = tHostID + " SigV4 TLS_AES_128_GCM_SHA256 AuthHeader my-bucket.s3.eu-west-1.amazonaws.com TLSv1.3"
	tTail27  = tTail24 + " arn:aws:s3:eu-west-1:111122223333:accesspoint/ap1 Yes eu-west-1"
	tMiddle  = ` 200 - 5120 5120 12 9 `
	tURI     = `"GET /my-bucket/photos/cat%20one.jpg?x-id=GetObject HTTP/1.1"`
	tRefUA   = `"https://example.com/gallery" "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"`
	tVersion = " 3HL4kqtJvjVBH40Nrjfkd "
)

// line27 is a complete line of the current (27-field) format.
var line27 = tHead + " " + tURI + tMiddle + tRefUA + tVersion + tTail27

func TestSplitLine(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		want  map[int]string // field index → value (only the fields checked)
		n     int
		extra int
		err   error
	}{
		{
			name: "current format, 27 fields",
			line: line27,
			want: map[int]string{0: tOwner, 1: "my-bucket", 2: "05/Jan/2024:23:59:58 +0000", 3: "198.51.100.7",
				7: "photos/cat%20one.jpg", 8: "GET /my-bucket/photos/cat%20one.jpg?x-id=GetObject HTTP/1.1", 9: "200",
				10: "-", 11: "5120", 12: "5120", 13: "12", 14: "9", 15: "https://example.com/gallery",
				16: "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", 17: "3HL4kqtJvjVBH40Nrjfkd", 18: tHostID,
				19: "SigV4", 23: "TLSv1.3", 24: "arn:aws:s3:eu-west-1:111122223333:accesspoint/ap1", 25: "Yes", 26: "eu-west-1"},
			n: 27,
		},
		{
			name: "time with another zone is kept as written",
			line: strings.Replace(line27, "+0000", "-0530", 1),
			want: map[int]string{2: "05/Jan/2024:23:59:58 -0530"},
			n:    27,
		},
		{
			name: "quote inside the request-URI",
			line: tHead + ` "GET /my-bucket/a"b HTTP/1.1"` + tMiddle + tRefUA + tVersion + tTail24,
			want: map[int]string{8: `GET /my-bucket/a"b HTTP/1.1`, 9: "200", 16: "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"},
			n:    24,
		},
		{
			name: `request-URI with a quote followed by a space ("GET /" HTTP/1.1")`,
			line: tHead + ` "GET /" HTTP/1.1"` + tMiddle + tRefUA + tVersion + tTail24,
			want: map[int]string{8: `GET /" HTTP/1.1`, 9: "200", 10: "-", 11: "5120"},
			n:    24,
		},
		{
			name: `user agent containing " " stays one field`,
			line: tHead + " " + tURI + tMiddle + `"-" "curl/8.5.0 "probe" "x"" ` + "-" + " " + tTail24,
			want: map[int]string{15: "-", 16: `curl/8.5.0 "probe" "x"`, 17: "-", 18: tHostID, 19: "SigV4"},
			n:    24,
		},
		{
			name: `user agent with " followed by many words`,
			line: tHead + " " + tURI + tMiddle + `"-" "Mozilla/5.0 "bot" (compatible; a b c d e f g h i j k l)"` + tVersion + tTail24,
			want: map[int]string{16: `Mozilla/5.0 "bot" (compatible; a b c d e f g h i j k l)`, 17: "3HL4kqtJvjVBH40Nrjfkd", 19: "SigV4"},
			n:    24,
		},
		{
			name: "user agent ending in a quote",
			line: tHead + " " + tURI + tMiddle + `"-" "Mozilla/5.0 Safari/604.1""` + tVersion + tTail24,
			want: map[int]string{16: `Mozilla/5.0 Safari/604.1"`, 17: "3HL4kqtJvjVBH40Nrjfkd"},
			n:    24,
		},
		{
			name: "shellshock payload with quotes in referrer and user agent",
			line: tHead + " " + tURI + tMiddle + `"() { :;}; echo; echo "pwned"" "() { :;}; echo; echo "pwned""` + tVersion + tTail27,
			want: map[int]string{15: `() { :;}; echo; echo "pwned"`, 16: `() { :;}; echo; echo "pwned"`, 17: "3HL4kqtJvjVBH40Nrjfkd", 26: "eu-west-1"},
			n:    27,
		},
		{
			name: `ambiguous " " in both: the referrer gets the shortest value`,
			line: tHead + " " + tURI + tMiddle + `"a" "b" "c" "d"` + tVersion + tTail24,
			want: map[int]string{15: "a", 16: `b" "c" "d`, 17: "3HL4kqtJvjVBH40Nrjfkd"},
			n:    24,
		},
		{
			name: "quoted referrer with a quote, bare user agent",
			line: tHead + " " + tURI + tMiddle + `"https://x.test/?q="y"" -` + tVersion + tTail24,
			want: map[int]string{15: `https://x.test/?q="y"`, 16: "-", 17: "3HL4kqtJvjVBH40Nrjfkd"},
			n:    24,
		},
		{
			name: "empty quoted values",
			line: tHead + ` ""` + tMiddle + `"" ""` + tVersion + tTail24,
			want: map[int]string{8: "", 15: "", 16: "", 17: "3HL4kqtJvjVBH40Nrjfkd"},
			n:    24,
		},
		{
			name: "batch delete: bare - where quotes are usual",
			line: tHead + " -" + tMiddle + "- - -" + " " + tTail24,
			want: map[int]string{8: "-", 9: "200", 15: "-", 16: "-", 17: "-", 18: tHostID},
			n:    24,
		},
		{
			name: "18 fields: ends at versionid",
			line: tHead + " " + tURI + tMiddle + tRefUA + " -",
			want: map[int]string{16: "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", 17: "-"},
			n:    18,
		},
		{
			name: "17 fields",
			line: tHead + " " + tURI + tMiddle + tRefUA,
			want: map[int]string{16: "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"},
			n:    17,
		},
		{
			name: "26 fields (the 2023 format)",
			line: tHead + " " + tURI + tMiddle + tRefUA + tVersion + tTail24 + " - -",
			want: map[int]string{24: "-", 25: "-"},
			n:    26,
		},
		{
			name:  "28 fields: one extra",
			line:  line27 + " ExtraThing",
			want:  map[int]string{26: "eu-west-1"},
			n:     27,
			extra: 1,
		},
		{
			name:  "30 fields: three extra, one quoted",
			line:  line27 + ` a "b" c`,
			want:  map[int]string{26: "eu-west-1"},
			n:     27,
			extra: 3,
		},
		{
			name: "truncated after the status",
			line: tHead + " " + tURI + " 200",
			want: map[int]string{8: "GET /my-bucket/photos/cat%20one.jpg?x-id=GetObject HTTP/1.1", 9: "200"},
			n:    10,
		},
		{
			name: "truncated inside the request-URI",
			line: tHead + ` "GET /my-bucket/photos/cat`,
			err:  errOpenQuote,
		},
		{
			name: "truncated inside the time",
			line: tOwner + " my-bucket [05/Jan/2024:23:5",
			err:  errOpenBracket,
		},
		{
			name: "no brackets",
			line: tOwner + " my-bucket 05/Jan/2024:23:59:58 +0000 198.51.100.7",
			err:  errNoTime,
		},
		{
			name: "bracket not followed by a space",
			line: tOwner + " my-bucket [05/Jan/2024:23:59:58 +0000]x 198.51.100.7",
			err:  errOpenBracket,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f fields
			err := splitLine([]byte(tc.line), &f)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.n, f.n, "field count")
			require.Equal(t, tc.extra, f.extra, "extra fields")
			for i, want := range tc.want {
				require.Equal(t, want, string(f.v[i]), "field %d", i+1)
			}
		})
	}
}

func TestUriTailOK(t *testing.T) {
	for tail, want := range map[string]bool{
		` 200 - 113 - 7 - "-"`:           true,
		` - - - 317 - - "-"`:             true,
		` 404 NoSuchKey 243 - 10 - x`:    true,
		` HTTP/1.1" 200 - 113 - 7 - "-"`: false,
		` 200 - 113 - 7 -`:               false, // no referrer after
		` 200 - abc - 7 - "-"`:           false,
		``:                               false,
		`x 200 - 1 - 7 - "-"`:            false,
	} {
		require.Equal(t, want, uriTailOK([]byte(tail)), tail)
	}
}

// A line of quotes must not take quadratic time: every candidate closing
// quote is checked in constant time against the line's last quote.
func TestSplitManyQuotesIsLinear(t *testing.T) {
	line := tHead + " " + tURI + tMiddle + `"` + strings.Repeat(`" "`, 200_000) + `"` + tVersion + tTail24
	var f fields
	require.NoError(t, splitLine([]byte(line), &f))
	require.Equal(t, 24, f.n)
	require.Equal(t, "", string(f.v[15]))
	require.Equal(t, 3*200_000-3, len(f.v[16]))
}
