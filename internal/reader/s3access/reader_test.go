package s3access

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/schema"
)

// readAll reads every batch of input and returns the rows keyed by column
// name (nil for NULL), the rejects (Raw copied) and the reader, released.
func readAll(t *testing.T, input io.Reader, cfg Config) (rows []map[string]any, rejects []reader.Reject, rd *Reader) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	cfg.Mem = mem
	cfg.Reject = func(r reader.Reject) {
		r.Raw = append([]byte(nil), r.Raw...)
		rejects = append(rejects, r)
	}
	rd, err := NewReader(input, cfg)
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
		rec := rd.RecordBatch()
		require.True(t, rec.Schema().Equal(schema.S3AccessSchema()))
		rows = append(rows, rowsOf(rec)...)
	}
	require.NoError(t, rd.Err())
	st := rd.Stats()
	require.Equal(t, st.Records, st.Rows+st.Rejected, "records = rows + rejected")
	require.Equal(t, int64(len(rows)), st.Rows)
	require.Equal(t, int64(len(rejects)), st.Rejected)
	return rows, rejects, rd
}

func rowsOf(rec arrow.RecordBatch) []map[string]any {
	out := make([]map[string]any, rec.NumRows())
	for i := range out {
		row := map[string]any{}
		for c, f := range rec.Schema().Fields() {
			col := rec.Column(c)
			if col.IsNull(i) {
				row[f.Name] = nil
				continue
			}
			switch a := col.(type) {
			case *array.Int64:
				row[f.Name] = a.Value(i)
			case *array.String:
				row[f.Name] = a.Value(i)
			default:
				panic("unexpected column type " + a.DataType().String())
			}
		}
		out[i] = row
	}
	return out
}

func TestReaderValues(t *testing.T) {
	input := line27 + "\n" +
		// 24 fields, batch delete with bare "-" and no bytes sent.
		tOwner + " my-bucket [06/Jan/2024:00:00:01 +0000] 198.51.100.7 arn:aws:iam::111122223333:user/alice 1A2B3C4D5E6F7A8B BATCH.DELETE.OBJECT old/file.txt - 204 - - 42 - - - - - " + tTail24 + "\n" +
		// 18 fields; quoted "-" everywhere; a +0200 time.
		tOwner + ` my-bucket [06/Jan/2024:01:30:00 +0200] - - 0F0E0D0C0B0A0908 REST.GET.BUCKET - "-" 403 AccessDenied 243 - 3 - "-" "-" -` + "\n"
	rows, rejects, rd := readAll(t, strings.NewReader(input), Config{Object: "logs/2024-01-06-00-05-00-ABCDEF"})
	require.Empty(t, rejects)
	require.Len(t, rows, 3)

	want0 := map[string]any{
		"bucketowner": tOwner, "bucket_name": "my-bucket", "requestdatetime": "05/Jan/2024:23:59:58 +0000",
		"remoteip": "198.51.100.7", "requester": "arn:aws:iam::111122223333:user/alice", "requestid": "7D3F1A2B3C4D5E6F",
		"operation": "REST.GET.OBJECT", "key": "photos/cat%20one.jpg",
		"request_uri": "GET /my-bucket/photos/cat%20one.jpg?x-id=GetObject HTTP/1.1", "httpstatus": "200",
		"errorcode": nil, "bytessent": int64(5120), "objectsize": int64(5120), "totaltime": "12", "turnaroundtime": "9",
		"referrer": "https://example.com/gallery", "useragent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0",
		"versionid": "3HL4kqtJvjVBH40Nrjfkd", "hostid": tHostID, "sigv": "SigV4", "ciphersuite": "TLS_AES_128_GCM_SHA256",
		"authtype": "AuthHeader", "endpoint": "my-bucket.s3.eu-west-1.amazonaws.com", "tlsversion": "TLSv1.3",
		"accesspointarn": "arn:aws:s3:eu-west-1:111122223333:accesspoint/ap1", "aclrequired": "Yes", "sourceregion": "eu-west-1",
	}
	require.Equal(t, want0, rows[0])

	require.Equal(t, "BATCH.DELETE.OBJECT", rows[1]["operation"])
	require.Equal(t, "old/file.txt", rows[1]["key"])
	require.Equal(t, "204", rows[1]["httpstatus"])
	require.Nil(t, rows[1]["request_uri"])
	require.Nil(t, rows[1]["referrer"])
	require.Nil(t, rows[1]["useragent"])
	require.Nil(t, rows[1]["bytessent"])
	require.Equal(t, int64(42), rows[1]["objectsize"])
	require.Equal(t, "TLSv1.3", rows[1]["tlsversion"])
	for _, c := range []string{"accesspointarn", "aclrequired", "sourceregion"} {
		require.Nil(t, rows[1][c], c)
	}

	require.Equal(t, "06/Jan/2024:01:30:00 +0200", rows[2]["requestdatetime"])
	for _, c := range []string{"remoteip", "requester", "key", "request_uri", "referrer", "useragent", "versionid", "objectsize", "turnaroundtime"} {
		require.Nil(t, rows[2][c], c)
	}
	require.Equal(t, "AccessDenied", rows[2]["errorcode"])
	require.Equal(t, int64(243), rows[2]["bytessent"])
	require.Equal(t, "3", rows[2]["totaltime"]) // kept as the string AWS wrote
	for _, c := range schema.S3AccessColumns[18:] {
		require.Nil(t, rows[2][c], c)
	}
	require.Equal(t, Stats{Lines: 3, Records: 3, Rows: 3}, rd.Stats())
}

func TestReaderRejects(t *testing.T) {
	good := line27
	lines := []string{
		good,
		tHead + " " + tURI + tMiddle + tRefUA, // 17 fields
		strings.Replace(good, " 200 - 5120 5120 ", " 200 - 5kB 5120 ", 1),
		strings.Replace(good, " 200 - 5120 5120 ", " 200 - 5120 -1 ", 1),
		strings.Replace(good, " 200 - 5120 5120 ", " 200 - 99999999999999999999 5120 ", 1),
		strings.Replace(good, "05/Jan/2024", "32/Jan/2024", 1),
		strings.Replace(good, "[05/Jan/2024:23:59:58 +0000]", "[-]", 1),
		tOwner + " my-bucket [05/Jan/2024:23:59:58 +0000] 198.51.100.7 - X REST.GET.OBJECT k \"GET /k HTTP/1.1", // cut in a quote
		tOwner + " my-bucket 2024-01-05T23:59:58Z 198.51.100.7",
		"",
		"   ",
		good + " future-field",
	}
	rows, rejects, rd := readAll(t, strings.NewReader(strings.Join(lines, "\n")), Config{Object: "obj"})
	require.Len(t, rows, 2)
	require.Equal(t, "eu-west-1", rows[1]["sourceregion"])
	wantReasons := []struct {
		line   int64
		reason string
	}{
		{2, "wrong number of fields: got 17, need at least 18"},
		{3, `column bytessent: not an integer: "5kB"`},
		{4, `column objectsize: not an integer: "-1"`},
		{5, `column bytessent: not an integer: "99999999999999999999"`},
		{6, `column requestdatetime: s3access: request time is not`},
		{7, `column requestdatetime`},
		{8, "wrong number of fields: unterminated quoted field"},
		{9, "wrong number of fields: no [bracketed] request time"},
	}
	require.Len(t, rejects, len(wantReasons))
	for i, w := range wantReasons {
		require.Equal(t, w.line, rejects[i].Line, "reject %d", i)
		require.Contains(t, rejects[i].Reason, w.reason, "reject %d", i)
		require.Equal(t, lines[w.line-1], string(rejects[i].Raw), "raw line kept untouched")
		require.Equal(t, "obj", rejects[i].Object)
	}
	st := rd.Stats()
	require.Equal(t, Stats{Lines: 12, Records: 10, Rows: 2, Rejected: 8, ExtraFields: 1}, st)
	require.Equal(t, []string{"1 access-log lines had fields after sourceregion (a newer log format?); the extra fields were dropped"}, rd.Warnings())
	records, rejected := rd.Counts()
	require.Equal(t, int64(10), records)
	require.Equal(t, int64(8), rejected)
}

// The reasons name the sentinels, so that a summary can group them.
func TestRejectReasonsUseSentinels(t *testing.T) {
	var f fields
	_, _, reason := parseLine([]byte(tHead), &f)
	require.True(t, strings.HasPrefix(reason, reader.ErrFieldCount.Error()), reason)
	_, _, reason = parseLine([]byte(strings.Replace(line27, " 5120 5120 ", " x 5120 ", 1)), &f)
	require.Contains(t, reason, reader.ErrBadInt.Error())
}

func TestReaderTrailingSpaceAndCRLF(t *testing.T) {
	input := line27 + " \r\n" + line27 + "\r\n"
	rows, rejects, rd := readAll(t, strings.NewReader(input), Config{Object: "o"})
	require.Empty(t, rejects)
	require.Len(t, rows, 2)
	require.Equal(t, "eu-west-1", rows[0]["sourceregion"])
	require.Zero(t, rd.Stats().ExtraFields)
}

func TestReaderChunking(t *testing.T) {
	var b strings.Builder
	for range 1000 {
		b.WriteString(line27)
		b.WriteByte('\n')
	}
	b.WriteString("broken line\n")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(strings.NewReader(b.String()), Config{Object: "o", ChunkRows: 300, Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	var sizes []int64
	for rd.Next() {
		sizes = append(sizes, rd.RecordBatch().NumRows())
	}
	require.NoError(t, rd.Err())
	require.Equal(t, []int64{300, 300, 300, 100}, sizes)
	require.Equal(t, int64(1), rd.Stats().Rejected)
	require.False(t, rd.Next(), "Next after the end stays false")
}

// A batch ends early once its lines reach the byte limit, and reused column
// slices (a second reader takes the first one's) give the same values.
func TestReaderBatchByteLimit(t *testing.T) {
	var b strings.Builder
	for range 10 {
		b.WriteString(line27 + "\n")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var first []map[string]any
	for round := range 2 {
		rd, err := NewReader(strings.NewReader(b.String()), Config{Object: "o", Mem: mem})
		require.NoError(t, err)
		rd.batchMax = int64(3 * len(line27))
		var sizes []int64
		var rows []map[string]any
		for rd.Next() {
			sizes = append(sizes, rd.RecordBatch().NumRows())
			rows = append(rows, rowsOf(rd.RecordBatch())...)
		}
		require.NoError(t, rd.Err())
		rd.Release()
		require.False(t, rd.Next(), "a released reader returns no batch")
		require.Equal(t, []int64{3, 3, 3, 1}, sizes)
		if round == 0 {
			first = rows
		} else {
			require.Equal(t, first, rows)
		}
	}
}

func TestReaderLineTooLong(t *testing.T) {
	long := strings.Replace(line27, "Firefox/121.0", strings.Repeat("x", 5000), 1)
	rows, rejects, _ := readAll(t, strings.NewReader(long+"\n"+line27+"\n"), Config{Object: "o", MaxLineBytes: 1000})
	require.Len(t, rows, 1)
	require.Len(t, rejects, 1)
	require.Contains(t, rejects[0].Reason, "line too long (limit 1000 bytes)")
	require.True(t, rejects[0].Truncated)
	require.Equal(t, int64(1), rejects[0].Line)
}

func TestReaderEmptyObject(t *testing.T) {
	rows, rejects, rd := readAll(t, strings.NewReader(""), Config{Object: "o"})
	require.Empty(t, rows)
	require.Empty(t, rejects)
	require.Equal(t, Stats{}, rd.Stats())
	require.Nil(t, rd.Warnings())
}

func TestReaderReadErrorIsPositioned(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(line27+"\n"), iotest.ErrReader(boom))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(r, Config{Object: "obj", Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
	}
	require.ErrorIs(t, rd.Err(), boom)
	var pe *reader.ParseError
	require.ErrorAs(t, rd.Err(), &pe)
	require.Equal(t, "obj", pe.Object)
	require.Equal(t, int64(2), pe.Line)
}

func TestParseCount(t *testing.T) {
	for in, want := range map[string]int64{"-": noInt, "0": 0, "4406583": 4406583, "9223372036854775807": 1<<63 - 1} {
		v, ok := parseCount([]byte(in))
		require.True(t, ok, in)
		require.Equal(t, want, v, in)
	}
	for _, in := range []string{"", "+1", "-1", "1.0", "9223372036854775808", "12345678901234567890", " 1", "--"} {
		_, ok := parseCount([]byte(in))
		require.False(t, ok, in)
	}
}
