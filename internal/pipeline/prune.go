package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DirLister lists the "directories" directly under a key prefix ending in
// "/", as full key prefixes ending in "/" (storage.S3Source.Dirs).
type DirLister func(ctx context.Context, dir string) ([]string, error)

// maxPruneDirs bounds the directories DayPrefixes looks at before it gives up
// pruning (and the caller lists everything): a layout it does not understand
// must not cost more listing than it saves.
const maxPruneDirs = 10000

var (
	yearDir = regexp.MustCompile(`(^|/)(year=)?(\d{4})/$`)
)

// DayPrefixes finds, under base, the key prefixes that hold the objects of
// the days from..to (inclusive), so that a run over a date range lists only
// those days. It walks down the AWS layouts (AWSLogs/[o-org/]<account>/
// <service>/<region>/YYYY/MM/DD/ and the Hive year=YYYY/month=MM/day=DD/
// form) with one delimiter listing per level, keeping only the directories
// skip does not reject. For S3 access logs in the simple layout, whose
// objects sit directly under base named YYYY-MM-DD-hh-mm-ss-…, the prefixes
// are base+"YYYY-MM-DD" (namePrefixes). ok=false means the layout was not
// recognised and the caller should list base whole.
func DayPrefixes(ctx context.Context, dirs DirLister, base string, from, to time.Time, skip func(dir string) bool, namePrefixes bool) (prefixes []string, ok bool, err error) {
	if from.IsZero() && to.IsZero() {
		return nil, false, nil
	}
	if to.IsZero() {
		to = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if base != "" && !strings.HasSuffix(base, "/") {
		base += "/"
	}
	seen := 0
	var walk func(dir string, depth int) (bool, error)
	walk = func(dir string, depth int) (bool, error) {
		subs, err := dirs(ctx, dir)
		if err != nil {
			return false, fmt.Errorf("listing %s: %w", dir, err)
		}
		seen += len(subs)
		if seen > maxPruneDirs || depth > 8 {
			return false, nil
		}
		if len(subs) == 0 {
			if namePrefixes && depth == 0 {
				for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
					prefixes = append(prefixes, dir+d.Format("2006-01-02"))
				}
				return true, nil
			}
			return true, nil // an empty branch: nothing to list
		}
		var years []string
		for _, s := range subs {
			if yearDir.MatchString(s) {
				years = append(years, s)
			}
		}
		if len(years) > 0 {
			hive := strings.Contains(years[0], "year=")
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				if d.Year() < yearOf(years[0]) || d.Year() > yearOf(years[len(years)-1]) {
					continue
				}
				if hive {
					prefixes = append(prefixes, fmt.Sprintf("%syear=%04d/month=%02d/day=%02d/", dir, d.Year(), int(d.Month()), d.Day()))
				} else {
					prefixes = append(prefixes, fmt.Sprintf("%s%04d/%02d/%02d/", dir, d.Year(), int(d.Month()), d.Day()))
				}
			}
			return true, nil
		}
		for _, s := range subs {
			if skip != nil && skip(s) {
				continue
			}
			ok, err := walk(s, depth+1)
			if err != nil || !ok {
				return ok, err
			}
		}
		return true, nil
	}
	ok, err = walk(base, 0)
	if err != nil || !ok {
		return nil, false, err
	}
	return prefixes, true, nil
}

func yearOf(dir string) int {
	m := yearDir.FindStringSubmatch(dir)
	y := 0
	fmt.Sscanf(m[3], "%d", &y)
	return y
}
