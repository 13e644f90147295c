package classify

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// u128 is an IPv6 address as a number.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) next() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

func (a u128) prev() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func u128Of(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// prefixTable maps addresses to the value of the most specific prefix that
// holds them. Its prefixes are flattened into sorted, disjoint ranges, one
// table for IPv4 and one for IPv6, so that a lookup is a binary search.
type prefixTable struct {
	v4 rangeTable[uint32]
	v6 rangeTable[u128]
	// v4index[b] is the first IPv4 range ending at or after the first
	// address of block b (the top v4IndexBits bits): a lookup searches only
	// the ranges of its block. Nil for small tables.
	v4index []int32
}

const v4IndexBits = 12

// rangeTable holds disjoint ranges [starts[i], ends[i]] in ascending order.
type rangeTable[K any] struct {
	starts, ends []K
	vals         []int32
}

// prefixValue is a prefix and the value it maps to.
type prefixValue struct {
	prefix netip.Prefix
	val    int32
}

// newPrefixTable builds the table. Of several values for the same prefix the
// last one wins; callers give each prefix once.
func newPrefixTable(entries []prefixValue) prefixTable {
	var v4 []span[uint32]
	var v6 []span[u128]
	for _, e := range entries {
		p := e.prefix.Masked()
		if p.Addr().Is4() {
			start := binary.BigEndian.Uint32(p.Addr().AsSlice())
			end := start | uint32((uint64(1)<<(32-p.Bits()))-1)
			v4 = append(v4, span[uint32]{start, end, p.Bits(), e.val})
			continue
		}
		start := u128Of(p.Addr())
		end := start
		host := 128 - p.Bits()
		switch {
		case host >= 64:
			end.lo = ^uint64(0)
			if host > 64 {
				end.hi |= (uint64(1) << (host - 64)) - 1
			}
			if host == 128 {
				end.hi = ^uint64(0)
			}
		case host > 0:
			end.lo |= (uint64(1) << host) - 1
		}
		v6 = append(v6, span[u128]{start, end, p.Bits(), e.val})
	}
	t := prefixTable{
		v4: flatten(v4, func(a, b uint32) bool { return a < b }, func(a uint32) uint32 { return a + 1 }, func(a uint32) uint32 { return a - 1 }),
		v6: flatten(v6, u128.less, u128.next, u128.prev),
	}
	if len(t.v4.starts) > 64 {
		t.v4index = make([]int32, 1<<v4IndexBits+1)
		i := 0
		for b := range 1 << v4IndexBits {
			base := uint32(b) << (32 - v4IndexBits)
			for i < len(t.v4.ends) && t.v4.ends[i] < base {
				i++
			}
			t.v4index[b] = int32(i)
		}
		t.v4index[1<<v4IndexBits] = int32(len(t.v4.ends))
	}
	return t
}

type span[K any] struct {
	start, end K
	bits       int
	val        int32
}

// flatten turns nested prefixes (CIDR prefixes either nest or are disjoint)
// into disjoint ranges where the innermost prefix's value wins.
func flatten[K comparable](spans []span[K], less func(a, b K) bool, next, prev func(K) K) rangeTable[K] {
	slices.SortStableFunc(spans, func(a, b span[K]) int {
		switch {
		case less(a.start, b.start):
			return -1
		case less(b.start, a.start):
			return 1
		}
		return cmp.Compare(a.bits, b.bits)
	})
	// The same prefix twice: keep the last.
	kept := spans[:0]
	for i, s := range spans {
		if i+1 < len(spans) && spans[i+1].start == s.start && spans[i+1].bits == s.bits {
			continue
		}
		kept = append(kept, s)
	}
	spans = kept
	var t rangeTable[K]
	emit := func(lo, hi K, v int32) {
		if less(hi, lo) {
			return
		}
		if n := len(t.ends); n > 0 && t.vals[n-1] == v && next(t.ends[n-1]) == lo && less(t.ends[n-1], lo) {
			t.ends[n-1] = hi
			return
		}
		t.starts, t.ends, t.vals = append(t.starts, lo), append(t.ends, hi), append(t.vals, v)
	}
	var stack []span[K]
	var pos K     // the first address not yet emitted
	done := false // pos has passed the last address
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !done && !less(top.end, pos) {
			emit(pos, top.end, top.val)
			pos = next(top.end)
			done = !less(top.end, pos) // wrapped around
		}
	}
	for _, s := range spans {
		for len(stack) > 0 && less(stack[len(stack)-1].end, s.start) {
			pop()
		}
		if len(stack) > 0 && !done && less(pos, s.start) {
			emit(pos, prev(s.start), stack[len(stack)-1].val)
		}
		pos, done = s.start, false
		stack = append(stack, s)
	}
	for len(stack) > 0 {
		pop()
	}
	return t
}

// lookup4 returns the value for an IPv4 address.
func (t *prefixTable) lookup4(a uint32) (int32, bool) {
	s := t.v4.starts
	lo, hi := 0, len(s)
	if t.v4index != nil {
		b := a >> (32 - v4IndexBits)
		lo, hi = int(t.v4index[b]), min(int(t.v4index[b+1])+1, len(s))
	}
	first := lo
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == first || t.v4.ends[lo-1] < a {
		return 0, false
	}
	return t.v4.vals[lo-1], true
}

// lookup6 returns the value for an IPv6 address.
func (t *prefixTable) lookup6(a u128) (int32, bool) {
	s := t.v6.starts
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !a.less(s[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 || t.v6.ends[lo-1].less(a) {
		return 0, false
	}
	return t.v6.vals[lo-1], true
}

func (t *prefixTable) lookup(a addr) (int32, bool) {
	if a.is6 {
		return t.lookup6(a.v6)
	}
	return t.lookup4(a.v4)
}

// addr is a parsed address: IPv4 (IPv4-mapped IPv6 included) or IPv6.
type addr struct {
	v4  uint32
	v6  u128
	is6 bool
}

// parseAddr parses a flow-log address without allocating: dotted quads on
// a fast path, anything else through netip.
func parseAddr(s string) (addr, bool) {
	if v, ok := parseIPv4(s); ok {
		return addr{v4: v}, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return addr{}, false
	}
	a = a.Unmap()
	if a.Is4() {
		return addr{v4: binary.BigEndian.Uint32(a.AsSlice())}, true
	}
	return addr{v6: u128Of(a), is6: true}, true
}

// parseIPv4 parses a dotted quad of decimal octets (no leading zeros, as
// netip requires), one octet at a time: it is the hot loop of classifying.
func parseIPv4(s string) (uint32, bool) {
	var v uint32
	i := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0, false
			}
			i++
		}
		start := i
		var octet uint32
		for i < len(s) && i-start < 3 {
			d := s[i] - '0'
			if d > 9 {
				break
			}
			octet = octet*10 + uint32(d)
			i++
		}
		if i == start || octet > 255 || i-start > 1 && s[start] == '0' {
			return 0, false
		}
		v = v<<8 | octet
	}
	return v, i == len(s)
}

// isPrivate reports whether a is in an address block that is not routed on
// the internet: RFC 1918, shared address space (RFC 6598, often used for
// secondary VPC CIDRs and EKS pods), link-local, loopback, and IPv6 unique
// local and link-local addresses.
func isPrivate(a addr) bool {
	if a.is6 {
		return a.v6.hi>>57 == 0xfc>>1 || a.v6.hi>>54 == 0xfe80>>6 || a.v6 == u128{0, 1}
	}
	v := a.v4
	return v>>24 == 10 || v>>20 == 172<<4|1 || v>>16 == 192<<8|168 ||
		v>>22 == 100<<2|1 || v>>16 == 169<<8|254 || v>>24 == 127
}
