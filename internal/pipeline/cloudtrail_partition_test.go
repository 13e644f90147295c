package pipeline

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/keypath"
	"convert/internal/schema"
)

// slowEventDay is eventDay without its fast path: time.Parse, as eventDay
// was before it had one.
func slowEventDay(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

// requireFastAgrees checks that eventDayUTC, where it accepts s, gives what
// time.Parse gives, and that eventDay always does.
func requireFastAgrees(t testing.TB, s string) (fast bool) {
	want, wantOK := slowEventDay(s)
	got, ok := eventDay(s)
	require.Equal(t, wantOK, ok, "%q", s)
	require.Equal(t, want, got, "%q", s)
	fd, fast := eventDayUTC(s)
	if fast {
		require.True(t, wantOK, "fast path accepts %q, time.Parse does not", s)
		require.Equal(t, want, fd, "%q", s)
	}
	return fast
}

func TestEventDay(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in   string
		want time.Time // zero: not a time
		fast bool      // taken by the fast path
	}{
		{"2024-05-01T12:03:04Z", day(2024, 5, 1), true},
		{"2024-02-29T23:59:59Z", day(2024, 2, 29), true},
		{"2000-02-29T00:00:00Z", day(2000, 2, 29), true},
		{"0000-01-01T00:00:00Z", day(0, 1, 1), true},
		{"9999-12-31T23:59:59Z", day(9999, 12, 31), true},
		{"2024-05-01T12:03:04.123Z", day(2024, 5, 1), false},
		{"2024-05-01T23:30:00-02:00", day(2024, 5, 2), false},
		{"2024-05-01T00:30:00+01:00", day(2024, 4, 30), false},
		{"2023-02-29T00:00:00Z", time.Time{}, false},
		{"1900-02-29T00:00:00Z", time.Time{}, false},
		{"2024-04-31T00:00:00Z", time.Time{}, false},
		{"2024-13-01T00:00:00Z", time.Time{}, false},
		{"2024-00-01T00:00:00Z", time.Time{}, false},
		{"2024-05-00T00:00:00Z", time.Time{}, false},
		{"2024-05-01T24:00:00Z", time.Time{}, false},
		{"2024-05-01T12:60:00Z", time.Time{}, false},
		{"2024-05-01T12:00:60Z", time.Time{}, false},
		{"2024-05-01t12:03:04Z", time.Time{}, false},
		{"2024-05-01T12:03:04z", time.Time{}, false},
		{"2024-05-01 12:03:04Z", time.Time{}, false},
		{"2024-5-01T12:03:04Z", time.Time{}, false},
		{"+024-05-01T12:03:04Z", time.Time{}, false},
		{"2024-05-01T12:03:04", time.Time{}, false},
		{"2024-05-01T12:03:04ZZ", time.Time{}, false},
		{"2024-05-01", time.Time{}, false},
		{"", time.Time{}, false},
		{"2024-05-01T1a:03:04Z", time.Time{}, false},
	} {
		got, ok := eventDay(tc.in)
		require.Equal(t, !tc.want.IsZero(), ok, "%q", tc.in)
		require.Equal(t, tc.want, got, "%q", tc.in)
		require.Equal(t, tc.fast, requireFastAgrees(t, tc.in), "fast path for %q", tc.in)
	}
}

// Every day of some years, and days just outside every month, in the
// canonical form: the fast path takes each valid one and agrees with
// time.Parse on all.
func TestEventDayCalendar(t *testing.T) {
	for _, y := range []int{0, 4, 100, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (d*7)%25, (d*13)%61, (d*17)%61)
				_, valid := slowEventDay(s)
				require.Equal(t, valid, requireFastAgrees(t, s), "fast path for %q", s)
			}
		}
	}
}

func FuzzEventDay(f *testing.F) {
	for _, s := range []string{"2024-05-01T12:03:04Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z",
		"2024-05-01T12:03:04.5Z", "2024-05-01T23:30:00-02:00", "9999-12-31T23:59:59Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { requireFastAgrees(t, s) })
}

// cloudTrailBatch is a batch of the CloudTrail schema with the partition
// columns set from rows of {account, region, eventTime} ("\x00" is NULL) and
// every other column NULL.
func cloudTrailBatch(t testing.TB, rows [][3]string) arrow.RecordBatch {
	t.Helper()
	sc := schema.CloudTrailSchema()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	cols := map[string]int{schema.CloudTrailAccountColumn: 0, schema.CloudTrailRegionColumn: 1, schema.CloudTrailTimeColumn: 2}
	for i, f := range sc.Fields() {
		c, ok := cols[f.Name]
		for _, r := range rows {
			if !ok || r[c] == "\x00" {
				b.Field(i).AppendNull()
			} else {
				b.Field(i).(*array.StringBuilder).Append(r[c])
			}
		}
	}
	rec := b.NewRecordBatch()
	t.Cleanup(rec.Release)
	return rec
}

// Partition gives every row the partition of its own account, region and
// day, computed here row by row, whatever the row before it was: rows that
// share some of the three with their neighbour, NULLs, fallbacks to the key,
// times in other forms and times that do not parse.
func TestCloudTrailPartitionRowByRow(t *testing.T) {
	accounts := []string{"111122223333", "111122223333", "012345678901", "", "\x00", "a/b"}
	regions := []string{"us-east-1", "us-east-1", "eu-west-1", "", "\x00"}
	times := []string{"2024-05-01T10:00:00Z", "2024-05-01T23:59:59Z", "2024-05-02T00:00:00Z", "2024-05-01T23:30:00-02:00",
		"2024-05-01T10:00:00.5Z", "not a time", "", "\x00"}
	rng := rand.New(rand.NewPCG(1, 2))
	var rows [][3]string
	for range 2000 {
		if len(rows) > 0 && rng.IntN(2) == 0 {
			// Repeat the last row, or change one of its three values.
			r := rows[len(rows)-1]
			switch rng.IntN(4) {
			case 1:
				r[0] = accounts[rng.IntN(len(accounts))]
			case 2:
				r[1] = regions[rng.IntN(len(regions))]
			case 3:
				r[2] = times[rng.IntN(len(times))]
			}
			rows = append(rows, r)
			continue
		}
		rows = append(rows, [3]string{accounts[rng.IntN(len(accounts))], regions[rng.IntN(len(regions))], times[rng.IntN(len(times))]})
	}
	rec := cloudTrailBatch(t, rows)
	fallback := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, byDelivery := range []bool{false, true} {
		k := &CloudTrail{ByDelivery: byDelivery}
		counts := &PartitionCounts{}
		src := ObjectSource{Key: keypath.Info{Account: "999988887777", Region: "ap-south-1"}, Fallback: fallback, Counts: counts}
		spans, err := k.Partition(rec, src)
		require.NoError(t, err)
		var fallbacks int64
		next := int64(0)
		for _, sp := range spans {
			require.Equal(t, next, sp.Start)
			require.Less(t, sp.Start, sp.End)
			next = sp.End
			for i := sp.Start; i < sp.End; i++ {
				r := rows[i]
				null := func(s string) string {
					if s == "\x00" {
						return ""
					}
					return s
				}
				day := fallback
				if et := null(r[2]); et != "" && !byDelivery {
					if d, ok := slowEventDay(et); ok {
						day = d
					} else {
						fallbacks++
					}
				}
				want := "account=" + partitionValue(null(r[0]), "999988887777") + "/region=" + partitionValue(null(r[1]), "ap-south-1") + "/" + DayPartition(day)
				require.Equal(t, want, sp.Partition, "row %d %q", i, r)
			}
		}
		require.Equal(t, int64(len(rows)), next)
		require.Equal(t, fallbacks, counts.TimeFallbacks)
	}
}
