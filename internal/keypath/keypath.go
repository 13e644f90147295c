// Package keypath reads what AWS puts in the key of a delivered log object:
// the account, the region and the delivery date, in both the classic
// (AWSLogs/<account>/<service>/<region>/YYYY/MM/DD/) and the Hive-compatible
// (aws-account-id=…/aws-service=…/aws-region=…/year=…/month=…/day=…/) layouts,
// plus the date-stamped file names AWS uses (…_20180620T1620Z_…,
// 2013-11-01-21-32-16-…). It only parses strings; it never touches storage.
package keypath

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Info is what a key says about its object. Zero fields were not found.
type Info struct {
	Account string    // AWS account id
	Region  string    // region code
	Org     string    // organization id of an organization trail (o-…)
	Service string    // "vpcflowlogs", "CloudTrail", "CloudTrail-Digest", …
	Date    time.Time // the day in the key path (UTC midnight), or from the file name
}

// HasDate reports whether the key carries a date.
func (i Info) HasDate() bool { return !i.Date.IsZero() }

var (
	fileStamp   = regexp.MustCompile(`(?:^|[_/])(\d{8})T\d{4}Z`)
	dashedStamp = regexp.MustCompile(`(?:^|/)[^/]*?(\d{4}-\d{2}-\d{2})-\d{2}-\d{2}-\d{2}-[^/]*$`)
	accountRe   = regexp.MustCompile(`^\d{12}$`)
)

// Parse reads a slash-separated key or path.
func Parse(key string) Info {
	var info Info
	segs := strings.Split(strings.ReplaceAll(key, "\\", "/"), "/")
	dirs := segs[:len(segs)-1]

	// Hive-compatible layout: name=value segments.
	var y, m, d string
	for _, s := range dirs {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		switch name {
		case "aws-account-id", "account":
			info.Account = value
		case "aws-service", "service":
			info.Service = value
		case "aws-region", "region":
			info.Region = value
		case "year":
			y = value
		case "month":
			m = value
		case "day":
			d = value
		}
	}
	if t, ok := date(y, m, d); ok {
		info.Date = t
	}

	// Classic layout: AWSLogs/[o-…/]<account>/<service>/<region>/YYYY/MM/DD/.
	for i, s := range dirs {
		if s != "AWSLogs" {
			continue
		}
		rest := dirs[i+1:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "o-") {
			info.Org = rest[0]
			rest = rest[1:]
		}
		if len(rest) >= 3 && !strings.Contains(rest[0], "=") {
			info.Account, info.Service, info.Region = rest[0], rest[1], rest[2]
			if len(rest) >= 6 && info.Date.IsZero() {
				if t, ok := date(rest[3], rest[4], rest[5]); ok {
					info.Date = t
				}
			}
		}
		break
	}

	// Any YYYY/MM/DD run of directories (S3 access-log date-based keys).
	if info.Date.IsZero() {
		for i := 0; i+2 < len(dirs); i++ {
			if len(dirs[i]) == 4 && len(dirs[i+1]) == 2 && len(dirs[i+2]) == 2 {
				if t, ok := date(dirs[i], dirs[i+1], dirs[i+2]); ok {
					info.Date = t
					break
				}
			}
		}
	}

	// File-name stamps: …_YYYYMMDDTHHmmZ_… and YYYY-MM-DD-hh-mm-ss-UNIQUE.
	name := segs[len(segs)-1]
	if info.Date.IsZero() {
		if m := fileStamp.FindStringSubmatch(name); m != nil {
			if t, ok := date(m[1][:4], m[1][4:6], m[1][6:8]); ok {
				info.Date = t
			}
		}
	}
	if info.Date.IsZero() {
		if m := dashedStamp.FindStringSubmatch("/" + name); m != nil {
			if t, ok := date(m[1][:4], m[1][5:7], m[1][8:10]); ok {
				info.Date = t
			}
		}
	}
	if info.Account == "" {
		// <account>_vpcflowlogs_<region>_… and <account>_CloudTrail_<region>_…
		parts := strings.Split(name, "_")
		if len(parts) >= 3 && accountRe.MatchString(parts[0]) {
			info.Account, info.Service, info.Region = parts[0], parts[1], parts[2]
		}
	}
	return info
}

func date(y, m, d string) (time.Time, bool) {
	if len(y) != 4 || len(m) == 0 || len(m) > 2 || len(d) == 0 || len(d) > 2 {
		return time.Time{}, false
	}
	yi, err1 := strconv.Atoi(y)
	mi, err2 := strconv.Atoi(m)
	di, err3 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || err3 != nil || mi < 1 || mi > 12 || di < 1 || di > 31 {
		return time.Time{}, false
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Day() != di {
		return time.Time{}, false // 31 February and the like
	}
	return t, true
}

// ParseDay parses a YYYY-MM-DD flag value.
func ParseDay(s string) (time.Time, error) {
	return time.Parse("2006-01-02", s)
}
