package reader

import (
	"errors"
	"fmt"
)

// Sentinel errors for parse failures. A ParseError wraps one of them.
var (
	// ErrFieldCount means a line has more or fewer fields than its header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrBadInt means a numeric column holds something that is not an integer
	// of the column's width.
	ErrBadInt = errors.New("not an integer")
	// ErrLineTooLong means a line is longer than the configured maximum.
	ErrLineTooLong = errors.New("line too long")
	// ErrNoHeader means a flow-log object has no header line and no field list
	// was given.
	ErrNoHeader = errors.New("no header line and no field list")
	// ErrBadRecord means a record could not be decoded (JSON formats).
	ErrBadRecord = errors.New("malformed record")
	// ErrNotLogObject means an object does not have the top-level shape of the
	// log kind (for example a CloudTrail file without a Records array).
	ErrNotLogObject = errors.New("not a log object of this kind")
	// ErrCorruptObject means the object's bytes are damaged: a truncated or
	// corrupt compressed stream, or a read failure.
	ErrCorruptObject = errors.New("corrupt object")
)

// ParseError is a failure positioned in an object: which object, which line
// (1-based) or, in JSON objects, which record, which column, and why.
type ParseError struct {
	Object string // object key or path
	Line   int64  // 1-based line number (0 when not known or not a line)
	Record int64  // 1-based record index in a JSON object (0 for lines)
	Column string // column name, if the error is about one column
	Err    error  // one of the sentinels above, possibly wrapped
}

func (e *ParseError) Error() string {
	switch {
	case e.Record > 0:
		return fmt.Sprintf("%s: record %d: %v", e.Object, e.Record, e.Err)
	case e.Column != "":
		return fmt.Sprintf("%s:%d: column %s: %v", e.Object, e.Line, e.Column, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.Object, e.Line, e.Err)
	default:
		return fmt.Sprintf("%s: %v", e.Object, e.Err)
	}
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reject is one input line or record that did not become a row.
type Reject struct {
	Object string // object key or path
	Line   int64  // 1-based line number (0 for records of JSON objects)
	Record int64  // 1-based record index in a JSON object (0 for lines)
	Reason string // why it was rejected
	Raw    []byte // the line or record, untouched (possibly truncated, see Truncated)
	// Truncated says Raw holds only the first MaxRejectRawBytes of a longer line.
	Truncated bool
}

// RejectFunc receives rejects. Raw is only valid during the call: copy it to
// keep it.
type RejectFunc func(Reject)

// MaxRejectRawBytes bounds how much of an over-long line a reject keeps.
const MaxRejectRawBytes = 64 << 10
