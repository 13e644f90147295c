package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeState renders everything decode produced for one record, for
// comparing two decoders.
func decodeState(d *decoder, b []byte) string {
	end, err := d.decode(b)
	var w strings.Builder
	var se *syntaxError
	switch {
	case errors.As(err, &se):
		fmt.Fprintf(&w, "syntax error at %d\n", se.off)
	case err != nil:
		fmt.Fprintf(&w, "error %v\n", err)
	}
	fmt.Fprintf(&w, "end %d event %v digest %v records %v raw %v %q\n", end, d.hasEvent, d.digest, d.sawRecords, d.rawEnvOK, d.rawEnv)
	if err != nil {
		return w.String()
	}
	cell := func(v value) string {
		if !v.ok {
			return "NULL"
		}
		return fmt.Sprintf("%q", v.b)
	}
	for i, v := range d.vals {
		fmt.Fprintf(&w, "val %d %s\n", i, cell(v))
	}
	fmt.Fprintf(&w, "present %v resources %v %d %v\n", d.present, d.resOK, d.resN, d.resValid)
	for i, v := range d.resVals {
		fmt.Fprintf(&w, "res %d %s\n", i, cell(v))
	}
	for i, m := range d.maps {
		fmt.Fprintf(&w, "map %d %v", i, m.ok)
		for _, e := range m.entries {
			fmt.Fprintf(&w, " %s=%s", cell(e.key), cell(e.val))
		}
		w.WriteString("\n")
	}
	for _, n := range d.notes {
		fmt.Fprintf(&w, "note %s %q\n", n.l.path, n.name)
	}
	for _, m := range d.rootExtra {
		fmt.Fprintf(&w, "extra %q %q\n", m.key, m.raw)
	}
	fmt.Fprintf(&w, "unmapped %s\n", cell(d.um.finish()))
	return w.String()
}

// keyMemoryRecords are records whose members follow each other in changing
// order and spelling, so that the remembered names are right, wrong, a
// prefix or an extension of the next one, an escaped or spaced spelling of
// it, or cut off by the end of the input.
var keyMemoryRecords = []string{
	`{"eventVersion":"1.08","eventName":"A","eventTime":"2024-05-01T00:00:01Z","userIdentity":{"type":"IAMUser","arn":"x"}}`,
	`{"eventVersion":"1.08","eventName":"B","eventTime":"2024-05-01T00:00:02Z","userIdentity":{"type":"IAMUser","arn":"y"}}`,
	`{"eventVersion":"1.08","EventName":"C","eventTime":"2024-05-01T00:00:03Z","userIdentity":{"Type":"Root","arn":"z"}}`,
	`{"eventVersion":"1.08","eventNameX":"D","eventName":"D","eventTime":"t","userIdentity":{"typ":"u","type":"v"}}`,
	`{"eventVersion":"1.08","eventNam":"E","eventName":"E","eventName":"E2","eventname":"E3"}`,
	`{"eventVersion":"1.08","event\u004eame":"F","eventTime" :"t","eventSource": "s"}`,
	`{"eventVersion":"1.08","eventName":"G","managementEvent":true,"recipientAccountId":"1","managementEvent":false}`,
	`{"eventVersion":"1.08","eventName":"H","Records":[],"logFiles":[],"_raw":"{}","recipientAccountId":"2"}`,
	`{"eventVersion":"1.08","eventName":"I","resources":[{"type":"T","ARN":"a"},{"accountId":"1","type":"T","ARN":"b"},{"ARN":"c","arn":"d"},5,null]}`,
	`{"eventVersion":"1.08","eventName":"J","resources":[{"accountId":"1","type":"T","ARN":"b"},{"type":"T","ARN":"a"},{"ARNs":"c"}]}`,
	`{"eventVersion":"1.08","eventName":"K","userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"a":"b","a":"c","eventName":"x"}}}}}`,
	`{"eventVersion":"1.08","eventName":"L","eventTime":"2024-05-01T00:00:03Z","userIdentity":"not an object"}`,
	`{"eventVersion":"1.08","eventName":"M","évent":"é","eventTime":"t"}`,
	`{"eventVersion":"1.08","eventName":"N","eventTime":"2024-05-01T00:00:03Z","userIdentity":{"type":"IAMUser","arn":"x"}}`,
	`{"eventVersion":"1.08","eventName":"O","eventTime`,
	`{"eventVersion":"1.08","eventName":"P","eventTime":`,
	`{"eventVersion":"1.08","eventName":"Q","eventTime"`,
	`{"eventVersion":"1.08","eventName":"R","eventTime":"2024-05-01T00:00:03Z","userIdentity":{"type":"IAMUser","arn":"x"}}`,
	`{"eventVersion":"1.08","eventName":"S","eventTime":"2024-05-01T00:00:03Z","userIdentity":{"type":"IAMUser","arn"`,
	`{"eventVersion":"1.08","eventName":"T","eventTime":"t","eventTime":"u","eventTime":"v"}`,
	`{"eventVersion":"1.08","eventName":"U","aVeryLongMemberNameThatIsLongerThanTheMemory":1,"aVeryLongMemberNameThatIsLongerThanTheMemory":2}`,
	`{"eventVersion":"1.08","eventName":"V"  ,  "eventTime"  :  "t"  }`,
	`{"eventVersion":"1.08","eventName":"W",,"eventTime":"t"}`,
	`{"eventVersion":"1.08","eventName":"X","eventTime":"t"}`,
}

// requireMemoryAgrees decodes each record with one decoder, whose memory of
// names carries from record to record, and with a new decoder, which
// remembers nothing: the two must decode it alike.
func requireMemoryAgrees(t testing.TB, records [][]byte) {
	warm := newDecoder(DefaultMaxDepth)
	for i, rec := range records {
		if len(rec) == 0 || rec[0] != '{' {
			continue
		}
		want := decodeState(newDecoder(DefaultMaxDepth), rec)
		require.Equal(t, want, decodeState(warm, rec), "record %d: %q", i, rec)
	}
}

func TestKeyMemoryChangesNothing(t *testing.T) {
	var records [][]byte
	for range 3 {
		for _, r := range keyMemoryRecords {
			records = append(records, []byte(r))
		}
	}
	// And in the reverse order, and each record after each other one.
	for i := len(keyMemoryRecords) - 1; i >= 0; i-- {
		records = append(records, []byte(keyMemoryRecords[i]))
	}
	for _, a := range keyMemoryRecords {
		for _, b := range keyMemoryRecords {
			records = append(records, []byte(a), []byte(b))
		}
	}
	requireMemoryAgrees(t, records)
}

func FuzzKeyMemory(f *testing.F) {
	f.Add([]byte(strings.Join(keyMemoryRecords, "\n")))
	f.Add([]byte(keyMemoryRecords[0] + "\n" + keyMemoryRecords[2] + "\n" + keyMemoryRecords[0]))
	f.Fuzz(func(t *testing.T, data []byte) {
		requireMemoryAgrees(t, bytes.Split(data, []byte("\n")))
	})
}

func TestKeyMemoryRemembers(t *testing.T) {
	l := plan.root
	field := func(name string) *field { return l.find([]byte(name)) }
	var m keyMemory = newKeyMemory()
	pos := startPos(l)
	in := []byte(`"eventName":"x","eventTime":"y","eventTimeX":1,"managementEvent":true,"event\u0054ime":2, padding to forty bytes and more`)
	at := func(s string) int { return bytes.Index(in, []byte(s)) }

	_, _, ok := m.match(l, pos, in, 0)
	require.False(t, ok, "nothing remembered yet")

	m.remember(l, pos, in, 0, len(`"eventName":`), field("eventname"))
	f, end, ok := m.match(l, pos, in, 0)
	require.True(t, ok)
	require.Same(t, field("eventname"), f)
	require.Equal(t, len(`"eventName":`), end)
	_, _, ok = m.match(l, pos+1, in, 0)
	require.False(t, ok, "remembered at another position only")
	_, _, ok = m.match(l, pos, in[:8], 0)
	require.False(t, ok, "input ends inside the name")
	_, _, ok = m.match(l, pos, []byte(`"eventName" :`), 0)
	require.False(t, ok)
	_, _, ok = m.match(l, pos, []byte(`"EventName":`+strings.Repeat(" ", 40)), 0)
	require.False(t, ok, "another spelling is another name")

	// A second name at the same position: both are remembered.
	et := at(`"eventTime":`)
	m.remember(l, pos, in, et, et+len(`"eventTime":`), field("eventtime"))
	f, _, ok = m.match(l, pos, in, et)
	require.True(t, ok)
	require.Same(t, field("eventtime"), f)
	f, _, ok = m.match(l, pos, in, 0)
	require.True(t, ok)
	require.Same(t, field("eventname"), f)
	_, _, ok = m.match(l, pos, in, at(`"eventTimeX":`))
	require.False(t, ok, "a longer name is not the remembered one")

	// A third pushes out the one remembered first; a member without a
	// field is remembered as such.
	me := at(`"managementEvent":`)
	m.remember(l, pos, in, me, me+len(`"managementEvent":`), nil)
	f, _, ok = m.match(l, pos, in, me)
	require.True(t, ok)
	require.Nil(t, f)
	_, _, ok = m.match(l, pos, in, 0)
	require.False(t, ok, "eventName was pushed out")

	// An escaped name is remembered as it is written; a name longer than
	// the memory is not remembered.
	esc := at(`"event\u0054ime":`)
	m.remember(l, unmappedPos(l), in, esc, esc+len(`"event\u0054ime":`), field("eventtime"))
	f, _, ok = m.match(l, unmappedPos(l), in, esc)
	require.True(t, ok)
	require.Same(t, field("eventtime"), f)
	long := []byte(`"` + strings.Repeat("a", maxKeyBytes) + `":`)
	m.remember(l, unmappedPos(l), long, 0, len(long), nil)
	_, _, ok = m.match(l, unmappedPos(l), long, 0)
	require.False(t, ok)
}

// Every level has its own positions in a keyMemory.
func TestKeyMemoryPositionsAreDisjoint(t *testing.T) {
	next := 0
	for _, l := range plan.all {
		require.Equal(t, next, l.keyBase, "level %q", l.path)
		next += len(l.fields) + 2
	}
	require.Len(t, newKeyMemory().keys, keyWays*next)
}

func TestMayBeDigestKey(t *testing.T) {
	for k := range digestKeys {
		require.True(t, mayBeDigestKey([]byte(k)), k)
	}
	require.False(t, mayBeDigestKey([]byte("managementEvent")))
}

// match compares the first shortWords words of a member without a branch
// and the rest only for a longer member: a member that differs from the
// remembered one in any byte, in the first words or past them, or that the
// input cuts short, does not match; one that the input ends right after
// does.
func TestKeyMemoryComparesEveryByte(t *testing.T) {
	l := plan.root
	pos := startPos(l)
	for _, name := range []string{"eventName", "sessionCredentialFromConsole", "aNameOfThirtyFiveBytesAllInAllXyz"} {
		key := `"` + name + `":`
		require.LessOrEqual(t, len(key), maxKeyBytes)
		var m keyMemory = newKeyMemory()
		m.remember(l, pos, []byte(key), 0, len(key), l.find([]byte(strings.ToLower(name))))
		for _, tail := range []string{"", `"x"`, `"x"` + strings.Repeat(" ", maxKeyBytes)} {
			in := []byte(key + tail)
			_, end, ok := m.match(l, pos, in, 0)
			require.True(t, ok, "%q", in)
			require.Equal(t, len(key), end)
			require.False(t, m.matches(l, pos, in[:len(key)-1]), "%q cut short", key)
			for k := range len(key) {
				other := bytes.Clone(in)
				other[k] ^= 0x01
				require.False(t, m.matches(l, pos, other), "%q with byte %d changed", other, k)
			}
		}
	}
}

func (m *keyMemory) matches(l *level, pos int, b []byte) bool {
	_, _, ok := m.match(l, pos, b, 0)
	return ok
}
