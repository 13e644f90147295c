package classify

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveLookup is the definition the table must meet: the value of the
// longest prefix that contains a.
func naiveLookup(entries []prefixValue, a netip.Addr) (int32, bool) {
	best, val := -1, int32(0)
	for _, e := range entries {
		if e.prefix.Contains(a) && e.prefix.Bits() > best {
			best, val = e.prefix.Bits(), e.val
		}
	}
	return val, best >= 0
}

func tableLookup(t *prefixTable, a netip.Addr) (int32, bool) {
	p, ok := parseAddr(a.String())
	if !ok {
		panic(a)
	}
	return t.lookup(p)
}

func TestPrefixTableEdges(t *testing.T) {
	entries := []prefixValue{
		{netip.MustParsePrefix("0.0.0.0/0"), 1},
		{netip.MustParsePrefix("255.255.255.255/32"), 2},
		{netip.MustParsePrefix("0.0.0.0/32"), 3},
		{netip.MustParsePrefix("10.0.0.0/8"), 4},
		{netip.MustParsePrefix("10.0.0.0/16"), 5},
		{netip.MustParsePrefix("10.255.0.0/16"), 6},
		{netip.MustParsePrefix("11.0.0.0/8"), 4},
		{netip.MustParsePrefix("::/0"), 7},
		{netip.MustParsePrefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 8},
		{netip.MustParsePrefix("2600::/16"), 9},
		{netip.MustParsePrefix("2600:0:0:0:8000::/65"), 10},
		{netip.MustParsePrefix("2600:0:0:0:8000::/66"), 11},
	}
	tab := newPrefixTable(entries)
	for _, s := range []string{"0.0.0.0", "0.0.0.1", "9.255.255.255", "10.0.0.0", "10.0.255.255", "10.1.0.0",
		"10.254.255.255", "10.255.0.0", "10.255.255.255", "11.0.0.0", "12.0.0.0", "255.255.255.254", "255.255.255.255",
		"::", "::1", "25ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2600::", "2600::7fff:ffff:ffff:ffff", "2600::8000:0:0:0",
		"2600::bfff:ffff:ffff:ffff", "2600::c000:0:0:0", "2600::ffff:ffff:ffff:ffff", "2600:0:0:1::", "2600:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"2601::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		a := netip.MustParseAddr(s)
		wv, wok := naiveLookup(entries, a)
		gv, gok := tableLookup(&tab, a)
		require.Equal(t, [2]any{wv, wok}, [2]any{gv, gok}, s)
	}
	// Adjacent ranges of one value are merged: 10/8 around 10.0/16 is not.
	require.Len(t, tab.v4.starts, 8)
}

// TestPrefixTableRandom checks lookups against the definition on random
// nested and overlapping prefix sets, probing every range boundary.
func TestPrefixTableRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var entries []prefixValue
		seen := map[netip.Prefix]bool{}
		n := 1 + rng.IntN(40)
		if round%20 == 0 {
			n = 600 // large enough for the IPv4 block index
		}
		for i := 0; i < n; i++ {
			var p netip.Prefix
			if rng.IntN(2) == 0 {
				// Few distinct high bits, so that prefixes nest.
				a := netip.AddrFrom4([4]byte{byte(rng.IntN(4) * 63), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
				p = netip.PrefixFrom(a, rng.IntN(33)).Masked()
			} else {
				var b [16]byte
				b[0], b[1], b[7], b[8] = 0x26, byte(rng.IntN(3)), byte(rng.IntN(256)), byte(rng.IntN(256))
				p = netip.PrefixFrom(netip.AddrFrom16(b), rng.IntN(129)).Masked()
			}
			if !seen[p] {
				seen[p] = true
				entries = append(entries, prefixValue{p, int32(rng.IntN(3))})
			}
		}
		tab := newPrefixTable(entries)
		if n == 600 {
			require.NotNil(t, tab.v4index)
		}
		var probes []netip.Addr
		for _, e := range entries {
			first := e.prefix.Addr()
			last := lastAddr(e.prefix)
			probes = append(probes, first, last)
			if p := first.Prev(); p.IsValid() && p.Is4() == first.Is4() {
				probes = append(probes, p)
			}
			if n := last.Next(); n.IsValid() && n.Is4() == last.Is4() {
				probes = append(probes, n)
			}
		}
		for _, a := range probes {
			wv, wok := naiveLookup(entries, a)
			gv, gok := tableLookup(&tab, a)
			require.Equal(t, [2]any{wv, wok}, [2]any{gv, gok}, "round %d address %s", round, a)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestParseIPv4(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "10.0.1.5", "1.2.3.4", "192.168.100.200"} {
		v, ok := parseIPv4(s)
		require.True(t, ok, s)
		a := netip.MustParseAddr(s).As4()
		require.Equal(t, uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]), v, s)
	}
	for _, s := range []string{"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.", ".1.2.3", "01.2.3.4", "1..2.3", "1.2.3.4 ", "-", "1.2.3.a", "1000.1.1.1"} {
		_, ok := parseIPv4(s)
		require.False(t, ok, s)
		_, err := netip.ParseAddr(s)
		require.Error(t, err, "netip agrees that %q is not an address", s)
	}
}

func TestIsPrivate(t *testing.T) {
	for s, want := range map[string]bool{
		"10.0.0.1": true, "9.255.255.255": false, "11.0.0.0": false,
		"172.16.0.0": true, "172.31.255.255": true, "172.15.255.255": false, "172.32.0.0": false,
		"192.168.0.1": true, "192.169.0.1": false, "100.64.0.0": true, "100.127.255.255": true, "100.128.0.0": false,
		"100.63.255.255": false, "169.254.1.1": true, "127.0.0.1": true, "203.0.113.5": false,
		"fc00::1": true, "fdff::1": true, "fe80::1": true, "febf::1": true, "fec0::1": false, "fbff::1": false,
		"::1": true, "2001:db8::1": false,
	} {
		a, ok := parseAddr(s)
		require.True(t, ok)
		require.Equal(t, want, isPrivate(a), s)
	}
}
