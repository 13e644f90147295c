package reader

import (
	"encoding/binary"
	"testing"
)

// Every mask keeps exactly the first n bytes of the 24: two values whose
// words differ only past their length compare equal, and none else.
func TestWordMasks(t *testing.T) {
	for n := 0; n <= WordBytes; n++ {
		var buf [WordBytes]byte
		for i := range buf {
			buf[i] = 0xff
		}
		m := WordMasks[n]
		for w := range 3 {
			got := binary.LittleEndian.Uint64(buf[8*w:]) & m[w]
			var want [8]byte
			for i := range want {
				if 8*w+i < n {
					want[i] = 0xff
				}
			}
			if got != binary.LittleEndian.Uint64(want[:]) {
				t.Fatalf("WordMasks[%d][%d] = %#x", n, w, m[w])
			}
		}
	}
}
