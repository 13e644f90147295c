package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/reader"
)

const (
	ev1 = `{"eventVersion":"1.08","eventName":"GetObject","eventTime":"2024-05-01T00:00:01Z"}`
	ev2 = `{"eventVersion":"1.08","eventName":"PutObject","eventTime":"2024-05-01T00:00:02Z"}`
	ev3 = `{"eventVersion":"1.08","eventName":"ListObjects","eventTime":"2024-05-01T00:00:03Z"}`
)

func eventNames(rows []map[string]any) []any {
	var out []any
	for _, r := range rows {
		out = append(out, r["eventname"])
	}
	return out
}

// TestShapes reads the top-level shapes a Reader accepts.
func TestShapes(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		shape    Shape
		names    []any
		warnings []string
	}{
		{"records", `{"Records":[` + ev1 + `,` + ev2 + `]}`, ShapeRecords, []any{"GetObject", "PutObject"}, nil},
		{"records pretty with odd commas", "{\n  \"Records\" : [\n    " + ev1 + "\n    ," + ev2 + "\n  ]\n}\n", ShapeRecords, []any{"GetObject", "PutObject"}, nil},
		{"empty records", `{"Records": []}`, ShapeRecords, nil, nil},
		{"byte-order mark and leading space", "\xef\xbb\xbf  " + `{"Records":[` + ev1 + `]}`, ShapeRecords, []any{"GetObject"}, nil},
		{"other top-level members are ignored", `{"Records":[` + ev1 + `],"Extra":{"a":[1,2]},"More":1}`, ShapeRecords, []any{"GetObject"},
			[]string{"ignored top-level members of the log file: Extra, More"}},
		{"Records not the first member", `{"Version":"1","Records":[` + ev1 + `,` + ev2 + `]}`, ShapeRecords, []any{"GetObject", "PutObject"},
			[]string{"ignored top-level members of the log file: Version"}},
		{"two log files concatenated", `{"Records":[` + ev1 + `]}{"Records":[` + ev2 + `]}`, ShapeRecords, []any{"GetObject", "PutObject"}, nil},
		{"ndjson", ev1 + "\n" + ev2 + "\r\n" + ev3, ShapeEvents, []any{"GetObject", "PutObject", "ListObjects"}, nil},
		{"ndjson with blank lines and a trailing newline", "\n" + ev1 + "\n\n" + ev2 + "\n\n", ShapeEvents, []any{"GetObject", "PutObject"}, nil},
		{"one pretty event", "{\n  \"eventName\": \"GetObject\"\n}\n", ShapeEvents, []any{"GetObject"}, nil},
		{"bare array", `[` + ev1 + `,` + ev2 + `]`, ShapeArray, []any{"GetObject", "PutObject"}, nil},
		{"empty array", `[]`, ShapeArray, nil, nil},
		{"envelope", `[{"_raw":"{\"eventName\":\"GetObject\",\"awsRegion\":\"r\"}","_time":1}]`, ShapeArray, []any{"GetObject"},
			[]string{"fields without a table column, kept in unmappedfields: _time", `1 events unwrapped from a "_raw" string envelope`}},
		{"empty input", "", ShapeEmpty, nil, []string{"empty object: no JSON value"}},
		{"only whitespace", " \n\t ", ShapeEmpty, nil, []string{"empty object: no JSON value"}},
		{"digest", `{"awsAccountId":"1","digestStartTime":"2015-08-20T17:01:31Z","digestPublicKeyFingerprint":"31e8","newestEventTime":null,"logFiles":[{"s3Object":"x","hashValue":"y"}]}`,
			ShapeDigest, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readString(t, tt.in)
			require.NoError(t, res.err)
			require.Empty(t, res.rejects)
			require.Equal(t, tt.shape, res.shape)
			require.Equal(t, tt.names, eventNames(res.rows))
			require.Equal(t, tt.warnings, res.warnings)
		})
	}
}

func TestEnvelopeKeepsItsOtherMembers(t *testing.T) {
	res := readString(t, `[{"_raw":"{\"eventName\":\"GetObject\",\"managementEvent\":false}","_time":1752159600,"cribl_breaker":"j"}]`)
	require.NoError(t, res.err)
	require.Len(t, res.rows, 1)
	require.Equal(t, `{"managementEvent":false,"_time":1752159600,"cribl_breaker":"j"}`, res.rows[0]["unmappedfields"])
}

func TestDigestIsFlagged(t *testing.T) {
	rd, err := NewReader(strings.NewReader(`{"awsAccountId":"1","digestS3Object":"x","logFiles":[]}`), Config{Object: "d.json"})
	require.NoError(t, err)
	defer rd.Release()
	require.False(t, rd.Next())
	require.NoError(t, rd.Err())
	require.True(t, rd.IsDigest())
	require.Equal(t, Stats{}, rd.Stats())
}

// TestNotLogObject: documents of another shape fail, naming the object.
func TestNotLogObject(t *testing.T) {
	for _, in := range []string{
		`"hello"`,
		`12`,
		`2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK`,
		`{"foo":1}`,
		`{}`,
		`{"Records":5}`,
		`{"Records":null}`,
		`[1,2]`,
		`[{"a":1}]`,
		`{"message":"x"}` + "\n" + ev1,
	} {
		t.Run(in, func(t *testing.T) {
			res := readAll(t, strings.NewReader(in), Config{Object: "AWSLogs/x/file.json"})
			require.ErrorIs(t, res.err, reader.ErrNotLogObject)
			require.Contains(t, res.err.Error(), "AWSLogs/x/file.json")
			require.Empty(t, res.rows)
		})
	}
}

// TestCorruptObject: broken framing stops the object, after the rows before it.
func TestCorruptObject(t *testing.T) {
	tests := []struct {
		name string
		in   string
		rows int
	}{
		{"truncated inside a record", `{"Records":[` + ev1 + `,{"eventName":"Put`, 1},
		{"truncated between records", `{"Records":[` + ev1 + `,`, 1},
		{"truncated before the end", `{"Records":[` + ev1 + `]`, 1},
		{"syntax error inside a record", `{"Records":[` + ev1 + `,{"eventName":tru},` + ev2 + `]}`, 1},
		{"missing comma between records", `{"Records":[` + ev1 + ev2 + `]}`, 1},
		{"garbage after the log", `{"Records":[` + ev1 + `]} x`, 1},
		{"truncated bare array", `[` + ev1, 1},
		{"truncated last event", ev1 + "\n" + `{"eventName":"x`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readString(t, tt.in)
			require.ErrorIs(t, res.err, reader.ErrCorruptObject)
			require.Contains(t, res.err.Error(), "test.json")
			require.Len(t, res.rows, tt.rows)
		})
	}
}

func TestReadErrorIsCorrupt(t *testing.T) {
	boom := errors.New("connection reset")
	in := io.MultiReader(strings.NewReader(`{"Records":[`+ev1+`,`), iotest.ErrReader(boom))
	res := readAll(t, in, Config{})
	require.ErrorIs(t, res.err, reader.ErrCorruptObject)
	require.ErrorIs(t, res.err, boom)
	require.Len(t, res.rows, 1)
}

// TestRejects: records that cannot be rows go to Reject, and reading goes on.
func TestRejects(t *testing.T) {
	deep := `{"eventName":"deep","requestParameters":` + strings.Repeat(`[`, 600) + strings.Repeat(`]`, 600) + `}`
	large := `{"eventName":"large","requestParameters":"` + strings.Repeat("x", 3000) + `"}`
	tests := []struct {
		name    string
		in      string
		cfg     Config
		names   []any
		lines   []int64
		reasons []string
		raws    []string
	}{
		{
			name:    "records that are not objects",
			in:      `{"Records":[1,` + ev1 + `,"x",null,[` + ev2 + `],` + ev3 + `]}`,
			names:   []any{"GetObject", "ListObjects"},
			lines:   []int64{1, 3, 4, 5},
			reasons: []string{"record is not a JSON object", "record is not a JSON object", "record is not a JSON object", "record is not a JSON object"},
			raws:    []string{`1`, `"x"`, `null`, `[` + ev2 + `]`},
		},
		{
			name:    "records without a CloudTrail field",
			in:      `{"Records":[` + ev1 + `,{},{"foo":"bar"}]}`,
			names:   []any{"GetObject"},
			lines:   []int64{2, 3},
			reasons: []string{"no CloudTrail event field", "no CloudTrail event field"},
			raws:    []string{`{}`, `{"foo":"bar"}`},
		},
		{
			name:    "broken lines between events",
			in:      ev1 + "\n{\"eventName\": tru}\n" + ev2 + "\nnot json\n" + ev3 + "\n",
			names:   []any{"GetObject", "PutObject", "ListObjects"},
			lines:   []int64{2, 4},
			reasons: []string{"invalid JSON", "line does not start an event object"},
			raws:    []string{`{"eventName": tru}`, `not json`},
		},
		{
			name:    "record nested too deep",
			in:      `{"Records":[` + ev1 + `,` + deep + `,` + ev2 + `]}`,
			names:   []any{"GetObject", "PutObject"},
			lines:   []int64{2},
			reasons: []string{"record nests deeper than 512 levels"},
			raws:    []string{deep},
		},
		{
			name:    "record larger than the limit",
			in:      `{"Records":[` + ev1 + `,` + large + `,` + ev2 + `]}`,
			cfg:     Config{MaxRecordBytes: 1000},
			names:   []any{"GetObject", "PutObject"},
			lines:   []int64{2},
			reasons: []string{"record larger than 1000 bytes"},
			raws:    []string{large},
		},
		{
			name:    "event larger than the limit between events",
			in:      ev1 + "\n" + large + "\n" + ev2,
			cfg:     Config{MaxRecordBytes: 1000},
			names:   []any{"GetObject", "PutObject"},
			lines:   []int64{2},
			reasons: []string{"record larger than 1000 bytes"},
			raws:    []string{large},
		},
		{
			name:    "broken envelope",
			in:      `[{"_raw":"{\"eventName\":","_time":1},` + ev1 + `]`,
			names:   []any{"GetObject"},
			lines:   []int64{1},
			reasons: []string{"_raw envelope: _raw holds a truncated JSON object"},
			raws:    []string{`{"_raw":"{\"eventName\":","_time":1}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, strings.NewReader(tt.in), tt.cfg)
			require.NoError(t, res.err)
			require.Equal(t, tt.names, eventNames(res.rows))
			require.Len(t, res.rejects, len(tt.lines))
			for i, rj := range res.rejects {
				require.Equal(t, "test.json", rj.Object)
				require.Equal(t, tt.lines[i], rj.Record, "reject %d", i)
				require.Contains(t, rj.Reason, tt.reasons[i])
				require.Equal(t, tt.raws[i], string(rj.Raw))
				require.False(t, rj.Truncated)
			}
		})
	}
}

func TestRejectRawIsBounded(t *testing.T) {
	huge := `{"eventName":"big","x":"` + strings.Repeat("y", reader.MaxRejectRawBytes*3) + `"}`
	res := readAll(t, strings.NewReader(`{"Records":[`+huge+`,`+ev1+`]}`), Config{MaxRecordBytes: 100 << 10})
	require.NoError(t, res.err)
	require.Equal(t, []any{"GetObject"}, eventNames(res.rows))
	require.Len(t, res.rejects, 1)
	require.True(t, res.rejects[0].Truncated)
	require.Len(t, res.rejects[0].Raw, reader.MaxRejectRawBytes)
	require.Equal(t, huge[:reader.MaxRejectRawBytes], string(res.rejects[0].Raw))
}

func TestChunkRows(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := range 7 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventName":"e%d"}`, i)
	}
	b.WriteString(`]}`)
	res := readAll(t, strings.NewReader(b.String()), Config{ChunkRows: 3})
	require.NoError(t, res.err)
	require.Equal(t, 3, res.batches)
	require.Equal(t, []any{"e0", "e1", "e2", "e3", "e4", "e5", "e6"}, eventNames(res.rows))
}

// TestReadBoundaries reads the same input whole, one byte per Read, and with
// buffers small enough that every record crosses a refill: the rows must be
// the same.
func TestReadBoundaries(t *testing.T) {
	in := gen.CloudTrailSample(7, 64<<10)
	whole := readAll(t, bytes.NewReader(in), Config{})
	require.NoError(t, whole.err)
	require.NotEmpty(t, whole.rows)
	oneByte := readAll(t, iotest.OneByteReader(bytes.NewReader(in)), Config{})
	require.NoError(t, oneByte.err)
	require.Equal(t, whole.rows, oneByte.rows)
	small := readAll(t, iotest.HalfReader(bytes.NewReader(in)), Config{MaxRecordBytes: 6 << 10, ChunkRows: 5})
	require.NoError(t, small.err)
	require.Empty(t, small.rejects)
	require.Equal(t, whole.rows, small.rows)
	// The same events one per line.
	var nd bytes.Buffer
	for _, r := range splitRecords(t, in) {
		nd.Write(r)
		nd.WriteByte('\n')
	}
	lines := readAll(t, iotest.OneByteReader(&nd), Config{})
	require.NoError(t, lines.err)
	require.Equal(t, whole.rows, lines.rows)
}

// splitRecords returns the raw records of a {"Records":[…]} document.
func splitRecords(t *testing.T, in []byte) [][]byte {
	t.Helper()
	d := newDecoder(DefaultMaxDepth)
	var out [][]byte
	i := bytes.IndexByte(in, '[') + 1
	for in[i] != ']' {
		end, err := d.decode(in[i:])
		require.NoError(t, err)
		out = append(out, in[i:i+end])
		i += end
		if in[i] == ',' {
			i++
		}
	}
	return out
}

func TestReaderNeverBuffersMoreThanTheLimit(t *testing.T) {
	// A record far larger than MaxRecordBytes is skipped in a streaming way:
	// the buffer stays at the limit.
	big := `{"eventName":"x","a":"` + strings.Repeat("z", 4<<20) + `"}`
	rd, err := NewReader(strings.NewReader(`{"Records":[`+big+`,`+ev1+`]}`), Config{MaxRecordBytes: 64 << 10})
	require.NoError(t, err)
	defer rd.Release()
	n := 0
	for rd.Next() {
		n += int(rd.RecordBatch().NumRows())
	}
	require.NoError(t, rd.Err())
	require.Equal(t, 1, n)
	require.LessOrEqual(t, len(rd.buf), 64<<10+readSize)
	require.Equal(t, Stats{Records: 2, Rows: 1, Rejected: 1}, rd.Stats())
}
