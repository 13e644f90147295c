package cloudtrail

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The lowest bit specialBytes sets marks the first special byte of the word,
// whatever the bytes after it are (a borrow can only flag bytes above a
// special one), and with high zero bytes >= 0x80 are not special.
func TestSpecialBytesFindsTheFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for c := range 256 {
		for pos := range 8 {
			for trial := range 20 {
				var w [8]byte
				for k := range w {
					switch {
					case k < pos:
						w[k] = "abcdefgh"[k]
						if trial%2 == 1 {
							w[k] = 0xc3 // plain only when high is zero
						}
					case k == pos:
						w[k] = byte(c)
					default:
						w[k] = byte(rng.IntN(256))
					}
				}
				v := binary.LittleEndian.Uint64(w[:])
				for _, high := range []uint64{swarHigh, 0} {
					special := func(b byte) bool { return !strPlain[b] && (high != 0 || b < 0x80) }
					want := 8
					for k := range w {
						if special(w[k]) {
							want = k
							break
						}
					}
					got := 8
					if m := specialBytes(v, high); m != 0 {
						got = bits.TrailingZeros64(m) >> 3
					}
					require.Equal(t, want, got, "word % x, high %#x", w, high)
				}
			}
		}
	}
}

// refScanString is scanString one byte at a time, as it was before the word
// loop found special bytes itself.
func refScanString(b []byte, i int) (int, uint8, error) {
	var flags uint8
	for i++; i < len(b); {
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
						return k, flags, &syntaxError{off: k}
					}
				}
				i += 6
			default:
				return i, flags, &syntaxError{off: i}
			}
		case c < 0x20:
			return i, flags, &syntaxError{off: i}
		default:
			if c >= 0x80 {
				flags |= strHigh
			}
			i++
		}
	}
	return i, flags, errShort
}

func requireScanStringAgrees(t *testing.T, b []byte) {
	end, flags, err := scanString(b, 0)
	wantEnd, wantFlags, wantErr := refScanString(b, 0)
	require.Equal(t, wantEnd, end, "end of %q", b)
	require.Equal(t, wantFlags, flags, "flags of %q", b)
	var se, wantSE *syntaxError
	require.Equal(t, errors.As(wantErr, &wantSE), errors.As(err, &se), "syntax error of %q: %v", b, err)
	require.Equal(t, errors.Is(wantErr, errShort), errors.Is(err, errShort), "short %q: %v", b, err)
	if wantSE != nil {
		require.Equal(t, wantSE.off, se.off, "error offset in %q", b)
	}
}

// Strings of plain runs, multi-byte UTF-8, escapes, quotes and control
// characters at every offset from a word boundary, cut at every length.
func TestScanStringAgreesByteByByte(t *testing.T) {
	pieces := []string{"a", "abcdefghij", "é", "😀", "\xff", `\n`, `\u00e9`, `\"`, `\\`, `\x`, `\u12G4`, "\x01", "\x1f", "\x7f", `"`}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		b := []byte{'"'}
		for n := rng.IntN(8); n > 0; n-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		b = append(b, pieces[rng.IntN(len(pieces))]...)
		b = append(b, `"tail"`...)
		for cut := 1; cut <= len(b); cut++ {
			requireScanStringAgrees(t, b[:cut])
		}
	}
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"é\n\u00e9"`, "\"abcdefgh\xffijklmnop\"", "\"a\x01\"", `"\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		requireScanStringAgrees(t, append([]byte{'"'}, data...))
	})
}

// A JSON-text column that is all ASCII is kept as it is; one with invalid
// UTF-8 in a string or in a member name has it replaced, as encoding/json
// decodes it.
func TestJSONTextUTF8(t *testing.T) {
	r := readString(t, "{\"eventName\":\"X\",\"requestParameters\":{\"a\":\"b\",\"n\":[1,true]},"+
		"\"responseElements\":{\"k\xff\":\"v\"},\"additionalEventData\":{\"k\":\"v\xfe\"},\"serviceEventDetails\":[\"\xfe\"],"+
		"\"edgeDeviceDetails\":{\"é\":\"é\"}}")
	require.NoError(t, r.err)
	require.Len(t, r.rows, 1)
	require.Equal(t, `{"a":"b","n":[1,true]}`, r.rows[0]["requestparameters"])
	require.Equal(t, "{\"k\ufffd\":\"v\"}", r.rows[0]["responseelements"])
	require.Equal(t, "{\"k\":\"v\ufffd\"}", r.rows[0]["additionaleventdata"])
	require.Equal(t, "[\"\ufffd\"]", r.rows[0]["serviceeventdetails"])
	require.Equal(t, `{"é":"é"}`, r.rows[0]["edgedevicedetails"])
}
