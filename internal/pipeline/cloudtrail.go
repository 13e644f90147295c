package pipeline

import (
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"convert/internal/keypath"
	"convert/internal/reader"
	"convert/internal/reader/cloudtrail"
	"convert/internal/schema"
	"convert/internal/storage"
	"convert/internal/writer"
)

// CloudTrail is the CloudTrail logs kind. Rows go to
// account=<recipientAccountId>/region=<awsRegion>/year=/month=/day= of their
// eventTime (UTC), each falling back to the object key where the record
// lacks it.
type CloudTrail struct {
	// ByDelivery takes the day from the object key instead of eventTime.
	ByDelivery     bool
	MaxRecordBytes int
	ChunkRows      int
}

// TimeFallbackWarning implements timeFallbackWarner.
func (k *CloudTrail) TimeFallbackWarning(n int64) string {
	return fmt.Sprintf("%d records had an eventTime that is not an RFC 3339 time; they were partitioned by the key date (the eventtime column keeps the value)", n)
}

// cloudTrailService is the AWSLogs folder of CloudTrail events.
const cloudTrailService = "CloudTrail"

// Name implements Kind.
func (k *CloudTrail) Name() string { return "cloudtrail" }

// Describe implements Kind.
func (k *CloudTrail) Describe() Description {
	return Description{Name: k.Name(), Title: "CloudTrail logs", Table: "cloudtrail_logs_parquet", Resource: "CloudTrailTable",
		Schema: schema.CloudTrailSchema, Partitions: append([]string{"account", "region"}, dayPartitionColumns...), Service: cloudTrailService}
}

// Select implements Kind: CloudTrail-Digest, CloudTrail-Insight and other
// non-event folders are not input of the cloudtrail table.
func (k *CloudTrail) Select(obj storage.Object, key keypath.Info) (bool, string) {
	switch {
	case strings.HasSuffix(obj.Key, ".parquet"):
		return false, "Parquet object"
	case key.Service != "" && key.Service != cloudTrailService:
		return false, "not a CloudTrail event folder (" + key.Service + ")"
	case strings.Contains(obj.Key, "CloudTrail-Digest"):
		return false, "not a CloudTrail event folder (CloudTrail-Digest)"
	}
	return true, ""
}

// NewReader implements Kind.
func (k *CloudTrail) NewReader(r io.Reader, src ObjectSource) (Reader, error) {
	rd, err := cloudtrail.NewReader(r, cloudtrail.Config{
		Object:         src.Object.Key,
		ChunkRows:      k.ChunkRows,
		MaxRecordBytes: k.MaxRecordBytes,
		Reject:         src.Reject,
		Mem:            src.Mem,
	})
	if err != nil {
		return nil, err
	}
	return ctReader{rd}, nil
}

type ctReader struct{ *cloudtrail.Reader }

func (r ctReader) Counts() (int64, int64) {
	s := r.Stats()
	return s.Records, s.Rejected
}

// SkipReason implements skipper: a digest file holds no events.
func (r ctReader) SkipReason() string {
	if r.IsDigest() {
		return "CloudTrail digest file (no events)"
	}
	return ""
}

// Partition implements Kind.
func (k *CloudTrail) Partition(rec arrow.RecordBatch, src ObjectSource) ([]Span, error) {
	col := func(name string) *array.String {
		if idx := rec.Schema().FieldIndices(name); len(idx) > 0 {
			if s, ok := rec.Column(idx[0]).(*array.String); ok {
				return s
			}
		}
		return nil
	}
	accounts, regions, times := col(schema.CloudTrailAccountColumn), col(schema.CloudTrailRegionColumn), col(schema.CloudTrailTimeColumn)
	value := func(a *array.String, i int) string {
		if a == nil || a.IsNull(i) {
			return ""
		}
		return a.Value(i)
	}
	names := map[string]string{}
	var spans []Span
	// Rows of one object mostly share their account, region and day: the
	// previous row's partition is reused when all three are the same.
	var last struct {
		ok              bool
		account, region string
		day             time.Time
		name            string
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		rawAccount, rawRegion := value(accounts, i), value(regions, i)
		day := src.Fallback
		if !k.ByDelivery {
			if et := value(times, i); et != "" {
				if t, ok := eventDay(et); ok {
					day = t
				} else {
					src.Counts.timeFallback()
				}
			}
		}
		if day.IsZero() {
			return nil, fmt.Errorf("row %d: %w (no eventTime and no date in the key)", i, ErrNoPartitionDate)
		}
		name := last.name
		if !last.ok || rawAccount != last.account || rawRegion != last.region || day != last.day {
			account := partitionValue(rawAccount, src.Key.Account)
			region := partitionValue(rawRegion, src.Key.Region)
			raw := account + "\x00" + region + "\x00" + day.Format("2006-01-02")
			var ok bool
			name, ok = names[raw]
			if !ok {
				name = "account=" + account + "/region=" + region + "/" + DayPartition(day)
				names[raw] = name
			}
			last.ok, last.account, last.region, last.day, last.name = true, rawAccount, rawRegion, day, name
		}
		if n := len(spans); n > 0 && spans[n-1].Partition == name && spans[n-1].End == int64(i) {
			spans[n-1].End++
			continue
		}
		spans = append(spans, Span{Partition: name, Start: int64(i), End: int64(i) + 1})
	}
	return spans, nil
}

// eventDay is the UTC day of an eventTime (2024-05-01T12:03:04Z, or with an
// offset).
func eventDay(s string) (time.Time, bool) {
	if t, ok := eventDayUTC(s); ok {
		return t, true
	}
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

// eventDayUTC is eventDay for the form CloudTrail writes,
// 2006-01-02T15:04:05Z, checked as strictly as time.Parse checks it; any
// other string is not ok, and eventDay parses it in full.
func eventDayUTC(s string) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := reader.Digits(s[0:4])
	month, ok2 := reader.Digits(s[5:7])
	day, ok3 := reader.Digits(s[8:10])
	hour, ok4 := reader.Digits(s[11:13])
	minute, ok5 := reader.Digits(s[14:16])
	sec, ok6 := reader.Digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > reader.DaysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
}

// partitionValue makes a record's account or region safe as a path segment:
// letters, digits, '-', '_' and '.' only (anything else becomes '_'), never
// empty (the key's value, else "unknown"), never "." or "..".
func partitionValue(v, fallback string) string {
	if v == "" {
		v = fallback
	}
	if v == "" {
		return "unknown"
	}
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > maxPartitionValue {
		// Real accounts and regions are short; a longer value (hostile or
		// broken input) is cut, with a hash of the whole so distinct values
		// stay distinct, to keep the path within file-name limits. The row
		// keeps the value itself.
		h := fnv.New64a()
		h.Write([]byte(v))
		b = fmt.Appendf(b[:maxPartitionValue-17], "_%016x", h.Sum64())
	}
	if s := string(b); s != "." && s != ".." {
		return s
	}
	return "unknown"
}

// maxPartitionValue bounds an account or region path segment (bytes).
const maxPartitionValue = 64

// Order implements Kind.
func (k *CloudTrail) Order(fields []arrow.Field) []arrow.Field {
	return schema.SortCloudTrailFields(fields)
}

// Encodings implements Kind: unique-per-event strings and JSON documents
// plain (a dictionary would overflow after hashing them); the rest, names,
// sources, identities, regions, dictionaries.
func (k *CloudTrail) Encodings() map[string]writer.Encoding {
	enc := map[string]writer.Encoding{
		"eventid": writer.Plain, "requestid": writer.Plain, "sharedeventid": writer.Plain,
		"eventtime": writer.Plain, "useridentity.accesskeyid": writer.Plain,
		schema.CloudTrailUnmappedColumn: writer.Plain,
	}
	for _, c := range schema.CloudTrailJSONColumns {
		enc[c] = writer.Plain
	}
	return enc
}
