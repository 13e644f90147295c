package reader

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxLineBytes bounds one line of a text log. Flow-log and access-log
// lines are far below 16 KiB; a longer line is rejected, not buffered.
const DefaultMaxLineBytes = 1 << 20

const lineBufferSize = 256 << 10

// LineReader splits a stream into lines of at most Max bytes without holding
// more than Max bytes of one line in memory. Lines end at '\n'; a trailing
// '\r' is removed. The last line need not end with a newline.
type LineReader struct {
	r    *bufio.Reader
	max  int
	line int64  // number of the line last returned
	long []byte // assembles lines longer than the bufio buffer
}

// NewLineReader reads lines from r. max <= 0 means DefaultMaxLineBytes.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	return &LineReader{r: bufio.NewReaderSize(r, lineBufferSize), max: max}
}

// Line returns the 1-based number of the line last returned by Next.
func (l *LineReader) Line() int64 { return l.line }

// Next returns the next line without its line ending. The slice is valid only
// until the next call. At the end it returns io.EOF. A line longer than the
// maximum is returned truncated to MaxRejectRawBytes with ErrLineTooLong; the
// rest of it is skipped. Any other error comes from the underlying reader.
func (l *LineReader) Next() ([]byte, error) {
	b, err := l.r.ReadSlice('\n')
	if err == nil || (err == io.EOF && len(b) > 0) {
		l.line++
		if b = trimEOL(b); len(b) > l.max {
			return b[:min(len(b), MaxRejectRawBytes)], ErrLineTooLong
		}
		return b, nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	// A line longer than the buffer: assemble it, up to the maximum.
	l.line++
	l.long = append(l.long[:0], b...)
	for {
		b, err = l.r.ReadSlice('\n')
		if len(l.long)+len(b) > l.max {
			keep := min(len(l.long), MaxRejectRawBytes)
			l.long = l.long[:keep]
			if skipErr := l.skipLine(err); skipErr != nil {
				return nil, skipErr
			}
			return l.long, ErrLineTooLong
		}
		l.long = append(l.long, b...)
		switch {
		case err == nil || (err == io.EOF && len(l.long) > 0):
			return trimEOL(l.long), nil
		case err != bufio.ErrBufferFull:
			return nil, err
		}
	}
}

// skipLine discards the rest of the current line. err is the error of the last
// ReadSlice, whose bytes were already consumed.
func (l *LineReader) skipLine(err error) error {
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = l.r.ReadSlice('\n')
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// trimEOL removes a trailing '\n', then a trailing '\r'; written out, as it runs
// for every line, where bytes.TrimSuffix compares by a call.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// TrimBOM removes a UTF-8 byte-order mark from the start of b. Files saved by
// Windows tools start with one, and files joined with cat carry more inside.
func TrimBOM(b []byte) []byte {
	return bytes.TrimPrefix(b, utf8BOM)
}

var utf8BOM = []byte("\xef\xbb\xbf")
