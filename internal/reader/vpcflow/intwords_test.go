package vpcflow

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"convert/internal/reader"
)

// Integer fields read as words (wordDigits, twoWordDigits) take the value
// parseInt gives, or are rejected where parseInt fails: fields of 0 to 20
// bytes of digits mixed with the bytes next to the digits ('/', ':'), bytes
// whose high nibble is 3 but are no digits, bytes that carry when 6 is
// added, signs and non-ASCII; as the last field of a line (bytes of the
// next line past it) and anywhere in the line reader's buffer.
func TestIntegerWordsMatchParseInt(t *testing.T) {
	alphabet := []byte("0123456789012345678901234567890123456789/:;?*+-Ax\x00\x7f\xfa\xff\xb9\xc0")
	fields := []string{"version", "srcport", "packets", "bytes", "start"}
	int32s := map[int]bool{0: true, 1: true}
	rng := rand.New(rand.NewPCG(11, 13))
	var text strings.Builder
	var want [][]int64 // per row kept, the values; nil marks a NULL ("-")
	var wantNull [][]bool
	rejects := 0
	for range 40_000 {
		row := make([]int64, len(fields))
		null := make([]bool, len(fields))
		ok := true
		for i := range fields {
			if i > 0 {
				text.WriteByte(' ')
			}
			var f []byte
			switch r := rng.IntN(10); {
			case r < 4: // digits only, any length
				f = make([]byte, rng.IntN(21))
				for j := range f {
					f[j] = '0' + byte(rng.IntN(10))
				}
			case r == 4:
				f = []byte("-")
			case r == 5: // the bounds of the widths
				f = []byte([]string{"2147483647", "2147483648", "-2147483648", "-2147483649", "+2147483647",
					"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
					"0000000000000002147483648", "-0", "+0"}[rng.IntN(12)])
			default:
				f = make([]byte, rng.IntN(21))
				for j := range f {
					f[j] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			text.Write(f)
			if string(f) == "-" {
				null[i] = true
				continue
			}
			v, good := parseInt(f)
			if good && int32s[i] && (v < -1<<31 || v > 1<<31-1) {
				good = false
			}
			ok = ok && good
			row[i] = v
		}
		text.WriteByte('\n')
		if ok {
			want, wantNull = append(want, row), append(wantNull, null)
		} else {
			rejects++
		}
	}
	gotRejects := 0
	rd, err := NewReader(strings.NewReader(text.String()), Config{Object: "o", Fields: fields,
		Reject: func(reader.Reject) { gotRejects++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	row := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		for r := range int(rec.NumRows()) {
			if row >= len(want) {
				t.Fatalf("more rows than the %d expected", len(want))
			}
			for i := range fields {
				col := rec.Column(i)
				if col.IsNull(r) != wantNull[row][i] {
					t.Fatalf("row %d field %s: null %v, want %v", row, fields[i], col.IsNull(r), wantNull[row][i])
				}
				if col.IsNull(r) {
					continue
				}
				var got int64
				switch a := col.(type) {
				case *array.Int32:
					got = int64(a.Value(r))
				case *array.Int64:
					got = a.Value(r)
				}
				if got != want[row][i] {
					t.Fatalf("row %d field %s: %d, want %d", row, fields[i], got, want[row][i])
				}
			}
			row++
		}
	}
	if rd.Err() != nil {
		t.Fatal(rd.Err())
	}
	if row != len(want) || gotRejects != rejects {
		t.Fatalf("%d rows and %d rejects, want %d and %d", row, gotRejects, len(want), rejects)
	}
}

// wordDigits on every length it takes, with any bytes past the field,
// against parseInt.
func TestWordDigitsMatchParseInt(t *testing.T) {
	alphabet := []byte("0123456789/:;?*+-\x00\xfa\xff\xb9")
	rng := rand.New(rand.NewPCG(5, 9))
	for range 200_000 {
		n := 1 + rng.IntN(8)
		var b [8]byte
		for j := range b {
			if rng.IntN(4) == 0 {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[j] = '0' + byte(rng.IntN(10))
			}
		}
		want, wantOK := parseInt(b[:n])
		if b[0] == '+' || b[0] == '-' {
			wantOK = false // a sign is scanInt's to read
		}
		got, ok := wordDigits(binary.LittleEndian.Uint64(b[:]), n)
		if ok != wantOK || (ok && int64(got) != want) {
			t.Fatalf("%q (n=%d): %d, %v; want %d, %v", b, n, got, ok, want, wantOK)
		}
	}
}
