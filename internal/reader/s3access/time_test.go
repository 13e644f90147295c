package s3access

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRequestTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, or "" for an error
	}{
		// 1549411238 s is the instant OpenTelemetry's upstream expectation
		// gives for this line (too_many_values_expected.yaml).
		{"06/Feb/2019:00:00:38 +0000", "2019-02-06T00:00:38Z"},
		{"09/Feb/2021:14:48:42 +0200", "2021-02-09T12:48:42Z"},
		{"05/Jan/2024:23:59:58 -0530", "2024-01-06T05:29:58Z"},
		{"01/Jan/2024:00:30:00 +0100", "2023-12-31T23:30:00Z"},
		{"29/Feb/2024:12:00:00 +0000", "2024-02-29T12:00:00Z"},
		{"31/Dec/1999:23:59:59 +0000", "1999-12-31T23:59:59Z"},
		{"29/Feb/2023:12:00:00 +0000", ""},
		{"31/Apr/2024:12:00:00 +0000", ""},
		{"00/Jan/2024:12:00:00 +0000", ""},
		{"05/feb/2024:12:00:00 +0000", ""},
		{"05/FEB/2024:12:00:00 +0000", ""},
		{"05/Feb/2024:24:00:00 +0000", ""},
		{"05/Feb/2024:12:60:00 +0000", ""},
		{"05/Feb/2024:12:00:60 +0000", ""},
		{"05/Feb/2024:12:00:00 +02:00", ""},
		{"05/Feb/2024:12:00:00 0200", ""},
		{"05/Feb/2024:12:00:00 *0200", ""},
		{"05/Feb/2024:12:00:00 +0260", ""},
		{"5/Feb/2024:12:00:00 +0000", ""},
		{"05/Feb/2024 12:00:00 +0000", ""},
		{"2024-02-05T12:00:00Z", ""},
		{"-", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := RequestTime(tc.in)
		if tc.want == "" {
			require.ErrorIs(t, err, ErrBadTime, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got.Format(time.RFC3339), tc.in)
		require.Equal(t, time.UTC, got.Location())
	}
	got, err := RequestTime("06/Feb/2019:00:00:38 +0000")
	require.NoError(t, err)
	require.Equal(t, int64(1549411238), got.Unix())
}

// parseRequestTime must agree with time.Parse on every well-formed instant.
func TestRequestTimeAgreesWithTimeParse(t *testing.T) {
	const layout = "02/Jan/2006:15:04:05 -0700"
	r := rand.New(rand.NewPCG(7, 11))
	for range 20000 {
		sec := r.Int64N(int64(200*365.25*86400)) + time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		off := (r.IntN(24*4) - 12*4) * 15 * 60
		s := time.Unix(sec, 0).In(time.FixedZone("", off)).Format(layout)
		want, err := time.Parse(layout, s)
		require.NoError(t, err)
		got, ok := parseRequestTime(s)
		require.True(t, ok, s)
		require.Equal(t, want.Unix(), got, s)
		gotBytes, ok := parseRequestTime([]byte(s))
		require.True(t, ok)
		require.Equal(t, got, gotBytes)
	}
}

func BenchmarkRequestTime(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RequestTime("09/Feb/2021:14:48:42 +0200"); err != nil {
			b.Fatal(err)
		}
	}
}
