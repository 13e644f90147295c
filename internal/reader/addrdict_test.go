package reader

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// parseIPv4 takes exactly the canonical dotted-quad form: what
// netip.ParseAddr accepts as IPv4 and formats back to the same text.
func TestParseIPv4Canonical(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.0.0.1", "255.255.255.255", "1.2.3.4", "192.168.100.200",
		"010.0.0.1", "10.0.0.01", "10.0.0.00", "00.0.0.0", "256.0.0.1", "10.0.0.256", "10.0.0", "10.0.0.1.",
		".10.0.0.1", "10..0.1", "10.0.0.1.2", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "+1.2.3.4", "1.2.3.1000",
		"1111.2.3.4", "::1", "2600:1f00::1", "::ffff:1.2.3.4", "-", "", "a.b.c.d", "1.2.3.4/32", "4294967295"} {
		ip, ok := parseIPv4([]byte(s))
		a, err := netip.ParseAddr(s)
		canonical := err == nil && a.Is4() && a.String() == s
		require.Equal(t, canonical, ok, "%q", s)
		if ok {
			require.Equal(t, a.As4(), [4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}, "%q", s)
		}
	}
}

// Equal values get equal numbers and different values different numbers,
// whatever their form: canonical IPv4 (the uint32 table), non-canonical
// IPv4 that means the same address ("010.0.0.1"), IPv6, "-" and "" (the
// string map), in one number space; the numbers are 0, 1, 2, … in the
// order values first appear. Mixed with enough repeats that the probe
// keeps numbering, and enough values that the table grows.
func TestAddrDictNumbersMatchValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// i%7 picks the form, i/7 the address: "10.1.2.1", "010.1.2.1" and
	// "10.1.2.01" are one address in three values.
	forms := func(i int) string {
		a, b := i/7/256%256, i/7%256
		switch i % 7 {
		case 0:
			return fmt.Sprintf("10.%d.%d.1", a, b)
		case 1:
			return fmt.Sprintf("010.%d.%d.1", a, b) // the same address as case 0, another value
		case 2:
			return fmt.Sprintf("2600:1f00::%x:%x", a, b)
		case 3:
			return "-"
		case 4:
			return ""
		case 5:
			return fmt.Sprintf("10.%d.%d.01", a, b)
		default:
			return fmt.Sprintf("%d.%d.%d.%d", a, b, i%3, i%5)
		}
	}
	d := NewAddrDict()
	byValue := map[string]int32{}
	byNum := map[int32]string{}
	for r := range 60_000 {
		i := rng.IntN(20_000)
		if r%2 == 0 {
			i = rng.IntN(50) // repeats: the probe must keep numbering
		}
		v := forms(i)
		k, ok := d.Number([]byte(v))
		require.True(t, ok, "row %d %q", r, v)
		if old, seen := byValue[v]; seen {
			require.Equal(t, old, k, "row %d: two numbers for %q", r, v)
		} else {
			require.Equal(t, int32(len(byValue)), k, "row %d: %q is new, its number is the next", r, v)
			_, taken := byNum[k]
			require.False(t, taken, "row %d: number %d for %q and %q", r, k, byNum[k], v)
		}
		byValue[v], byNum[k] = k, v
		require.Equal(t, len(byValue), d.Len())
	}
	require.Greater(t, len(d.slots), addrMinSlots, "the table never grew")
	require.False(t, d.Full())

	d.Reset()
	require.Equal(t, 0, d.Len())
	k, ok := d.Number([]byte("010.0.0.1"))
	require.True(t, ok)
	require.Equal(t, int32(0), k)
	k, _ = d.Number([]byte("10.0.0.1"))
	require.Equal(t, int32(1), k, "a value numbered before Reset is new after it")
}

// A column whose first AddrProbeRows rows are more than nine in ten
// distinct is not numbered for the rest of the object; NULLs count as
// rows, as in the writer's probe. Nine in ten exactly keeps numbering.
func TestAddrDictGivesUpOnRandomAddresses(t *testing.T) {
	addr := func(i int) []byte { return fmt.Appendf(nil, "10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }

	d := NewAddrDict()
	for i := range AddrProbeRows - 1 {
		_, ok := d.Number(addr(i))
		require.True(t, ok, "row %d: gave up before the probe's end", i)
	}
	_, ok := d.Number(addr(AddrProbeRows))
	require.False(t, ok, "the last row of the probe gives up")
	require.True(t, d.Full())
	_, ok = d.Number(addr(0))
	require.False(t, ok, "a value numbered before still gives up")

	// 9/10 of the rows distinct, the rest NULL or repeats: numbered on.
	distinct := AddrProbeRows * 9 / 10
	d = NewAddrDict()
	for i := range AddrProbeRows {
		switch {
		case i < distinct:
			_, ok = d.Number(addr(i))
		case i%2 == 0:
			d.Null()
		default:
			_, ok = d.Number(addr(0))
		}
		require.True(t, ok, "row %d", i)
	}
	require.False(t, d.Full())
	for i := range 10 * AddrProbeRows {
		_, ok = d.Number(addr(i))
		require.True(t, ok, "after the probe, row %d", i)
	}

	// One distinct value more: given up, at the last row of the probe,
	// which is a NULL.
	d = NewAddrDict()
	for i := range AddrProbeRows - 1 {
		if i <= distinct {
			_, ok = d.Number(addr(i))
		} else {
			_, ok = d.Number(addr(0))
		}
		require.True(t, ok, "row %d", i)
	}
	d.Null()
	require.True(t, d.Full())
}

// Past MaxAddrValues values, or MaxAddrBytes bytes of values, or a value
// longer than MaxDictValueBytes, an AddrDict stops numbering for the rest
// of the object.
func TestAddrDictBounds(t *testing.T) {
	d := NewAddrDict()
	// Repeats first, so that the probe keeps numbering.
	for range AddrProbeRows {
		_, ok := d.Number([]byte("1.1.1.1"))
		require.True(t, ok)
	}
	for i := 1; i < MaxAddrValues; i++ {
		k, ok := d.Number(fmt.Appendf(nil, "10.0.%d.%d", i>>8, i&255))
		require.True(t, ok, "value %d", i)
		require.Equal(t, int32(i), k)
	}
	require.Equal(t, MaxAddrValues, d.Len())
	k, ok := d.Number([]byte("10.0.0.7"))
	require.True(t, ok, "a value numbered before")
	require.Equal(t, int32(7), k)
	_, ok = d.Number([]byte("10.255.0.1"))
	require.False(t, ok, "value %d", MaxAddrValues+1)
	require.True(t, d.Full())

	// Bytes: IPv6 values of 39 bytes reach MaxAddrBytes before MaxAddrValues.
	d = NewAddrDict()
	for range AddrProbeRows {
		d.Null()
	}
	n := 0
	for ; ; n++ {
		if _, ok := d.Number(fmt.Appendf(nil, "2600:1f00:0000:0000:0000:0000:%04x:%04x", n>>16, n&0xffff)); !ok {
			break
		}
	}
	require.Equal(t, MaxAddrBytes/39, n)
	require.True(t, d.Full())

	d = NewAddrDict()
	_, ok = d.Number(make([]byte, MaxDictValueBytes+1))
	require.False(t, ok)
	require.True(t, d.Full())
}
