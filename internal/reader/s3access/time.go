package s3access

import (
	"errors"
	"fmt"
	"time"

	"convert/internal/reader"
)

// ErrBadTime means a request time is not in the access-log format
// dd/Mon/yyyy:hh:mm:ss ±hhmm (the text inside the brackets).
var ErrBadTime = errors.New("s3access: request time is not dd/Mon/yyyy:hh:mm:ss ±hhmm")

// requestTimeLen is the length of "06/Feb/2019:00:00:38 +0000".
const requestTimeLen = 26

var monthAbbrevs = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// RequestTime parses a requestdatetime value as the reader stores it (the
// bracketed time without its brackets, e.g. "06/Feb/2019:00:00:38 +0000")
// and returns the instant in UTC. Any zone offset is accepted and applied:
// "09/Feb/2021:14:48:42 +0200" is 12:48:42 UTC. Month names are the English
// abbreviations with an initial capital, as AWS writes them and as Athena's
// parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z') expects.
//
// Every row the Reader emits has a time RequestTime accepts: lines whose time
// does not parse are rejected, because that parse_datetime would fail the
// whole Athena query on them. The pipeline partitions rows by the UTC day of
// this instant.
func RequestTime(s string) (time.Time, error) {
	sec, ok := parseRequestTime(s)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %q", ErrBadTime, s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// parseRequestTime returns the Unix seconds of a request time, without
// allocating, and whether it is well-formed and a real calendar instant.
func parseRequestTime[T string | []byte](s T) (int64, bool) {
	if len(s) != requestTimeLen || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return 0, false
	}
	day, ok1 := reader.Digits(s[0:2])
	year, ok2 := reader.Digits(s[7:11])
	hour, ok3 := reader.Digits(s[12:14])
	minute, ok4 := reader.Digits(s[15:17])
	sec, ok5 := reader.Digits(s[18:20])
	offH, ok6 := reader.Digits(s[22:24])
	offM, ok7 := reader.Digits(s[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, false
	}
	month := 0
	for i, m := range monthAbbrevs {
		if string(s[3:6]) == m {
			month = i + 1
			break
		}
	}
	if month == 0 || day < 1 || day > reader.DaysIn(month, year) || hour > 23 || minute > 59 || sec > 59 || offH > 23 || offM > 59 {
		return 0, false
	}
	offset := offH*3600 + offM*60
	switch s[21] {
	case '+':
	case '-':
		offset = -offset
	default:
		return 0, false
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return unix, true
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm), avoiding time.Date on the per-row path.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= -1 for four-digit years, so truncation is floor
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
