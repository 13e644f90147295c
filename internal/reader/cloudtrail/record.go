package cloudtrail

import (
	"bytes"
	"errors"
	"unicode/utf8"
)

// This file decodes one record (one JSON object) into a recordValues: the
// value of every column, with nothing appended to the Arrow builders yet, so
// that a record that fails half-way leaves no partial row.

// value is one string cell: b is valid when ok; !ok is NULL. b points into the
// record's bytes or into the decoder's scratch buffer.
type value struct {
	b  []byte
	ok bool
}

// mapEntry is one entry of a map<string,string> column.
type mapEntry struct{ key, val value }

type mapValue struct {
	ok      bool
	entries []mapEntry
}

// member is a raw top-level member kept to re-emit it: a quoted key and a
// compact JSON value.
type member struct{ key, raw []byte }

// digestKeys are the top-level keys of a CloudTrail-Digest file (docs/formats.md
// §2.2); an object with one of them and no event field is a digest.
var digestKeys = map[string]bool{
	"digestStartTime": true, "digestEndTime": true, "digestS3Bucket": true, "digestS3Object": true,
	"digestPublicKeyFingerprint": true, "digestSignatureAlgorithm": true, "logFiles": true,
	"previousDigestS3Bucket": true, "previousDigestS3Object": true, "previousDigestHashValue": true,
	"previousDigestHashAlgorithm": true, "previousDigestSignature": true,
}

// mayBeDigestKey is a cheap first test of digestKeys for the unmapped
// members of every event (managementEvent, eventContext, …): every digest key
// starts with 'd', 'l' or 'p' and has at least 8 bytes.
func mayBeDigestKey(name []byte) bool {
	return len(name) >= 8 && (name[0] == 'd' || name[0] == 'l' || name[0] == 'p')
}

// recordsKey is the top-level member of a CloudTrail log file that holds the
// events.
const recordsKey = "Records"

// rawEnvelopeKey is the member in which some log shippers (Cribl) carry the
// original event as a JSON string.
const rawEnvelopeKey = "_raw"

// decoder decodes records. It is reused: every decode starts from reset.
type decoder struct {
	sc       scanner
	keys     keyMemory
	b        []byte
	maxDepth int
	scratch  []byte // unescaped strings and compacted values of this record

	vals []value // plan.nSlots
	// valsNull reports that every slot of vals is NULL already: appendRow
	// marks each slot it reads NULL again, and it reads every slot a
	// decode that succeeds can set (those of the members in seen, a
	// struct's only when it was there), so that reset need not mark them
	// all after a record that became a row.
	valsNull bool
	present  []bool // per level id: the object was there
	// seen holds, per level id, a bit per field (field.bit) of the
	// members the level's object had, once it is decoded (appendRow
	// visits those); a resources element's is not used.
	seen     []uint64
	resOK    bool    // resources was an array
	resN     int     // resources elements
	resVals  []value // resN * plan.resources.slots
	resValid []bool  // per element: it was an object
	maps     []mapValue
	um       unmappedWriter

	hasEvent   bool // a top-level member maps to a column
	digest     bool // a top-level digest key
	sawRecords bool // a top-level "Records" member
	rawEnv     []byte
	rawEnvOK   bool
	rootExtra  []member // top-level unmapped members, for the envelope case

	// notes lists the unmapped members of this record by level, for the
	// reader's Warnings once the record becomes a row.
	notes []note
}

// note is one unmapped member: its level and its raw name.
type note struct {
	l    *level
	name []byte
}

func newDecoder(maxDepth int) *decoder {
	return &decoder{
		maxDepth: maxDepth,
		keys:     newKeyMemory(),
		vals:     make([]value, plan.nSlots),
		present:  make([]bool, len(plan.all)),
		seen:     make([]uint64, len(plan.all)),
		maps:     make([]mapValue, plan.nMaps),
	}
}

// reset prepares for decoding b; reset(nil) also drops every reference
// into the last input, before the decoder is pooled.
func (d *decoder) reset(b []byte) {
	d.b = b
	d.scratch = d.scratch[:0]
	switch {
	case b == nil:
		clear(d.vals)
		clear(d.resVals[:cap(d.resVals)])
	case d.valsNull:
	default:
		// A value is read only when ok: marking the slots NULL is enough,
		// and stores no pointers (clearing them costs a write barrier per
		// slot while the garbage collector marks).
		for i := range d.vals {
			d.vals[i].ok = false
		}
	}
	d.valsNull = false
	clear(d.present)
	clear(d.seen)
	d.resOK, d.resN = false, 0
	d.resVals = d.resVals[:0]
	d.resValid = d.resValid[:0]
	for i := range d.maps {
		d.maps[i].ok = false
		d.maps[i].entries = d.maps[i].entries[:0]
	}
	d.um.reset()
	d.hasEvent, d.digest, d.sawRecords, d.rawEnvOK = false, false, false, false
	d.rawEnv = nil
	d.rootExtra = d.rootExtra[:0]
	d.notes = d.notes[:0]
}

// decode decodes the object at b[0] (the caller checked it starts with '{')
// and returns the offset just past it.
func (d *decoder) decode(b []byte) (int, error) {
	d.reset(b)
	return d.parseObject(plan.root, d.vals, 0, 1)
}

// unwrapEnvelope decodes the event carried as a string in _raw, after decode
// found a record with no event field but such a member. The envelope's other
// members stay in the unmapped column, after the event's own.
func (d *decoder) unwrapEnvelope() error {
	// The envelope's members point into the scratch buffer that decode
	// reuses: copy them first.
	extra := make([]member, 0, len(d.rootExtra))
	for _, m := range d.rootExtra {
		if string(m.key) != `"`+rawEnvelopeKey+`"` {
			extra = append(extra, member{key: bytes.Clone(m.key), raw: bytes.Clone(m.raw)})
		}
	}
	inner := appendUnquoted(nil, d.rawEnv[1:len(d.rawEnv)-1])
	i := skipSpace(inner, 0)
	if i >= len(inner) || inner[i] != '{' {
		return errors.New("_raw does not hold a JSON object")
	}
	end, err := d.decode(inner[i:])
	if errors.Is(err, errShort) {
		return errors.New("_raw holds a truncated JSON object")
	}
	if err != nil {
		return err
	}
	if j := skipSpace(inner, i+end); j != len(inner) {
		return errors.New("_raw holds more than one JSON value")
	}
	for _, m := range extra {
		d.um.member(m.key, m.raw)
		d.notes = append(d.notes, note{plan.root, m.key[1 : len(m.key)-1]})
	}
	return nil
}

// lookup finds the known field of level l named by the raw (still quoted)
// key content k.
func (d *decoder) lookup(l *level, k []byte, flags uint8) *field {
	if flags&strEscaped != 0 {
		var tmp [64]byte
		k = appendUnquoted(tmp[:0], k)
	}
	return l.find(k)
}

func short(b []byte, i int) bool { return i >= len(b) }

// parseObject decodes the object at d.b[i] with the fields of level l into
// vals. depth is the object's nesting depth (the record is 1).
func (d *decoder) parseObject(l *level, vals []value, i, depth int) (int, error) {
	b := d.b
	d.present[l.id] = true
	i = skipSpace(b, i+1)
	if short(b, i) {
		return i, errShort
	}
	if b[i] == '}' {
		return i + 1, nil
	}
	var seen uint64
	pos := startPos(l)
	for {
		// Here i < len(b): checked before each turn.
		var ks, ke int // the quoted key is b[ks:ke]
		f, end, ok := d.keys.match(l, pos, b, i)
		if ok {
			ks, ke = i, end-1
			i = skipSpace(b, end)
		} else {
			if b[i] != '"' {
				return i, syntaxErr(i, "invalid character %q looking for an object key", b[i])
			}
			ks = i
			var kflags uint8
			var err error
			ke, kflags, err = scanString(b, i)
			if err != nil {
				return ke, err
			}
			i = skipSpace(b, ke)
			if short(b, i) {
				return i, errShort
			}
			if b[i] != ':' {
				return i, syntaxErr(i, "invalid character %q after an object key", b[i])
			}
			f = d.lookup(l, b[ks+1:ke-1], kflags)
			if i == ke {
				d.keys.remember(l, pos, b, ks, ke+1, f)
			}
			i = skipSpace(b, i+1)
		}
		if short(b, i) {
			return i, errShort
		}
		var err error
		switch {
		case f != nil && seen&(1<<f.bit) == 0:
			seen |= 1 << f.bit
			pos = int(f.bit)
			if f.kind != kindString || b[i] != '"' {
				i, err = d.parseField(l, f, vals, b[ks:ke], i, depth)
				break
			}
			// Most members are plain strings: stringValue's first case,
			// without the calls.
			var end int
			var flags uint8
			if end, flags, err = scanString(b, i); err != nil {
				return end, err
			}
			if flags != 0 {
				i, err = d.parseField(l, f, vals, b[ks:ke], i, depth)
				break
			}
			vals[f.slot] = value{b: b[i+1 : end-1], ok: true}
			i = end
		case l == plan.root:
			pos = unmappedPos(l)
			i, err = d.rootUnmapped(b[ks:ke], i, depth)
		default:
			pos = unmappedPos(l)
			i, err = d.unmapped(l, b[ks:ke], i, depth)
		}
		if err != nil {
			return i, err
		}
		if i+1 < len(b) && b[i] == ',' && b[i+1] > ' ' {
			// Compact JSON: the next member starts right after the
			// comma; two tests give what skipSpace and short would.
			i++
			continue
		}
		i = skipSpace(b, i)
		if short(b, i) {
			return i, errShort
		}
		switch b[i] {
		case ',':
			if i = skipSpace(b, i+1); short(b, i) {
				return i, errShort
			}
		case '}':
			if l == plan.root && seen != 0 {
				d.hasEvent = true // a member mapped to a column
			}
			d.seen[l.id] = seen
			return i + 1, nil
		default:
			return i, syntaxErr(i, "invalid character %q after an object member", b[i])
		}
	}
}

// rawValue scans the value at d.b[i] and returns it as compact JSON text with
// valid UTF-8.
func (d *decoder) rawValue(i, depth int) ([]byte, int, error) {
	end, spaced, err := d.sc.skipValue(d.b, i, depth, d.maxDepth)
	if err != nil {
		return nil, end, err
	}
	v := d.b[i:end]
	if spaced {
		start := len(d.scratch)
		d.scratch = appendCompact(d.scratch, v)
		v = d.scratch[start:]
	}
	if d.sc.high && !utf8.Valid(v) {
		start := len(d.scratch)
		d.scratch = appendValidUTF8(d.scratch, v)
		v = d.scratch[start:]
	}
	return v, end, nil
}

// unmapped keeps a member that has no column in the unmapped column.
func (d *decoder) unmapped(l *level, key []byte, i, depth int) (int, error) {
	raw, end, err := d.rawValue(i, depth)
	if err != nil {
		return end, err
	}
	d.um.member(key, raw)
	d.notes = append(d.notes, note{l, key[1 : len(key)-1]})
	return end, nil
}

// rootUnmapped is unmapped for a top-level member, which also tells what the
// object is: a digest, a log file whose Records came late, or an envelope.
func (d *decoder) rootUnmapped(key []byte, i, depth int) (int, error) {
	name := key[1 : len(key)-1]
	switch {
	case string(name) == recordsKey:
		d.sawRecords = true
	case mayBeDigestKey(name) && digestKeys[string(name)]:
		d.digest = true
	case string(name) == rawEnvelopeKey && d.b[i] == '"':
		end, _, err := scanString(d.b, i)
		if err != nil {
			return end, err
		}
		d.rawEnv, d.rawEnvOK = d.b[i:end], true
	}
	raw, end, err := d.rawValue(i, depth)
	if err != nil {
		return end, err
	}
	d.um.member(key, raw)
	d.rootExtra = append(d.rootExtra, member{key: key, raw: raw})
	d.notes = append(d.notes, note{plan.root, name})
	return end, nil
}

// stringValue reads the value at d.b[i] for a string column: a string's
// content, the JSON text of anything else, NULL for null.
func (d *decoder) stringValue(i, depth int) (value, int, error) {
	b := d.b
	switch c := b[i]; {
	case c == '"':
		end, flags, err := scanString(b, i)
		if err != nil {
			return value{}, end, err
		}
		s := b[i+1 : end-1]
		if flags == 0 || (flags == strHigh && utf8.Valid(s)) {
			return value{b: s, ok: true}, end, nil
		}
		start := len(d.scratch)
		d.scratch = appendUnquoted(d.scratch, s)
		return value{b: d.scratch[start:], ok: true}, end, nil
	case c == 'n':
		end, err := scanLiteral(b, i)
		return value{}, end, err
	case c == 't' || c == 'f':
		end, err := scanLiteral(b, i)
		if err != nil {
			return value{}, end, err
		}
		return value{b: b[i:end], ok: true}, end, nil
	case c == '{' || c == '[':
		raw, end, err := d.rawValue(i, depth)
		return value{b: raw, ok: true}, end, err
	default:
		end, err := scanNumber(b, i)
		if err != nil {
			return value{}, end, err
		}
		return value{b: b[i:end], ok: true}, end, nil
	}
}

func (d *decoder) parseField(l *level, f *field, vals []value, key []byte, i, depth int) (int, error) {
	b := d.b
	switch f.kind {
	case kindString:
		v, end, err := d.stringValue(i, depth)
		vals[f.slot] = v
		return end, err
	case kindJSON:
		if b[i] == 'n' {
			return scanLiteral(b, i)
		}
		raw, end, err := d.rawValue(i, depth)
		vals[f.slot] = value{b: raw, ok: true}
		return end, err
	case kindStruct:
		switch b[i] {
		case '{':
			d.um.push(key)
			end, err := d.parseObject(f.child, vals, i, depth+1)
			d.um.pop(0)
			return end, err
		case 'n':
			return scanLiteral(b, i)
		}
	case kindResources:
		switch b[i] {
		case '[':
			return d.parseResources(f.child, key, i, depth)
		case 'n':
			return scanLiteral(b, i)
		}
	case kindMap:
		switch b[i] {
		case '{':
			return d.parseMap(&d.maps[f.slot], f, key, i, depth)
		case 'n':
			return scanLiteral(b, i)
		}
	}
	// An object column whose value is not an object (or array for
	// resources): keep it as it is.
	return d.unmapped(l, key, i, depth)
}

// parseResources decodes the resources array at d.b[i]; depth is the depth of
// the object holding it.
func (d *decoder) parseResources(el *level, key []byte, i, depth int) (int, error) {
	b := d.b
	d.resOK = true
	d.um.pushArray(key)
	i = skipSpace(b, i+1)
	if short(b, i) {
		return i, errShort
	}
	if b[i] == ']' {
		d.um.pop(0)
		return i + 1, nil
	}
	n := el.slots
	for idx := 0; ; idx++ {
		if short(b, i) {
			return i, errShort
		}
		d.resN++
		start := len(d.resVals)
		if start+n <= cap(d.resVals) {
			// NULL slots, as in reset, without clearing pointers.
			d.resVals = d.resVals[:start+n]
			for k := start; k < start+n; k++ {
				d.resVals[k].ok = false
			}
		} else {
			d.resVals = append(d.resVals, make([]value, n)...)
		}
		d.resValid = append(d.resValid, false)
		var err error
		switch b[i] {
		case '{':
			d.resValid[idx] = true
			d.um.pushElem(idx)
			i, err = d.parseObject(el, d.resVals[start:start+n], i, depth+2)
			d.um.pop(0)
		case 'n':
			i, err = scanLiteral(b, i)
		default:
			var raw []byte
			raw, i, err = d.rawValue(i, depth+1)
			if err == nil {
				d.um.element(idx, raw)
			}
		}
		if err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if short(b, i) {
			return i, errShort
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			d.um.pop(idx + 1)
			return i + 1, nil
		default:
			return i, syntaxErr(i, "invalid character %q after an array element", b[i])
		}
	}
}

// parseMap decodes a map<string,string> object. A key that repeats goes to
// the unmapped column.
func (d *decoder) parseMap(m *mapValue, f *field, key []byte, i, depth int) (int, error) {
	b := d.b
	m.ok = true
	d.um.push(key)
	defer d.um.pop(0)
	i = skipSpace(b, i+1)
	if short(b, i) {
		return i, errShort
	}
	if b[i] == '}' {
		return i + 1, nil
	}
	for {
		if short(b, i) {
			return i, errShort
		}
		if b[i] != '"' {
			return i, syntaxErr(i, "invalid character %q looking for an object key", b[i])
		}
		ks := i
		k, ke, err := d.stringValue(i, depth+1)
		if err != nil {
			return ke, err
		}
		i = skipSpace(b, ke)
		if short(b, i) {
			return i, errShort
		}
		if b[i] != ':' {
			return i, syntaxErr(i, "invalid character %q after an object key", b[i])
		}
		i = skipSpace(b, i+1)
		if short(b, i) {
			return i, errShort
		}
		dup := false
		for _, e := range m.entries {
			if bytes.Equal(e.key.b, k.b) {
				dup = true
				break
			}
		}
		if dup {
			var raw []byte
			if raw, i, err = d.rawValue(i, depth+1); err != nil {
				return i, err
			}
			d.um.member(b[ks:ke], raw)
		} else {
			var v value
			if v, i, err = d.stringValue(i, depth+1); err != nil {
				return i, err
			}
			m.entries = append(m.entries, mapEntry{key: k, val: v})
		}
		i = skipSpace(b, i)
		if short(b, i) {
			return i, errShort
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, syntaxErr(i, "invalid character %q after an object member", b[i])
		}
	}
}

// unmappedWriter builds the unmapped column's JSON object: members are written
// at the path of the objects being decoded, and a parent is only written once
// it has content, so that an object with nothing unmapped leaves no trace.
type unmappedWriter struct {
	buf    []byte
	frames []umFrame // frames[0] is the root object
	opened int       // frames[:opened] are written
}

type umFrame struct {
	key   []byte // quoted member name; nil for an array element
	index int    // array element index
	array bool
	n     int // members or elements written
}

func (w *unmappedWriter) reset() {
	w.buf = w.buf[:0]
	w.frames = append(w.frames[:0], umFrame{})
	w.opened = 0
}

func (w *unmappedWriter) push(key []byte) { w.frames = append(w.frames, umFrame{key: key}) }
func (w *unmappedWriter) pushArray(key []byte) {
	w.frames = append(w.frames, umFrame{key: key, array: true})
}
func (w *unmappedWriter) pushElem(index int) { w.frames = append(w.frames, umFrame{index: index}) }

// pop leaves the innermost object or array; an array that was written is
// padded with nulls to length.
func (w *unmappedWriter) pop(length int) {
	top := len(w.frames) - 1
	if w.opened > top {
		f := &w.frames[top]
		if f.array {
			w.padTo(f, length)
			w.buf = append(w.buf, ']')
		} else {
			w.buf = append(w.buf, '}')
		}
		w.opened = top
	}
	w.frames = w.frames[:top]
}

func (w *unmappedWriter) padTo(f *umFrame, index int) {
	for f.n < index {
		if f.n > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, "null"...)
		f.n++
	}
}

// open writes the frames not written yet.
func (w *unmappedWriter) open() {
	for ; w.opened < len(w.frames); w.opened++ {
		f := &w.frames[w.opened]
		if w.opened > 0 {
			p := &w.frames[w.opened-1]
			if p.array {
				w.padTo(p, f.index)
			}
			if p.n > 0 {
				w.buf = append(w.buf, ',')
			}
			p.n++
			if !p.array {
				w.buf = append(w.buf, f.key...)
				w.buf = append(w.buf, ':')
			}
		}
		if f.array {
			w.buf = append(w.buf, '[')
		} else {
			w.buf = append(w.buf, '{')
		}
	}
}

// member writes "key":raw into the innermost object.
func (w *unmappedWriter) member(key, raw []byte) {
	w.open()
	f := &w.frames[len(w.frames)-1]
	if f.n > 0 {
		w.buf = append(w.buf, ',')
	}
	f.n++
	w.buf = append(w.buf, key...)
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, raw...)
}

// element writes raw at index of the innermost array.
func (w *unmappedWriter) element(index int, raw []byte) {
	w.open()
	f := &w.frames[len(w.frames)-1]
	w.padTo(f, index)
	if f.n > 0 {
		w.buf = append(w.buf, ',')
	}
	f.n++
	w.buf = append(w.buf, raw...)
}

// finish closes the root object and returns the column's value: NULL when
// nothing was unmapped.
func (w *unmappedWriter) finish() value {
	if w.opened == 0 {
		return value{}
	}
	for len(w.frames) > 1 {
		w.pop(0)
	}
	w.buf = append(w.buf, '}')
	w.opened = 0
	if !utf8.Valid(w.buf) { // keys are copied raw; values are already valid
		w.buf = appendValidUTF8(nil, w.buf)
	}
	return value{b: w.buf, ok: true}
}
