package reader

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
)

func lines(t *testing.T, input string, max int) (got []string, errs []error) {
	t.Helper()
	lr := NewLineReader(strings.NewReader(input), max)
	for {
		l, err := lr.Next()
		if err == io.EOF {
			return
		}
		got = append(got, string(l))
		errs = append(errs, err)
	}
}

func TestLineReader(t *testing.T) {
	got, errs := lines(t, "a\nbb\r\n\nlast", 0)
	require.Equal(t, []string{"a", "bb", "", "last"}, got)
	require.Equal(t, []error{nil, nil, nil, nil}, errs)

	got, _ = lines(t, "", 0)
	require.Empty(t, got)
	got, _ = lines(t, "\n", 0)
	require.Equal(t, []string{""}, got)
}

func TestLineReaderLongLines(t *testing.T) {
	// Lines longer than the internal buffer are assembled up to the limit;
	// beyond it they are truncated, reported and skipped.
	big := strings.Repeat("x", lineBufferSize*2+10)
	huge := strings.Repeat("y", lineBufferSize*5)
	input := big + "\n" + huge + "\nafter\n" + huge
	lr := NewLineReader(strings.NewReader(input), lineBufferSize*3)
	l, err := lr.Next()
	require.NoError(t, err)
	require.Equal(t, big, string(l))
	l, err = lr.Next()
	require.ErrorIs(t, err, ErrLineTooLong)
	require.Len(t, l, MaxRejectRawBytes)
	require.Equal(t, int64(2), lr.Line())
	l, err = lr.Next()
	require.NoError(t, err)
	require.Equal(t, "after", string(l))
	require.Equal(t, int64(3), lr.Line())
	_, err = lr.Next() // over-long last line without newline
	require.ErrorIs(t, err, ErrLineTooLong)
	_, err = lr.Next()
	require.Equal(t, io.EOF, err)
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func decodeAll(t *testing.T, data []byte) (string, bool, error) {
	t.Helper()
	d, err := Decode(io.NopCloser(bytes.NewReader(data)))
	if err != nil {
		return "", false, err
	}
	defer d.Close()
	out, err := io.ReadAll(d)
	return string(out), d.Gzip, err
}

func TestDecode(t *testing.T) {
	out, isGzip, err := decodeAll(t, []byte("plain text\n"))
	require.NoError(t, err)
	require.False(t, isGzip)
	require.Equal(t, "plain text\n", out)

	// Concatenated gzip members read as one stream.
	two := append(gz(t, "first\n"), gz(t, "second\n")...)
	out, isGzip, err = decodeAll(t, two)
	require.NoError(t, err)
	require.True(t, isGzip)
	require.Equal(t, "first\nsecond\n", out)

	out, _, err = decodeAll(t, nil)
	require.NoError(t, err)
	require.Empty(t, out)
}

func TestDecodeCorrupt(t *testing.T) {
	data := gz(t, strings.Repeat("flow log line\n", 5000))
	_, _, err := decodeAll(t, data[:len(data)/2])
	require.ErrorIs(t, err, ErrCorruptObject, "truncated")

	bad := append([]byte(nil), data...)
	bad[len(bad)-6] ^= 0xff // CRC
	_, _, err = decodeAll(t, bad)
	require.ErrorIs(t, err, ErrCorruptObject, "checksum")

	_, _, err = decodeAll(t, []byte{0x1f, 0x8b, 0, 0})
	require.ErrorIs(t, err, ErrCorruptObject, "bad header")
}

func TestParseErrorMessage(t *testing.T) {
	e := &ParseError{Object: "a/b.log.gz", Line: 7, Column: "bytes", Err: ErrBadInt}
	require.Equal(t, "a/b.log.gz:7: column bytes: not an integer", e.Error())
	require.ErrorIs(t, e, ErrBadInt)
	require.Equal(t, "a/b.log.gz: corrupt object", (&ParseError{Object: "a/b.log.gz", Err: ErrCorruptObject}).Error())
	require.Equal(t, "t.json.gz: record 3: malformed record", (&ParseError{Object: "t.json.gz", Record: 3, Err: ErrBadRecord}).Error())
}

func TestDecodeAhead(t *testing.T) {
	text := strings.Repeat("0123456789abcdef\n", 100000) // several read-ahead blocks
	d, err := DecodeAhead(io.NopCloser(bytes.NewReader(gz(t, text))))
	require.NoError(t, err)
	out, err := io.ReadAll(d)
	require.NoError(t, err)
	require.Equal(t, text, string(out))
	require.NoError(t, d.Close())

	// Corruption surfaces through the read-ahead, and Close does not hang
	// when the reader stops early.
	data := gz(t, text)
	d, err = DecodeAhead(io.NopCloser(bytes.NewReader(data[:len(data)/2])))
	require.NoError(t, err)
	_, err = io.ReadAll(d)
	require.ErrorIs(t, err, ErrCorruptObject)
	require.NoError(t, d.Close())

	d, err = DecodeAhead(io.NopCloser(bytes.NewReader(gz(t, text))))
	require.NoError(t, err)
	buf := make([]byte, 10)
	_, err = d.Read(buf)
	require.NoError(t, err)
	require.NoError(t, d.Close())
}

// trimEOL removes what bytes.TrimSuffix removes, first "\n" then "\r".
func TestTrimEOL(t *testing.T) {
	for _, s := range []string{"", "\n", "\r", "\r\n", "\n\r", "\r\r\n", "\n\n", "a", "a\n", "a\r", "a\r\n", "a\n\r", "a\r\r", "\ra"} {
		want := bytes.TrimSuffix(bytes.TrimSuffix([]byte(s), []byte{'\n'}), []byte{'\r'})
		if got := trimEOL([]byte(s)); !bytes.Equal(got, want) {
			t.Errorf("trimEOL(%q) = %q, want %q", s, got, want)
		}
	}
}
