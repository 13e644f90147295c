package vpcflow

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// splitSpaces finds exactly the spaces a byte-by-byte scan finds, at any
// position in its 8-byte words (next to bytes one above and below a space,
// and to bytes with the high bit set), stops at one space too many, and
// reports ASCII exactly when every byte is.
func TestSplitSpacesMatchesByteScan(t *testing.T) {
	alphabet := []byte{' ', ' ', '!', 0x1f, 0x21, 'a', '0', 0x7f, 0x80, 0xa0, 0xff, 0xc3, 0xa9}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 20_000 {
		line := make([]byte, rng.IntN(40))
		for i := range line {
			line[i] = alphabet[rng.IntN(len(alphabet))]
		}
		var want []int32
		ascii := true
		for i, c := range line {
			if c == ' ' {
				want = append(want, int32(i))
			}
			ascii = ascii && c < utf8.RuneSelf
		}
		for _, room := range []int{len(want), len(want) + 1, max(len(want)-1, 0), 40} {
			ends := make([]int32, room)
			n, gotASCII := splitSpaces(line, ends)
			if len(want) > room {
				if n != room+1 || gotASCII {
					t.Fatalf("%q with room %d: n=%d ascii=%v, want %d, false", line, room, n, gotASCII, room+1)
				}
				continue
			}
			if n != len(want) || gotASCII != ascii {
				t.Fatalf("%q: n=%d ascii=%v, want %d, %v", line, n, gotASCII, len(want), ascii)
			}
			for i := range want {
				if ends[i] != want[i] {
					t.Fatalf("%q: space %d at %d, want %d", line, i, ends[i], want[i])
				}
			}
		}
	}
}

// digitsInt parses a field (no spaces) as scanInt does, or declines it.
func TestDigitsIntMatchesScanInt(t *testing.T) {
	for _, f := range []string{"", "-", "+", "0", "-0", "+7", "12a", "a", "--1", "2147483648", "-2147483649",
		"999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"00000000000000000001", "1234567890123456789", "18446744073709551616", "99999999999999999999",
		"1638576000", "44\xff", "4/", "4:"} {
		want, _, wantOK := scanInt([]byte(f))
		v, ok := digitsInt([]byte(f))
		if ok && (!wantOK || v != want) {
			t.Errorf("digitsInt(%q) = %d; scanInt: %d, %v", f, v, want, wantOK)
		}
		if !ok && wantOK && len(f) <= 18 && f[0] != '+' && f[0] != '-' {
			t.Errorf("digitsInt declined %q", f)
		}
	}
}
