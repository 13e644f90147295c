package reader

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecode feeds arbitrary objects to the gzip/plain framing. Properties:
// no panic; a failure is always ErrCorruptObject; plain input comes out
// unchanged; gzip input of a valid stream comes out as what was compressed.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("plain\n"))
	f.Add(gz(f, "one\ntwo\n"))
	f.Add(append(gz(f, "a"), gz(f, "b")...))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ahead := range []bool{false, true} {
			d, err := decode(io.NopCloser(bytes.NewReader(data)), ahead)
			if err != nil {
				if !errors.Is(err, ErrCorruptObject) {
					t.Fatalf("open error is not ErrCorruptObject: %v", err)
				}
				continue
			}
			out, err := io.ReadAll(d)
			d.Close()
			if err != nil && !errors.Is(err, ErrCorruptObject) {
				t.Fatalf("read error is not ErrCorruptObject: %v", err)
			}
			if !d.Gzip && (err != nil || !bytes.Equal(out, data)) {
				t.Fatal("plain input changed")
			}
		}
	})
}

// FuzzLineReader: the lines, joined back with newlines, are the input (less
// a final newline and carriage returns before newlines), unless a line is
// over the limit, which is then reported, never buffered whole.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\nccc"), 4)
	f.Add([]byte("0123456789\n"), 3)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		lr := NewLineReader(bytes.NewReader(data), max)
		var lines [][]byte
		tooLong := false
		for {
			l, err := lr.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, ErrLineTooLong) {
				tooLong = true
				if len(l) > MaxRejectRawBytes {
					t.Fatalf("truncated line of %d bytes", len(l))
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l) > max {
				t.Fatalf("line of %d bytes over the limit %d", len(l), max)
			}
			lines = append(lines, append([]byte(nil), l...))
		}
		if tooLong {
			return
		}
		var want [][]byte
		if len(data) > 0 {
			for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
				want = append(want, bytes.TrimSuffix(l, []byte("\r")))
			}
		}
		if len(want) != len(lines) {
			t.Fatalf("%d lines, want %d", len(lines), len(want))
		}
		for i := range want {
			if !bytes.Equal(want[i], lines[i]) {
				t.Fatalf("line %d is %q, want %q", i+1, lines[i], want[i])
			}
		}
	})
}
