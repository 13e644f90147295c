package cloudtrail

import "encoding/binary"

// This file is the decoder's memory of member names. Records of one log come
// from one writer, so an object's members follow each other in much the same
// order and spelling from record to record. For each position in a level the
// decoder remembers the last two members that came next (`"eventTime":`,
// quotes and colon included) and the fields they named; the next member is
// first compared with those bytes, a match costing a word comparison or two
// instead of scanning the name, hashing it and folding its case. A miss takes
// the general path (scanString, level.find) and is remembered in turn.
//
// A string scans the same wherever it is, so input bytes equal to a
// remembered member end where it ended and name the field it named (escapes
// and all): the memory changes the speed, never the result.

// maxKeyBytes bounds a remembered member, `"name":`; a longer name (none of
// the mapped ones) always takes the general path.
const maxKeyBytes = 40

// nextKey is one remembered member.
type nextKey struct {
	n uint8 // bytes of key in use; 0: nothing remembered
	// f is the field the member names, nil for a member without one: the
	// levels are fixed, so a pointer costs match no lookup.
	f *field
	// words is key as little-endian words, zero past n; mask selects the
	// bytes of the word that holds the last one.
	words [maxKeyBytes / 8]uint64
	mask  uint64
	key   [maxKeyBytes]byte
}

// keyWays is the number of members remembered per position.
const keyWays = 2

// keyMemory holds the members remembered at every position of every level:
// after its field k (k < len(fields)), at the start of the object
// (len(fields)) and after a member without a field (len(fields)+1).
type keyMemory struct {
	keys []nextKey // keyWays per position, from level.keyBase on
}

func newKeyMemory() keyMemory {
	last := plan.all[len(plan.all)-1]
	return keyMemory{keys: make([]nextKey, keyWays*(last.keyBase+len(last.fields)+2))}
}

// Positions in a level other than after a field.
func startPos(l *level) int    { return len(l.fields) }
func unmappedPos(l *level) int { return len(l.fields) + 1 }

// match reports whether b[i:] starts with a member remembered at pos of l,
// and returns it: its field (nil for a member without one) and the offset
// past its colon.
func (m *keyMemory) match(l *level, pos int, b []byte, i int) (f *field, end int, ok bool) {
	k := keyWays * (l.keyBase + pos)
	ways := (*[keyWays]nextKey)(m.keys[k:])
	rest := b[i:]
	if len(rest) < maxKeyBytes {
		// Near the end of the input: byte by byte.
		for w := range ways {
			nk := &ways[w]
			if n := int(nk.n); n > 0 && len(rest) >= n && string(rest[:n]) == string(nk.key[:n]) {
				return nk.found(i)
			}
		}
		return nil, 0, false
	}
	rest = rest[:maxKeyBytes]
	first := binary.LittleEndian.Uint64(rest)
	for w := range ways {
		nk := &ways[w]
		if nk.n == 0 {
			continue
		}
		if nk.n <= 8 {
			if (first^nk.words[0])&nk.mask == 0 {
				return nk.found(i)
			}
			continue
		}
		if first != nk.words[0] || !nk.restEqual(rest) {
			continue
		}
		return nk.found(i)
	}
	return nil, 0, false
}

func (nk *nextKey) found(i int) (*field, int, bool) { return nk.f, i + int(nk.n), true }

// restEqual reports whether the words after the first of rest (maxKeyBytes
// long) hold the remembered key.
func (nk *nextKey) restEqual(rest []byte) bool {
	last := (int(nk.n) - 1) / 8
	for k := 1; k < last; k++ {
		if binary.LittleEndian.Uint64(rest[8*k:]) != nk.words[k] {
			return false
		}
	}
	return (binary.LittleEndian.Uint64(rest[8*last:])^nk.words[last])&nk.mask == 0
}

// remember records that the member b[ks:ke] (quoted name, then the colon
// right after it) came at pos of l and named f, in place of the member
// remembered least recently.
func (m *keyMemory) remember(l *level, pos int, b []byte, ks, ke int, f *field) {
	if ke-ks > maxKeyBytes {
		return
	}
	k := keyWays * (l.keyBase + pos)
	ways := m.keys[k : k+keyWays]
	copy(ways[1:], ways[:keyWays-1])
	nk := &ways[0]
	nk.key = [maxKeyBytes]byte{}
	n := copy(nk.key[:], b[ks:ke])
	nk.n = uint8(n)
	for w := range nk.words {
		nk.words[w] = binary.LittleEndian.Uint64(nk.key[8*w:])
	}
	nk.mask = ^uint64(0) >> (64 - 8*((n-1)%8+1))
	nk.f = f
}
