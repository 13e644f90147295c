package s3access

import (
	"bufio"
	"bytes"
	"convert/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// fuzzSeeds are lines from the project's testdata and the third-party
// samples (read in place), plus the hand-written edge cases of this package.
func fuzzSeeds(f *testing.F) []string {
	seeds := []string{line27, tHead, tHead + ` "GET /" HTTP/1.1"` + tMiddle + tRefUA + tVersion + tTail24,
		tHead + " " + tURI + tMiddle + `"a" "b" "c" "d"` + tVersion + tTail24, "", "-", `"`, "[", `[] "" "" ""`}
	for _, l := range adversarialLines(256) {
		seeds = append(seeds, l)
	}
	files := []string{simpleLog, dateBasedLog}
	if dir := testenv.SamplesSeedDir(f, "s3access"); dir != "" {
		if m, err := filepath.Glob(filepath.Join(dir, "*.log")); err == nil {
			files = append(files, m...)
		}
	}
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			seeds = append(seeds, sc.Text())
		}
		fh.Close()
	}
	return seeds
}

// FuzzParseLine: on any input the tokenizer and the reader never panic,
// every accepted line satisfies the schema's constraints, values are
// in-order pieces of the line (quoted ones between quotes), and the reader
// keeps records = rows + rejected.
func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var accepted int64
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			line = bytes.TrimSuffix(line, []byte{'\r'})
			line = bytes.TrimRight(line, " \t")
			if len(line) == 0 {
				continue
			}
			line = line[:len(line):len(line)] // so that cap gives offsets
			var fl fields
			_, _, reason := parseLine(line, &fl)
			if reason != "" {
				continue
			}
			accepted++
			require.GreaterOrEqual(t, fl.n, MandatoryFields)
			require.LessOrEqual(t, fl.n, NumFields)
			_, err := RequestTime(string(fl.v[fieldTime]))
			require.NoError(t, err)
			prevEnd := 0
			for i := range fl.n {
				v := fl.v[i]
				start := len(line) - cap(v)
				require.GreaterOrEqual(t, start, prevEnd, "field %d overlaps the previous one", i)
				end := start + len(v)
				if start > 0 && line[start-1] == '"' && (i == fieldRequestURI || i == fieldReferrer || i == fieldUserAgent) {
					require.Less(t, end, len(line), "a quoted field closes inside the line")
					require.Equal(t, byte('"'), line[end])
				}
				prevEnd = end
			}
		}

		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		rd, err := NewReader(bytes.NewReader(data), Config{Object: "fuzz", ChunkRows: 7, MaxLineBytes: 4096, Mem: mem})
		require.NoError(t, err)
		defer rd.Release()
		var rows int64
		for rd.Next() {
			rec := rd.RecordBatch()
			rows += rec.NumRows()
			for _, col := range rec.Columns() {
				require.Equal(t, rec.NumRows(), int64(col.Len()))
			}
		}
		require.NoError(t, rd.Err())
		st := rd.Stats()
		require.Equal(t, st.Records, st.Rows+st.Rejected)
		require.Equal(t, rows, st.Rows)
		if len(data) < 4096 {
			require.Equal(t, accepted, st.Rows, "the reader accepts exactly the lines parseLine accepts")
		}
	})
}

// FuzzRoundTrip renders a line from field values and parses it back. The
// quoted values may hold quotes, as long as no quote inside is followed by a
// space (that case is ambiguous by nature; the table tests pin its rules).
func FuzzRoundTrip(f *testing.F) {
	f.Add("GET /a HTTP/1.1", "https://example.com/", "Mozilla/5.0 (X11)", "k%20ey", uint8(27))
	f.Add(`GET /a"b HTTP/1.1`, `x"y`, `ua "q"`, "-", uint8(18))
	f.Add("", "", `trailing"`, "k", uint8(30))
	f.Fuzz(func(t *testing.T, uri, ref, ua, key string, count uint8) {
		for _, s := range []string{uri, ref, ua} {
			if strings.ContainsAny(s, "\n\r") || strings.Contains(s, `" `) {
				t.Skip()
			}
		}
		key = strings.Map(func(r rune) rune {
			if r == ' ' || r == '"' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, key)
		if key == "" {
			key = "-"
		}
		n := MandatoryFields + int(count)%(NumFields+4-MandatoryFields)
		vals := []string{tOwner, "b", "01/Mar/2024:10:00:00 +0000", "192.0.2.1", "-", "REQ", "REST.GET.OBJECT", key,
			uri, "200", "-", "10", "20", "3", "2", ref, ua, "-", "HOSTID", "SigV4", "C", "AuthHeader", "h.example", "TLSv1.3", "-", "Yes", "us-east-1",
			"X1", "X2", "X3", "X4"}
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			switch i {
			case fieldTime:
				b.WriteString("[" + vals[i] + "]")
			case fieldRequestURI, fieldReferrer, fieldUserAgent:
				b.WriteString(`"` + vals[i] + `"`)
			default:
				b.WriteString(vals[i])
			}
		}
		line := []byte(b.String())
		var fl fields
		_, _, reason := parseLine(line, &fl)
		require.Empty(t, reason, "%s", line)
		require.Equal(t, min(n, NumFields), fl.n)
		require.Equal(t, max(0, n-NumFields), fl.extra)
		for i := range fl.n {
			require.Equal(t, vals[i], string(fl.v[i]), "field %d of %s", i, line)
		}
	})
}
