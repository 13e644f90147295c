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

// keyWords is maxKeyBytes in words; shortWords of them hold most members
// (`"recipientAccountId":` is 21 bytes) and are compared first.
const (
	keyWords   = maxKeyBytes / 8
	shortWords = 3
)

// nextKey is one remembered member.
type nextKey struct {
	// words is the member as little-endian words, zero past n, and masks
	// selects its bytes in each: all of a word before the one holding its
	// last byte, that one's bytes up to it, none of the words after. The
	// input matches when it equals words under masks: one comparison of
	// all the words, without a branch per word.
	words [keyWords]uint64
	masks [keyWords]uint64
	n     uint8 // bytes of the member; 0: nothing remembered
	// f is the field the member names, nil for a member without one: the
	// levels are fixed, so a pointer costs match no lookup.
	f *field
}

// keyWays is the number of members remembered per position (match
// takes them one by one).
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

// ways returns the members remembered at pos of l.
func (m *keyMemory) ways(l *level, pos int) *[keyWays]nextKey {
	return (*[keyWays]nextKey)(m.keys[keyWays*(l.keyBase+pos):])
}

// match reports whether b[i:] starts with a member remembered at pos of l,
// and returns it: its field (nil for a member without one) and the offset
// past its colon.
func (m *keyMemory) match(l *level, pos int, b []byte, i int) (f *field, end int, ok bool) {
	ways := m.ways(l, pos)
	var r *[maxKeyBytes]byte
	if i+maxKeyBytes <= len(b) {
		r = (*[maxKeyBytes]byte)(b[i:])
	} else {
		// Near the end of the input: compared padded with zeros, which
		// no member ends with (its last byte is the colon), so that a
		// member longer than what is left never matches.
		var pad [maxKeyBytes]byte
		copy(pad[:], b[i:])
		r = &pad
	}
	w0, w1, w2 := binary.LittleEndian.Uint64(r[0:]), binary.LittleEndian.Uint64(r[8:]), binary.LittleEndian.Uint64(r[16:])
	// The ways one after the other, not in a loop: the first nearly
	// always matches.
	nk := &ways[0]
	if (w0^nk.words[0])&nk.masks[0]|(w1^nk.words[1])&nk.masks[1]|(w2^nk.words[2])&nk.masks[2] == 0 &&
		nk.n != 0 && (nk.n <= 8*shortWords || nk.longEqual(r)) {
		return nk.f, i + int(nk.n), true
	}
	nk = &ways[1]
	if (w0^nk.words[0])&nk.masks[0]|(w1^nk.words[1])&nk.masks[1]|(w2^nk.words[2])&nk.masks[2] == 0 &&
		nk.n != 0 && (nk.n <= 8*shortWords || nk.longEqual(r)) {
		return nk.f, i + int(nk.n), true
	}
	return nil, 0, false
}

// longEqual reports whether the words of r after the first shortWords hold
// the rest of the remembered member.
func (nk *nextKey) longEqual(r *[maxKeyBytes]byte) bool {
	var diff uint64
	for k := shortWords; k < keyWords; k++ {
		diff |= (binary.LittleEndian.Uint64(r[8*k:]) ^ nk.words[k]) & nk.masks[k]
	}
	return diff == 0
}

// remember records that the member b[ks:ke] (quoted name, then the colon
// right after it) came at pos of l and named f, in place of the member
// remembered least recently.
func (m *keyMemory) remember(l *level, pos int, b []byte, ks, ke int, f *field) {
	if ke-ks > maxKeyBytes {
		return
	}
	ways := m.ways(l, pos)
	copy(ways[1:], ways[:keyWays-1])
	nk := &ways[0]
	var key [maxKeyBytes]byte
	n := copy(key[:], b[ks:ke])
	nk.n = uint8(n)
	for w := range nk.words {
		nk.words[w] = binary.LittleEndian.Uint64(key[8*w:])
		switch bytes := n - 8*w; {
		case bytes >= 8:
			nk.masks[w] = ^uint64(0)
		case bytes > 0:
			nk.masks[w] = ^uint64(0) >> (64 - 8*bytes)
		default:
			nk.masks[w] = 0
		}
	}
	nk.f = f
}
