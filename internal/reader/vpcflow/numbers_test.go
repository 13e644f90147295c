package vpcflow

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/reader"
)

// The string columns that repeat carry value numbers (reader.Indexed): two
// non-null rows of a batch have equal numbers exactly when their values are
// equal, in every batch of an object; the addresses carry none, and a column
// with more distinct values than reader.MaxDictValues loses its numbers for
// the rest of the object.
func TestReaderNumbersRepeatingValues(t *testing.T) {
	var text strings.Builder
	text.WriteString(v2Header + "\n")
	const rows = 3*reader.MaxDictValues + 100
	for i := range rows {
		action := []string{"ACCEPT", "REJECT"}[i%3/2]
		eni := fmt.Sprintf("eni-%017x", i%37)
		if i%11 == 0 {
			eni = "-"
		}
		// log_status takes a new value per row: past MaxDictValues it is
		// no longer numbered.
		fmt.Fprintf(&text, "2 123456789012 %s 10.0.%d.%d 10.1.0.1 443 %d 6 1 40 1638576000 1638576060 %s S%06d\n",
			eni, i/256%256, i%256, 1024+i%1000, action, i)
	}
	rd, err := NewReader(strings.NewReader(text.String()), Config{Object: "o", ChunkRows: 1000})
	require.NoError(t, err)
	defer rd.Release()
	sc := rd.Schema()
	col := func(name string) int { return sc.FieldIndices(name)[0] }
	batches := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		ix, ok := rec.(*reader.Indexed)
		require.True(t, ok, "batch %d has no numbers", batches)
		for _, name := range []string{"account_id", "interface_id", "action", "log_status"} {
			nums, bound := ix.ValueNumbers(col(name))
			if name == "log_status" && batches >= reader.MaxDictValues/1000 {
				require.Nil(t, nums, "batch %d: %s is numbered past %d values", batches, name, reader.MaxDictValues)
				continue
			}
			require.NotNil(t, nums, "batch %d: %s", batches, name)
			parquettest.RequireNumbersMatchValues(t, name, rec.Column(col(name)).(*array.String), nums, bound)
		}
		for _, name := range []string{"srcaddr", "dstaddr"} {
			nums, _ := ix.ValueNumbers(col(name))
			require.Nil(t, nums, name)
		}
		batches++
	}
	require.NoError(t, rd.Err())
	require.Equal(t, (rows+999)/1000, batches)
}

// A value longer than reader.MaxDictValueBytes ends the numbering of its
// column for the rest of the object: a dictionary holds short values only.
func TestStringDictBounds(t *testing.T) {
	d := reader.NewStringDict()
	for i := range reader.MaxDictValues {
		k, ok := d.Number([]byte(fmt.Sprint(i)))
		require.True(t, ok)
		require.Equal(t, int32(i), k)
	}
	k, ok := d.Number([]byte("7"))
	require.True(t, ok)
	require.Equal(t, int32(7), k)
	_, ok = d.Number([]byte("new"))
	require.False(t, ok)
	require.True(t, d.Full())
	_, ok = d.Number([]byte("7"))
	require.False(t, ok, "a full dictionary numbers nothing")

	d = reader.NewStringDict()
	_, ok = d.Number([]byte(strings.Repeat("x", reader.MaxDictValueBytes+1)))
	require.False(t, ok)
}

// TestScanIntMatchesParseInt: the one-pass field scan parses a field as
// parseInt parses it alone, and stops at the first space.
func TestScanIntMatchesParseInt(t *testing.T) {
	for _, f := range []string{"", "-", "+", "0", "-0", "+7", "12a", "a", "--1", "2147483648", "-2147483649",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"00000000000000000001", "1234567890123456789", "18446744073709551616", "99999999999999999999"} {
		want, wantOK := parseInt([]byte(f))
		for _, tail := range []string{"", " rest", " "} {
			v, n, ok := scanInt([]byte(f + tail))
			if n != len(f) || ok != wantOK || (ok && v != want) {
				t.Errorf("scanInt(%q) = %d, %d, %v; parseInt(%q) = %d, %v", f+tail, v, n, ok, f, want, wantOK)
			}
		}
	}
}

// A value of up to wordsBytes bytes is copied, and its number looked up
// (knownValues), as 8-byte words: the column holds exactly the fields of the
// lines, and equal values have equal numbers and different ones different
// numbers, for values that differ only in their length (a trailing NUL),
// in one byte of any word, around wordsBytes bytes, in the bytes that
// follow them on the line, with NULLs and long values between equal ones,
// at the end of the line (where fewer than wordsBytes bytes follow), and
// across batches.
func TestWordCopiedValuesMatchFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	base := "eni-0123456789abcdef0123456789" // 30 bytes: prefixes of 0-30
	value := func() string {
		switch rng.IntN(8) {
		case 0:
			return "-"
		case 1:
			return base[:rng.IntN(len(base)+1)] + "\x00"
		case 2: // one byte changed
			b := []byte(base[:1+rng.IntN(len(base))])
			b[rng.IntN(len(b))] ^= 1 << rng.IntN(7)
			if b[0] == '-' || bytes.ContainsAny(b, " \n\r") {
				return "x"
			}
			return string(b)
		default:
			return base[:[]int{0, 1, 7, 8, 9, 15, 16, 17, 21, 23, 24, 25, 30}[rng.IntN(13)]]
		}
	}
	var text strings.Builder
	text.WriteString("version action interface-id log-status\n")
	var want [][3]string
	for range 5000 {
		var row [3]string
		for j := range row {
			row[j] = value()
			if rng.IntN(3) == 0 && len(want) > 0 {
				row[j] = want[len(want)-1][j] // a run
			}
		}
		if row[0] == "" || row[1] == "" || row[2] == "" {
			continue // an empty field would be two spaces in a row
		}
		want = append(want, row)
		fmt.Fprintf(&text, "2 %s %s %s\n", row[0], row[1], row[2])
	}
	for _, chunk := range []int{7, 1000} {
		rd, err := NewReader(strings.NewReader(text.String()), Config{Object: "o", ChunkRows: chunk})
		require.NoError(t, err)
		r := 0
		for rd.Next() {
			rec := rd.RecordBatch()
			ix := rec.(*reader.Indexed)
			for j := range 3 {
				col := rec.Column(j + 1).(*array.String)
				for i := range col.Len() {
					if v := want[r+i][j]; v == "-" {
						require.True(t, col.IsNull(i))
					} else {
						require.Equal(t, v, col.Value(i), "row %d column %d", r+i, j)
					}
				}
				nums, bound := ix.ValueNumbers(j + 1)
				require.NotNil(t, nums)
				parquettest.RequireNumbersMatchValues(t, rec.Schema().Field(j+1).Name, col, nums, bound)
			}
			r += int(rec.NumRows())
		}
		require.NoError(t, rd.Err())
		require.Equal(t, len(want), r)
		rd.Release()
	}
}
