package s3access

import (
	"bytes"
	"errors"
)

// Field positions (0-based) in an access-log line; they are also the column
// positions of schema.S3AccessSchema.
const (
	fieldTime       = 2
	fieldRequestURI = 8
	fieldHTTPStatus = 9
	fieldBytesSent  = 11
	fieldObjectSize = 12
	fieldReferrer   = 15
	fieldUserAgent  = 16
	fieldVersionID  = 17
	fieldSigV       = 19
)

const (
	// NumFields is the number of documented fields (through sourceregion).
	NumFields = 27
	// MandatoryFields is the number of fields a line must have: the 18
	// mandatory groups of AWS's Athena regex, through versionid. Lines of the
	// older formats (24 to 26 fields) and the current one (27) all have them.
	MandatoryFields = 18
)

// Tokenizer failures. The reader reports them as reader.ErrFieldCount: a line
// whose structure breaks has, in effect, lost its fields.
var (
	errNoTime      = errors.New("no [bracketed] request time")
	errOpenBracket = errors.New("unterminated [request time]")
	errOpenQuote   = errors.New("unterminated quoted field")
)

// fields is one line split into its documented fields. The slices point into
// the line.
type fields struct {
	v     [NumFields][]byte
	n     int   // fields present, at most NumFields
	extra int   // fields after the last documented one
	sec   int64 // Unix seconds of the request time, set by parseLine
}

// splitLine splits an access-log line into fields. Fields are separated by
// single spaces, except that the time is everything between '[' and ']' and
// that the request-URI, referrer and user agent may be quoted; the quotes are
// removed from the value.
//
// AWS writes quotes inside those values unescaped (docs/formats.md §3.2), so a
// quoted field cannot simply end at the next '"'. It ends at a '"' followed by
// a space or the end of the line, chosen so that the rest of the line still
// tokenizes:
//   - request-URI: the first such '"' after which the next six fields have
//     their shapes (status "-" or digits, an error code, then four "-" or
//     integers); a request line has no spaces of its own besides the two
//     around the URI, so this finds `"GET /a" HTTP/1.1"` whole.
//   - user agent: the first such '"' after which the documented fields left
//     (version id, host id, signature version, cipher, auth type, host
//     header, TLS version, ARN, Yes, region) are bare tokens without quotes
//     and the signature version, if present, is "-" or SigV… (tailOK). A
//     user agent containing `" "` therefore stays one field.
//   - referrer: the first '"' that is followed by a space and a user agent
//     that can close by that rule. When both the referrer and the user agent
//     contain `" "` the split is ambiguous; this gives the referrer the
//     shortest value, since it is a URL, and user agents carry quotes more
//     often.
//
// When no candidate satisfies its rule, the first '"' followed by a space or
// the end is used, and later checks (field count, integers) decide.
func splitLine(line []byte, f *fields) error {
	f.n, f.extra = 0, 0
	n := len(line)
	uaClose := -1 // the user agent's closing quote, found while closing the referrer
	pos := 0
	for idx := 0; ; idx++ {
		if idx == NumFields {
			f.extra = bytes.Count(line[pos:], []byte{' '}) + 1
			return nil
		}
		var start, end int
		switch {
		case idx == fieldTime:
			if pos >= n || line[pos] != '[' {
				return errNoTime
			}
			j := bytes.IndexByte(line[pos:], ']')
			if j < 0 {
				return errOpenBracket
			}
			start, end = pos+1, pos+j
			if end+1 < n && line[end+1] != ' ' {
				return errOpenBracket
			}
			f.v[idx] = line[start:end]
			end++ // past ']'
		case pos < n && line[pos] == '"' && (idx == fieldRequestURI || idx == fieldReferrer || idx == fieldUserAgent):
			c := -1
			switch idx {
			case fieldRequestURI:
				c = closeRequestURI(line, pos)
			case fieldReferrer:
				c, uaClose = closeReferrer(line, pos)
			default:
				c = uaClose
				if c < 0 {
					c = closeUserAgent(line, pos)
				}
			}
			if c < 0 {
				return errOpenQuote
			}
			f.v[idx] = line[pos+1 : c]
			end = c + 1
		default:
			j := bytes.IndexByte(line[pos:], ' ')
			if j < 0 {
				j = n - pos
			}
			end = pos + j
			f.v[idx] = line[pos:end]
		}
		f.n = idx + 1
		if end >= n {
			return nil
		}
		pos = end + 1 // line[end] is the separating space
	}
}

// nextClose returns the first '"' at or after from that is followed by a
// space or the end of the line, or -1.
func nextClose(line []byte, from int) int {
	for from < len(line) {
		j := bytes.IndexByte(line[from:], '"')
		if j < 0 {
			return -1
		}
		c := from + j
		if c+1 == len(line) || line[c+1] == ' ' {
			return c
		}
		from = c + 1
	}
	return -1
}

// closeRequestURI returns the closing quote of the request-URI that opens at
// open (see splitLine), or -1 if it never closes.
func closeRequestURI(line []byte, open int) int {
	first := nextClose(line, open+1)
	for c := first; c >= 0; c = nextClose(line, c+1) {
		if uriTailOK(line[c+1:]) {
			return c
		}
	}
	return first
}

// uriTailOK reports whether rest (what follows a candidate closing quote of
// the request-URI) starts with " status error bytes size total turnaround "
// in their shapes, followed by more fields.
func uriTailOK(rest []byte) bool {
	for i := fieldHTTPStatus; i <= fieldReferrer; i++ {
		if len(rest) == 0 || rest[0] != ' ' {
			return false
		}
		rest = rest[1:]
		if i == fieldReferrer {
			return len(rest) > 0
		}
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			return false
		}
		tok := rest[:j]
		// The error code (field 11) is free text without spaces; the others
		// are "-" or digits.
		if i != fieldHTTPStatus+1 && !isDashOrDigits(tok) {
			return false
		}
		rest = rest[j:]
	}
	return false
}

func isDashOrDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) == 1 && b[0] == '-' {
		return true
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// tailOK reports whether what follows a candidate closing quote at c can be
// fields first, first+1, … of a line: none of them (up to the last documented
// field) contains a quote, and the signature version, if the line reaches it,
// is "-" or SigV…. The documented fields after the user agent are all bare
// tokens; fields after the 27th are not looked at, so that a quoted field AWS
// may append one day cannot pull the user agent's end past it.
func tailOK(line []byte, c, first int) bool {
	pos := c + 1
	for i := first; i < NumFields; i++ {
		if pos >= len(line) {
			return true // the line ends here: the later fields are optional
		}
		pos++ // the separating space (a candidate is followed by one)
		end := len(line)
		if j := bytes.IndexByte(line[pos:], ' '); j >= 0 {
			end = pos + j
		}
		tok := line[pos:end]
		if bytes.IndexByte(tok, '"') >= 0 {
			return false
		}
		if i == fieldSigV && !(isNull(tok) || bytes.HasPrefix(tok, []byte("SigV"))) {
			return false
		}
		pos = end
	}
	return true
}

// uaCloser finds closing quotes of a quoted user agent: the first candidate
// after the opening quote that passes tailOK. The candidates that pass do not
// depend on where the user agent opens, so successive queries with growing
// openings resume where the last one stopped and a line costs O(n) in all.
type uaCloser struct {
	line  []byte
	valid int // the last valid close found, or -1
	next  int // where scanning for candidates resumes
}

func newUACloser(line []byte) uaCloser { return uaCloser{line: line, valid: -1} }

// after returns the first valid close after the opening quote at open, or -1.
func (u *uaCloser) after(open int) int {
	if u.valid > open {
		return u.valid
	}
	for c := nextClose(u.line, max(u.next, open+1)); c >= 0; c = nextClose(u.line, c+1) {
		if tailOK(u.line, c, fieldVersionID) {
			u.valid, u.next = c, c+1
			return c
		}
	}
	u.valid, u.next = -1, len(u.line)
	return -1
}

// closeUserAgent returns the closing quote of the user agent that opens at
// open (see splitLine); the first candidate if none passes, or -1.
func closeUserAgent(line []byte, open int) int {
	u := newUACloser(line)
	if c := u.after(open); c >= 0 {
		return c
	}
	return nextClose(line, open+1)
}

// closeReferrer returns the closing quote of the referrer that opens at open,
// and the closing quote of a quoted user agent after it (-1 if the user agent
// is bare or was not resolved).
func closeReferrer(line []byte, open int) (refClose, uaClose int) {
	ua := newUACloser(line)
	first := nextClose(line, open+1)
	for c := first; c >= 0; c = nextClose(line, c+1) {
		next := c + 2
		if next >= len(line) {
			break // the line ends at the referrer: too few fields
		}
		if line[next] != '"' {
			// A bare user agent ("-") starts the tail.
			if tailOK(line, c, fieldUserAgent) {
				return c, -1
			}
			continue
		}
		if u := ua.after(next); u >= 0 {
			return c, u
		}
	}
	return first, -1
}
