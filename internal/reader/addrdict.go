package reader

// AddrDict numbers the values of an address column (flow logs' srcaddr,
// dstaddr, …) as StringDict numbers other repeating strings, but without
// hashing a string per row: an IPv4 address in canonical dotted-quad form
// (four decimal octets of 0-255 without leading zeros, "10.0.0.1") is one
// uint32, looked up in a small open-addressing table. Every uint32 has
// exactly one canonical form, so equal keys mean equal strings. Any other
// text (IPv6, "-", "010.0.0.1") goes through a string map that shares the
// number space: "10.0.0.1" and "010.0.0.1" are different values and get
// different numbers.
//
// It gives up, for the rest of the object, on a column whose values do not
// repeat enough for a dictionary to pay: when more than nine in ten of its
// first AddrProbeRows rows hold distinct values (random addresses; the
// writer's own probe then judges the unnumbered column as before), past
// MaxAddrValues values, or past MaxAddrBytes bytes of values (about what
// fits in a Parquet dictionary page: past it the dictionary falls back to
// plain encoding anyway).
type AddrDict struct {
	// slots is the open-addressing table: key<<32 | number+1, 0 for an
	// empty slot; its length is a power of two, at most half full.
	slots []uint64
	shift uint8 // 64 - log2(len(slots)), for Fibonacci hashing
	ips   int   // entries in slots
	other map[string]int32
	n     int // numbers given
	bytes int // of the values numbered
	rows  int // rows seen (values and NULLs), up to AddrProbeRows
	full  bool
}

const (
	// MaxAddrValues bounds the values an AddrDict numbers for one object.
	MaxAddrValues = 64 << 10
	// MaxAddrBytes bounds the bytes of the values an AddrDict numbers for
	// one object: Parquet's default dictionary page limit.
	MaxAddrBytes = 1 << 20
	// AddrProbeRows is how many rows an AddrDict judges a column by: when
	// more than nine in ten of them hold distinct values, it stops
	// numbering. It is the writer's probe (internal/writer), for a column
	// whose numbers skip that probe.
	AddrProbeRows = 4096
)

const addrMinSlots = 1 << 10

// NewAddrDict returns an empty AddrDict.
func NewAddrDict() *AddrDict {
	d := &AddrDict{}
	d.Reset()
	return d
}

// Reset empties d for another object, keeping its memory.
func (d *AddrDict) Reset() {
	if len(d.slots) == 0 {
		d.slots = make([]uint64, addrMinSlots)
		d.shift = 64 - 10
	} else {
		clear(d.slots)
	}
	if d.other == nil {
		d.other = map[string]int32{}
	}
	clear(d.other)
	d.ips, d.n, d.bytes, d.rows, d.full = 0, 0, 0, 0, false
}

// Null counts a NULL row, which the probe counts as a row (as the writer's
// does).
func (d *AddrDict) Null() {
	if d.rows < AddrProbeRows {
		d.rows++
		if d.rows == AddrProbeRows {
			d.judge()
		}
	}
}

// Number returns v's number, giving it the next one if v is new. It returns
// false, then and for every later value, once d gave up on the column.
func (d *AddrDict) Number(v []byte) (int32, bool) {
	if d.full {
		return 0, false
	}
	k, ok := d.number(v)
	if d.rows < AddrProbeRows && ok {
		d.rows++
		if d.rows == AddrProbeRows && !d.judge() {
			return 0, false
		}
	}
	return k, ok
}

// judge gives up on a column whose first AddrProbeRows rows are more than
// nine in ten distinct, and reports whether d still numbers.
func (d *AddrDict) judge() bool {
	if 10*d.n > 9*d.rows {
		d.giveUp()
	}
	return !d.full
}

func (d *AddrDict) giveUp() {
	d.full, d.slots, d.other = true, nil, nil
}

func (d *AddrDict) number(v []byte) (int32, bool) {
	ip, ok := parseIPv4(v)
	if !ok {
		return d.numberOther(v)
	}
	mask := uint64(len(d.slots) - 1)
	h := (uint64(ip) * 0x9E3779B97F4A7C15) >> d.shift
	for {
		s := d.slots[h]
		if s == 0 {
			break
		}
		if uint32(s>>32) == ip {
			return int32(uint32(s)) - 1, true
		}
		h = (h + 1) & mask
	}
	if !d.room(len(v)) {
		return 0, false
	}
	k := int32(d.n)
	d.slots[h] = uint64(ip)<<32 | uint64(uint32(k+1))
	d.n++
	d.ips++
	d.bytes += len(v)
	if 2*d.ips > len(d.slots) {
		d.grow()
	}
	return k, true
}

func (d *AddrDict) numberOther(v []byte) (int32, bool) {
	if k, ok := d.other[string(v)]; ok {
		return k, true
	}
	if len(v) > MaxDictValueBytes || !d.room(len(v)) {
		if !d.full {
			d.giveUp()
		}
		return 0, false
	}
	k := int32(d.n)
	d.other[string(v)] = k
	d.n++
	d.bytes += len(v)
	return k, true
}

// room reports whether a new value of n bytes may be numbered, giving up
// when not.
func (d *AddrDict) room(n int) bool {
	if d.n >= MaxAddrValues || d.bytes+n > MaxAddrBytes {
		d.giveUp()
		return false
	}
	return true
}

// grow doubles the table.
func (d *AddrDict) grow() {
	old := d.slots
	d.slots = make([]uint64, 2*len(old))
	d.shift--
	mask := uint64(len(d.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		h := (uint64(uint32(s>>32)) * 0x9E3779B97F4A7C15) >> d.shift
		for d.slots[h] != 0 {
			h = (h + 1) & mask
		}
		d.slots[h] = s
	}
}

// Len returns the values numbered so far: every number is below it.
func (d *AddrDict) Len() int { return d.n }

// Full reports whether d stopped numbering.
func (d *AddrDict) Full() bool { return d.full }

// parseIPv4 returns the address of an IPv4 address in canonical
// dotted-quad form, and false for any other text: "10.0.0.1" parses,
// "010.0.0.1", "10.0.0.256", "10.0.0" and "10.0.0.1." do not.
func parseIPv4(b []byte) (uint32, bool) {
	if len(b) < len("0.0.0.0") || len(b) > len("255.255.255.255") {
		return 0, false
	}
	var ip, v uint32
	dots, digits := 0, 0
	for _, c := range b {
		if c == '.' {
			if digits == 0 || dots == 3 {
				return 0, false
			}
			ip, v, digits = ip<<8|v, 0, 0
			dots++
			continue
		}
		if c < '0' || c > '9' || (digits > 0 && v == 0) {
			return 0, false
		}
		v = v*10 + uint32(c-'0')
		digits++
		if v > 255 {
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return ip<<8 | v, true
}
