package vpcflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
)

// readAll reads every batch and returns the rows as Go values (nil for NULL,
// int64 for integers, string for strings), the column names of each batch's
// schema, and the rejects.
func readAll(t *testing.T, input string, cfg Config) (rows [][]any, schemas [][]string, rejects []reader.Reject, rd *Reader) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	cfg.Mem = mem
	cfg.Reject = func(r reader.Reject) {
		r.Raw = append([]byte(nil), r.Raw...)
		rejects = append(rejects, r)
	}
	rd, err := NewReader(strings.NewReader(input), cfg)
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
		rec := rd.RecordBatch()
		var names []string
		for _, f := range rec.Schema().Fields() {
			names = append(names, f.Name)
		}
		schemas = append(schemas, names)
		rows = append(rows, rowsOf(rec)...)
	}
	require.NoError(t, rd.Err())
	return rows, schemas, rejects, rd
}

func rowsOf(rec arrow.RecordBatch) [][]any {
	out := make([][]any, rec.NumRows())
	for i := range out {
		row := make([]any, rec.NumCols())
		for c, col := range rec.Columns() {
			if col.IsNull(i) {
				continue
			}
			switch a := col.(type) {
			case *array.Int32:
				row[c] = int64(a.Value(i))
			case *array.Int64:
				row[c] = a.Value(i)
			case *array.String:
				// A copy: the batch's buffers are reused once it is released.
				row[c] = strings.Clone(a.Value(i))
			default:
				panic("unexpected column type " + a.DataType().String())
			}
		}
		out[i] = row
	}
	return out
}

const v2Header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

var v2Columns = []string{"version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log_status"}

func TestReader(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		fields   []string
		columns  []string
		rows     [][]any
		rejects  []string // reasons, by substring
		rejected []int64  // their line numbers
	}{
		{
			name:    "v2 with header",
			input:   v2Header + "\n2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n",
			columns: v2Columns,
			rows: [][]any{{int64(2), "123456789010", "eni-1235b8ca123456789", "172.31.16.139", "172.31.16.21",
				int64(20641), int64(22), int64(6), int64(20), int64(4249), int64(1418530010), int64(1418530070), "ACCEPT", "OK"}},
		},
		{
			name:    "NODATA and SKIPDATA are rows with NULLs, no trailing newline",
			input:   v2Header + "\n2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
			columns: v2Columns,
			rows: [][]any{
				{int64(2), "123456789010", "eni-1235b8ca123456789", nil, nil, nil, nil, nil, nil, nil, int64(1431280876), int64(1431280934), nil, "NODATA"},
				{int64(2), "123456789010", "eni-11111111aaaaaaaaa", nil, nil, nil, nil, nil, nil, nil, int64(1431280876), int64(1431280934), nil, "SKIPDATA"},
			},
		},
		{
			name:    "account ids stay strings with leading zeros; IPv6; CRLF",
			input:   v2Header + "\r\n2 000000000000 eni-1 2001:db8::1 2001:db8::2 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK\r\n",
			columns: v2Columns,
			rows: [][]any{{int64(2), "000000000000", "eni-1", "2001:db8::1", "2001:db8::2",
				int64(34892), int64(22), int64(6), int64(54), int64(8855), int64(1477913708), int64(1477913820), "ACCEPT", "OK"}},
		},
		{
			name:    "custom order with bytes before packets",
			input:   "version srcaddr bytes packets start tcp-flags log-status\n3 10.0.0.1 568 8 1566848875 2 OK\n",
			columns: []string{"version", "srcaddr", "bytes", "packets", "start", "tcp_flags", "log_status"},
			rows:    [][]any{{int64(3), "10.0.0.1", int64(568), int64(8), int64(1566848875), int64(2), "OK"}},
		},
		{
			name:    "repeated header and blank lines are not records",
			input:   "version srcaddr start\n3 10.0.0.1 100\n\nversion srcaddr start\n3 10.0.0.2 200\n",
			columns: []string{"version", "srcaddr", "start"},
			rows:    [][]any{{int64(3), "10.0.0.1", int64(100)}, {int64(3), "10.0.0.2", int64(200)}},
		},
		{
			name:    "all-string custom format still recognises a repeated header",
			input:   "instance-id interface-id srcaddr\n- eni-1 10.0.1.5\ninstance-id interface-id srcaddr\ni-0123 eni-2 10.0.1.6\n",
			columns: []string{"instance_id", "interface_id", "srcaddr"},
			rows:    [][]any{{nil, "eni-1", "10.0.1.5"}, {"i-0123", "eni-2", "10.0.1.6"}},
		},
		{
			name:    "headerless with a field list in AWS log-format syntax",
			input:   "3 eni-3 123456789010 10.20.33.164 80 6 3 IPv4 ACCEPT OK\n",
			fields:  mustFields(t, "${version} ${interface-id} ${account-id} ${srcaddr} ${dstport} ${protocol} ${tcp-flags} ${type} ${action} ${log-status}"),
			columns: []string{"version", "interface_id", "account_id", "srcaddr", "dstport", "protocol", "tcp_flags", "type", "action", "log_status"},
			rows:    [][]any{{int64(3), "eni-3", "123456789010", "10.20.33.164", int64(80), int64(6), int64(3), "IPv4", "ACCEPT", "OK"}},
		},
		{
			name:    "headerless default format is recognised",
			input:   "2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 3 4 100 160 ACCEPT OK\n",
			columns: v2Columns,
			rows: [][]any{{int64(2), "123456789010", "eni-1", "1.2.3.4", "5.6.7.8",
				int64(1), int64(2), int64(6), int64(3), int64(4), int64(100), int64(160), "ACCEPT", "OK"}},
		},
		{
			name:     "wrong field counts and bad integers are rejected whole",
			input:    "version srcport bytes action\n2 80 100 ACCEPT\n2 80 100\n2 80 100 ACCEPT extra\n2 http 100 ACCEPT\n2 80 1e3 ACCEPT\n2 99999999999 1 ACCEPT\n2 -1 -5 ACCEPT\n",
			columns:  []string{"version", "srcport", "bytes", "action"},
			rows:     [][]any{{int64(2), int64(80), int64(100), "ACCEPT"}, {int64(2), int64(-1), int64(-5), "ACCEPT"}},
			rejects:  []string{"wrong number of fields: got 3, format has 4", "got 5, format has 4", "column srcport: not an integer", "column bytes: not an integer", "column srcport: not an integer"},
			rejected: []int64{3, 4, 5, 6, 7},
		},
		{
			name:    "JSON message wrapper (CloudWatch/Firehose shape)",
			input:   `{"message":"2 428961148399 eni-0e0bf7be352692297 - - - - - - - 1671029698 1671029728 - NODATA"}` + "\n",
			fields:  mustFields(t, v2Header),
			columns: v2Columns,
			rows: [][]any{{int64(2), "428961148399", "eni-0e0bf7be352692297", nil, nil, nil, nil, nil, nil, nil,
				int64(1671029698), int64(1671029728), nil, "NODATA"}},
		},
		{
			name:    "unknown header field becomes a string column",
			input:   "version future-field srcaddr\n9 something 10.0.0.1\n",
			columns: []string{"version", "future_field", "srcaddr"},
			rows:    [][]any{{int64(9), "something", "10.0.0.1"}},
		},
		{
			name:    "transit gateway v6 fields",
			input:   "version tgw-id packets-lost-no-route protocol log-status\n6 tgw-0abc 12 6 OK\n",
			columns: []string{"version", "tgw_id", "packets_lost_no_route", "protocol", "log_status"},
			rows:    [][]any{{int64(6), "tgw-0abc", int64(12), int64(6), "OK"}},
		},
		{
			name:    "empty object",
			input:   "",
			columns: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, schemas, rejects, rd := readAll(t, tc.input, Config{Object: "obj", Fields: tc.fields})
			require.Equal(t, tc.rows, rows)
			for _, s := range schemas {
				require.Equal(t, tc.columns, s)
			}
			require.Len(t, rejects, len(tc.rejects))
			for i, want := range tc.rejects {
				require.Contains(t, rejects[i].Reason, want)
				require.Equal(t, tc.rejected[i], rejects[i].Line)
				require.Equal(t, "obj", rejects[i].Object)
			}
			st := rd.Stats()
			require.Equal(t, st.Records, st.Rows+st.Rejected, "balance")
			require.Equal(t, int64(len(tc.rows)), st.Rows)
		})
	}
}

func mustFields(t *testing.T, s string) []string {
	f, err := ParseFieldList(s)
	require.NoError(t, err)
	return f
}

func TestRejectKeepsRawLineUntouched(t *testing.T) {
	line := "2 80 not-a-number ACCEPT"
	_, _, rejects, _ := readAll(t, "version srcport bytes action\n"+line+"\n", Config{Object: "o"})
	require.Len(t, rejects, 1)
	require.Equal(t, line, string(rejects[0].Raw))
	require.Equal(t, int64(2), rejects[0].Line)
}

func TestLayoutChangeMidObject(t *testing.T) {
	input := "version srcaddr\n2 10.0.0.1\nversion srcaddr dstport\n3 10.0.0.2 443\n"
	rows, schemas, _, _ := readAll(t, input, Config{Object: "o"})
	require.Equal(t, [][]string{{"version", "srcaddr"}, {"version", "srcaddr", "dstport"}}, schemas)
	require.Equal(t, [][]any{{int64(2), "10.0.0.1"}, {int64(3), "10.0.0.2", int64(443)}}, rows)
}

func TestChunking(t *testing.T) {
	var b strings.Builder
	b.WriteString("version start\n")
	for i := range 1000 {
		b.WriteString("2 ")
		b.WriteString(strings.Repeat("1", 1+i%9))
		b.WriteString("\n")
	}
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
}

func TestNoHeaderNoFields(t *testing.T) {
	_, err := NewReader(strings.NewReader("Phony unsupported log format.\n"), Config{Object: "bad.log"})
	require.ErrorIs(t, err, reader.ErrNoHeader)
	var pe *reader.ParseError
	require.True(t, errors.As(err, &pe))
	require.Equal(t, "bad.log", pe.Object)
	require.Contains(t, err.Error(), "--fields")
}

func TestLineTooLong(t *testing.T) {
	long := "2 " + strings.Repeat("9", 5000) + " x"
	rows, _, rejects, rd := readAll(t, "version bytes action\n"+long+"\n2 7 ACCEPT\n", Config{Object: "o", MaxLineBytes: 1000})
	require.Equal(t, [][]any{{int64(2), int64(7), "ACCEPT"}}, rows)
	require.Len(t, rejects, 1)
	require.Contains(t, rejects[0].Reason, "line too long")
	require.True(t, rejects[0].Truncated)
	require.Equal(t, int64(2), rejects[0].Line)
	require.Equal(t, rd.Stats().Records, rd.Stats().Rows+rd.Stats().Rejected)
}

func TestParseFieldList(t *testing.T) {
	f, err := ParseFieldList("${version} ${account-id}  ${srcaddr}")
	require.NoError(t, err)
	require.Equal(t, []string{"version", "account-id", "srcaddr"}, f)
	f, err = ParseFieldList("version,account-id srcaddr")
	require.NoError(t, err)
	require.Equal(t, []string{"version", "account-id", "srcaddr"}, f)
	_, err = ParseFieldList("${version")
	require.Error(t, err)
	_, err = ParseFieldList("")
	require.Error(t, err)
	_, err = ParseFieldList("Version 2")
	require.Error(t, err)
}

func TestParseInt(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "42": 42, "-7": -7, "+3": 3, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63} {
		v, ok := parseInt([]byte(in))
		require.True(t, ok, in)
		require.Equal(t, want, v, in)
	}
	for _, in := range []string{"", "-", "+", "1.5", "1e3", "9223372036854775808", "12345678901234567890", " 1", "0x10"} {
		_, ok := parseInt([]byte(in))
		require.False(t, ok, in)
	}
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	rows, _, rejects, rd := readAll(t, "version srcaddr action\n2 10.0.0.\xff ACC\xc3EPT\n2 1\xfe 3\n", Config{Object: "o"})
	require.Empty(t, rejects)
	require.Equal(t, [][]any{{int64(2), "10.0.0.\uFFFD", "ACC\uFFFDEPT"}, {int64(2), "1\uFFFD", "3"}}, rows)
	require.Equal(t, int64(2), rd.Stats().RepairedUTF8)
}

func TestByteOrderMarkBeforeHeader(t *testing.T) {
	rows, schemas, rejects, _ := readAll(t, "\xef\xbb\xbfversion srcport action\n2 80 ACCEPT\n", Config{Object: "o"})
	require.Empty(t, rejects)
	require.Equal(t, [][]string{{"version", "srcport", "action"}}, schemas)
	require.Equal(t, [][]any{{int64(2), int64(80), "ACCEPT"}}, rows)
}

func TestHostileHeaderIsNotAHeader(t *testing.T) {
	// One known name repeated between unknown ones: not a header, so the
	// object fails as having none instead of making thousands of columns.
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "version f%d ", i)
	}
	_, err := NewReader(strings.NewReader(b.String()+"\n2 1\n"), Config{Object: "o"})
	require.ErrorIs(t, err, reader.ErrNoHeader)

	// Too many fields, even all documented ones repeated.
	many := strings.TrimSpace(strings.Repeat(v2Header+" ", MaxFields/14+1))
	_, err = NewReader(strings.NewReader(many+"\n"), Config{Object: "o"})
	require.ErrorIs(t, err, reader.ErrNoHeader)
	_, err = ParseFieldList(many)
	require.ErrorContains(t, err, "more than")
}

func TestBatchAfterHugeLinesIsSizedSanely(t *testing.T) {
	// Batches cut short by their text size used to size the next batch's
	// string buffers as if every row were as long: gigabytes.
	var b strings.Builder
	b.WriteString("version interface-id\n")
	huge := strings.Repeat("x", 1<<20)
	for range 70 {
		b.WriteString("2 eni-" + huge + "\n")
	}
	b.WriteString("2 eni-small\n")
	rows, _, rejects, _ := readAll(t, b.String(), Config{Object: "o", MaxLineBytes: 2 << 20, ChunkRows: 1 << 16})
	require.Empty(t, rejects)
	require.Len(t, rows, 71)
	require.Equal(t, "eni-small", rows[70][1])
}

func TestTrailingBlanksAndWrappedHeaderlessLines(t *testing.T) {
	rows, _, rejects, _ := readAll(t, "version srcport action\n2 80 ACCEPT \t\n2 81 REJECT\n2 82 \n", Config{Object: "o"})
	require.Empty(t, rejects)
	// The last line fits the format as it is: its last field is empty.
	require.Equal(t, [][]any{{int64(2), int64(80), "ACCEPT"}, {int64(2), int64(81), "REJECT"}, {int64(2), int64(82), ""}}, rows)

	// A headerless default-format file whose lines end in a blank.
	line := "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1638664800 1638664860 ACCEPT OK "
	rows, _, rejects, _ = readAll(t, line+"\n"+line+"\n", Config{Object: "o"})
	require.Empty(t, rejects)
	require.Len(t, rows, 2)

	// Files joined with cat: a byte-order mark before the second header.
	rows, _, rejects, _ = readAll(t, "\xef\xbb\xbfversion srcport\n2 80\n\xef\xbb\xbfversion srcport\n2 81\n", Config{Object: "o"})
	require.Empty(t, rejects)
	require.Equal(t, [][]any{{int64(2), int64(80)}, {int64(2), int64(81)}}, rows)

	// A CloudWatch/Firehose export: default-format lines wrapped in JSON and
	// no header; read as the default format without --fields.
	wrapped := `{"message":"2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1638664800 1638664860 ACCEPT OK"}` + "\n"
	rows, schemas, rejects, rd := readAll(t, wrapped, Config{Object: "o"})
	require.Empty(t, rejects)
	require.True(t, rd.AssumedDefaultFormat())
	require.Equal(t, v2Columns, schemas[0])
	require.Equal(t, []any{int64(2), "123456789012", "eni-0a1b2c3d", "10.0.0.1", "10.0.0.2", int64(443), int64(49152),
		int64(6), int64(10), int64(840), int64(1638664800), int64(1638664860), "ACCEPT", "OK"}, rows[0])
}

// The next batch's string buffers together stay within the batch text
// limit, however many string columns share it.
func TestBatchHintsBoundedInTotal(t *testing.T) {
	names := []string{"version"}
	for i := range 41 {
		names = append(names, fmt.Sprintf("f%d", i))
	}
	rd := &Reader{unknown: map[string]bool{}}
	l := rd.newLayout(names, nil)
	var b batch
	b.reset(l, 1<<16)
	field := strings.Repeat("x", 22<<10)
	line := []byte("2")
	ends := []int32{1}
	for i := range names {
		if i > 0 {
			line = append(append(line, ' '), field...)
			ends = append(ends, int32(len(line)))
		}
	}
	for !b.full() {
		b.appendRow(line, ends, nil)
	}
	rows := b.rows
	require.Less(t, rows, 100, "cut by text size")
	b.reset(l, 1<<16)
	require.Equal(t, minBatchRows, b.maxRows, "after a batch cut by text, room for fewer rows")
	require.Len(t, b.columns[0].i32, minBatchRows)
	total := 0
	for _, c := range b.columns {
		total += cap(c.data)
	}
	require.LessOrEqual(t, total, maxBatchTextBytes+len(names))
	require.Greater(t, total, maxBatchTextBytes/2, "still sized from the previous batch")
}

// handleLine takes a line that starts with a digit straight to parsing;
// every other line still goes through the checks for a byte-order mark,
// blanks and headers, mid-object too: a data line after a mark, blank
// lines, a repeated header with and without a mark, a changed header.
func TestLinesThatAreNotPlainData(t *testing.T) {
	in := "version srcport action\n" +
		"2 80 ACCEPT\n" +
		"\xef\xbb\xbf2 81 ACCEPT\n" +
		"   \n\t\n\n" +
		"version srcport action\n" +
		"\xef\xbb\xbfversion srcport action\n" +
		"2 82 REJECT\n" +
		"3 x\n" +
		"version action\n" +
		"4 OK\n"
	rows, schemas, rejects, rd := readAll(t, in, Config{Object: "o"})
	require.Equal(t, [][]any{{int64(2), int64(80), "ACCEPT"}, {int64(2), int64(81), "ACCEPT"},
		{int64(2), int64(82), "REJECT"}, {int64(4), "OK"}}, rows)
	require.Equal(t, [][]string{{"version", "srcport", "action"}, {"version", "action"}}, schemas)
	require.Len(t, rejects, 1)
	require.Equal(t, "3 x", string(rejects[0].Raw))
	require.Equal(t, int64(10), rejects[0].Line)
	require.Equal(t, Stats{Lines: 12, Records: 5, Rows: 4, Rejected: 1, Headers: 4}, rd.Stats())
}
