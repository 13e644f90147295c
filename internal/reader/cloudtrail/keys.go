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
	n     uint8 // bytes of key in use; 0: nothing remembered
	field uint8 // the field's index + 1; 0: a member without a field
	key   [maxKeyBytes]byte
}

// keyWays is the number of members remembered per position.
const keyWays = 2

// keyMemory holds the members remembered at every position of every level:
// after its field k (k < len(fields)), at the start of the object
// (len(fields)) and after a member without a field (len(fields)+1).
type keyMemory struct {
	levels [][][keyWays]nextKey // by level id, then position
}

func newKeyMemory() keyMemory {
	m := keyMemory{levels: make([][][keyWays]nextKey, len(plan.all))}
	for _, l := range plan.all {
		m.levels[l.id] = make([][keyWays]nextKey, len(l.fields)+2)
	}
	return m
}

// Positions in a level other than after a field.
func startPos(l *level) int    { return len(l.fields) }
func unmappedPos(l *level) int { return len(l.fields) + 1 }

// match reports whether b[i:] starts with a member remembered at pos of l,
// and returns it: its field (nil for a member without one) and the offset
// past its colon.
func (m *keyMemory) match(l *level, pos int, b []byte, i int) (f *field, end int, ok bool) {
	ways := &m.levels[l.id][pos]
	for w := range ways {
		nk := &ways[w]
		if nk.n == 0 || !nk.prefixOf(b[i:]) {
			continue
		}
		if nk.field != 0 {
			f = &l.fields[nk.field-1]
		}
		return f, i + int(nk.n), true
	}
	return nil, 0, false
}

// prefixOf reports whether b starts with the remembered bytes.
func (nk *nextKey) prefixOf(b []byte) bool {
	n := int(nk.n)
	if len(b) < maxKeyBytes {
		return len(b) >= n && string(b[:n]) == string(nk.key[:n])
	}
	// Eight bytes at a time; the key array is zero past n.
	k := 0
	for ; k+8 <= n; k += 8 {
		if binary.LittleEndian.Uint64(b[k:]) != binary.LittleEndian.Uint64(nk.key[k:]) {
			return false
		}
	}
	if k < n {
		diff := binary.LittleEndian.Uint64(b[k:]) ^ binary.LittleEndian.Uint64(nk.key[k:])
		if diff&(1<<(8*uint(n-k))-1) != 0 {
			return false
		}
	}
	return true
}

// remember records that the member b[ks:ke] (quoted name, then the colon
// right after it) came at pos of l and named f, in place of the member
// remembered least recently.
func (m *keyMemory) remember(l *level, pos int, b []byte, ks, ke int, f *field) {
	if ke-ks > maxKeyBytes {
		return
	}
	ways := &m.levels[l.id][pos]
	copy(ways[1:], ways[:keyWays-1])
	nk := &ways[0]
	nk.key = [maxKeyBytes]byte{}
	nk.n = uint8(copy(nk.key[:], b[ks:ke]))
	nk.field = 0
	if f != nil {
		nk.field = uint8(f.bit + 1)
	}
}
