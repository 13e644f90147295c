package cloudtrail

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the JSON scanner: strict RFC 8259 validation over a byte
// slice, without building values. The decoder (record.go) walks the known
// fields of a record with it and keeps every other value as a raw byte span.
// It is tested against encoding/json (scan_test.go, FuzzScanValue).
//
// Every function reports errShort when it reaches the end of the slice before
// the value ends: the caller reads more input and starts the record again.

// errShort means the buffered bytes end inside a value.
var errShort = errors.New("cloudtrail: need more input")

// errTooDeep means a value nests deeper than maxDepth.
var errTooDeep = errors.New("nesting too deep")

// syntaxError is a JSON syntax error at an offset of the scanned slice.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

func syntaxErr(off int, format string, args ...any) error {
	return &syntaxError{off: off, msg: fmt.Sprintf(format, args...)}
}

// Flags of a scanned string.
const (
	strEscaped = 1 << iota // contains a backslash escape
	strHigh                // contains a byte >= 0x80
)

// strPlain marks the bytes a string may hold as they are: not '"', not '\\',
// not a control character, ASCII.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

var hexVal = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// specialBytes returns a mask with the high bit set of the bytes in v that
// are not plain in a string: '"', '\\', a control character or, with high
// set to swarHigh, a byte >= 0x80 (high zero leaves those out). A set bit can
// be wrong only above a right one (a borrow carried up from a lower special
// byte), so the lowest set bit always marks the first special byte.
func specialBytes(v, high uint64) uint64 {
	quote := v ^ (swarOnes * '"')
	backslash := v ^ (swarOnes * '\\')
	zeroQuote := (quote - swarOnes) &^ quote
	zeroBackslash := (backslash - swarOnes) &^ backslash
	// below has the high bit of a byte < 0x20 set, and of a byte >= 0xa0.
	below := v - swarOnes*0x20
	if high != 0 {
		// Every byte >= 0x80 is special too: v's high bits flag them
		// (those below flags among them included), one OR where the
		// general form takes three operations.
		return (zeroQuote | zeroBackslash | below | v) & swarHigh
	}
	return (zeroQuote | zeroBackslash | below&^v) & swarHigh
}

// hasSpecialByte reports whether one of the eight bytes in v is not plain in
// a string: '"', '\\', a control character or a byte >= 0x80.
func hasSpecialByte(v uint64) bool { return specialBytes(v, swarHigh) != 0 }

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the offset of the first non-whitespace byte at or after i.
// CloudTrail writes compact JSON, so the byte at i is nearly always a token:
// any byte above ' ' is, and one comparison settles it.
func skipSpace(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString scans the string starting with the quote at b[i] and returns the
// offset just past its closing quote and its flags.
func scanString(b []byte, i int) (int, uint8, error) {
	var flags uint8
	high := uint64(swarHigh) // stop at bytes >= 0x80 until one is flagged
	i++
	for {
		// The common case: a run of plain bytes, eight at a time, because
		// this loop is where most of the decoding time goes. The first
		// special byte of a word is found without a byte loop.
		for i+8 <= len(b) {
			if m := specialBytes(binary.LittleEndian.Uint64(b[i:]), high); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto special
			}
			i += 8
		}
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, flags, errShort
		}
	special:
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags, nil
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return i, flags, errShort
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return i, flags, errShort
				}
				for k := i + 2; k < i+6; k++ {
					if hexVal[b[k]] < 0 {
						return k, flags, syntaxErr(k, "invalid \\u escape")
					}
				}
				i += 6
			default:
				return i, flags, syntaxErr(i, "invalid escape \\%c", b[i+1])
			}
		case c < 0x20:
			return i, flags, syntaxErr(i, "control character 0x%02x in string", c)
		default:
			// A byte >= 0x80: flagged once; the word loop then passes
			// over them.
			flags |= strHigh
			high = 0
			i++
		}
	}
}

// scanNumber scans the number starting at b[i]. A number is only complete when
// a byte that cannot continue it follows, so the end of the slice is errShort.
func scanNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, errShort
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, syntaxErr(i, "invalid character %q in number", c)
	}
	if i >= len(b) {
		return i, errShort
	}
	if b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i >= len(b) {
			return i, errShort
		}
		if i == start {
			return i, syntaxErr(i, "missing digits after decimal point")
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i >= len(b) {
			return i, errShort
		}
		if i == start {
			return i, syntaxErr(i, "missing digits in exponent")
		}
	}
	return i, nil
}

// scanLiteral scans true, false or null at b[i].
func scanLiteral(b []byte, i int) (int, error) {
	var lit string
	switch b[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		lit = "null"
	}
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, errShort
		}
		if b[i+k] != lit[k] {
			return i + k, syntaxErr(i+k, "invalid literal")
		}
	}
	return i + len(lit), nil
}

// scanner validates whole values iteratively, so that the nesting depth costs
// no stack; it keeps its container stack between calls to avoid allocating.
type scanner struct {
	stack []byte // '{' or '[' per open container
	// high reports that the last value skipValue scanned has a string with
	// a byte >= 0x80; without one the value is ASCII, so valid UTF-8.
	high bool
}

// skipValue scans the value starting at b[i] (not whitespace) and returns the
// offset just past it. spaced reports whitespace between its tokens (so the
// value is not compact). depth is the nesting depth of the value's container;
// the value may nest until maxDepth.
func (s *scanner) skipValue(b []byte, i, depth, maxDepth int) (end int, spaced bool, err error) {
	s.stack = s.stack[:0]
	s.high = false
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return i, spaced, errShort
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+len(s.stack)+1 > maxDepth {
				return i, spaced, errTooDeep
			}
			j := skipSpace(b, i+1)
			spaced = spaced || j > i+1
			if j >= len(b) {
				return j, spaced, errShort
			}
			if (c == '{' && b[j] == '}') || (c == '[' && b[j] == ']') {
				i = j + 1
				break
			}
			s.stack = append(s.stack, c)
			i = j
			if c == '{' {
				if i, err = s.scanMemberName(b, i, &spaced); err != nil {
					return i, spaced, err
				}
			}
			continue
		case '"':
			var flags uint8
			if i, flags, err = scanString(b, i); err != nil {
				return i, spaced, err
			}
			s.high = s.high || flags&strHigh != 0
		case 't', 'f', 'n':
			if i, err = scanLiteral(b, i); err != nil {
				return i, spaced, err
			}
		default:
			if c != '-' && (c < '0' || c > '9') {
				return i, spaced, syntaxErr(i, "invalid character %q looking for a value", c)
			}
			if i, err = scanNumber(b, i); err != nil {
				return i, spaced, err
			}
		}
		// A value ended at i: close containers or move to the next element.
		for {
			if len(s.stack) == 0 {
				return i, spaced, nil
			}
			j := skipSpace(b, i)
			spaced = spaced || j > i
			if j >= len(b) {
				return j, spaced, errShort
			}
			top := s.stack[len(s.stack)-1]
			c := b[j]
			if c == ',' {
				i = skipSpace(b, j+1)
				spaced = spaced || i > j+1
				if top == '{' {
					if i, err = s.scanMemberName(b, i, &spaced); err != nil {
						return i, spaced, err
					}
				}
				break
			}
			if (c == '}' && top == '{') || (c == ']' && top == '[') {
				s.stack = s.stack[:len(s.stack)-1]
				i = j + 1
				continue
			}
			return j, spaced, syntaxErr(j, "invalid character %q after a value", c)
		}
	}
}

// scanMemberName scans `"name" :` and the whitespace after the colon, and
// returns the offset of the member's value.
func (s *scanner) scanMemberName(b []byte, i int, spaced *bool) (int, error) {
	if i >= len(b) {
		return i, errShort
	}
	if b[i] != '"' {
		return i, syntaxErr(i, "invalid character %q looking for an object key", b[i])
	}
	i, flags, err := scanString(b, i)
	if err != nil {
		return i, err
	}
	s.high = s.high || flags&strHigh != 0
	j := skipSpace(b, i)
	if j >= len(b) {
		return j, errShort
	}
	if b[j] != ':' {
		return j, syntaxErr(j, "invalid character %q after an object key", b[j])
	}
	k := skipSpace(b, j+1)
	if k > j+1 || j > i {
		*spaced = true
	}
	if k >= len(b) {
		return k, errShort
	}
	return k, nil
}

// appendCompact appends the valid JSON value v without whitespace between
// tokens. Strings are copied byte for byte.
func appendCompact(dst, v []byte) []byte {
	inString := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case isSpace(c):
			dst = append(dst, v[start:i]...)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}

// appendUnquoted appends the content of a valid JSON string (without its
// quotes), resolving escapes. As encoding/json does, it turns an invalid UTF-8
// byte and an unpaired surrogate escape into U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

func hex4(b []byte) rune {
	return rune(hexVal[b[0]])<<12 | rune(hexVal[b[1]])<<8 | rune(hexVal[b[2]])<<4 | rune(hexVal[b[3]])
}

// appendValidUTF8 appends b with every byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, as encoding/json does when it decodes.
func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}
