package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"convert/internal/keypath"
	"convert/internal/reader/s3access"
	"convert/internal/schema"
	"convert/internal/storage"
	"convert/internal/writer"
)

// S3Access is the S3 server access logs kind.
type S3Access struct {
	// ByDelivery partitions by the date in the object key instead of each
	// request's time.
	ByDelivery   bool
	MaxLineBytes int
	ChunkRows    int
}

// Name implements Kind.
func (k *S3Access) Name() string { return "s3access" }

// Describe implements Kind.
func (k *S3Access) Describe() Description {
	return Description{Name: k.Name(), Title: "S3 server access logs", Table: "s3_access_logs_parquet", Resource: "S3AccessTable",
		Schema: schema.S3AccessSchema, Partitions: dayPartitionColumns, DatedNames: true}
}

// Select implements Kind: every object except ones that are plainly other
// outputs (Parquet files, AWSLogs trees of other services).
func (k *S3Access) Select(obj storage.Object, key keypath.Info) (bool, string) {
	if strings.HasSuffix(obj.Key, ".parquet") {
		return false, "Parquet object"
	}
	if key.Service != "" {
		return false, "not an access-log key (service " + key.Service + ")"
	}
	return true, ""
}

// NewReader implements Kind.
func (k *S3Access) NewReader(r io.Reader, src ObjectSource) (Reader, error) {
	return s3access.NewReader(r, s3access.Config{
		Object:       src.Object.Key,
		ChunkRows:    k.ChunkRows,
		MaxLineBytes: k.MaxLineBytes,
		Reject:       src.Reject,
		Mem:          src.Mem,
	})
}

// Partition implements Kind: by the UTC day of each request's time (the
// reader rejects rows whose time does not parse), or by the key date.
func (k *S3Access) Partition(rec arrow.RecordBatch, src ObjectSource) ([]Span, error) {
	fallback, hasFallback := int64(0), !src.Fallback.IsZero()
	if hasFallback {
		fallback = unixDay(src.Fallback)
	}
	idx := rec.Schema().FieldIndices("requestdatetime")
	if k.ByDelivery || len(idx) == 0 {
		return dayRuns(rec.NumRows(), func(int64) (int64, bool) { return 0, false }, fallback, hasFallback)
	}
	if b, ok := rec.(interface{ RequestSeconds() []int64 }); ok {
		// The reader parsed every row's time while checking the line.
		if secs := b.RequestSeconds(); int64(len(secs)) == rec.NumRows() {
			return dayRuns(rec.NumRows(), func(i int64) (int64, bool) {
				return floorDiv(secs[i], 86400), true
			}, fallback, hasFallback)
		}
	}
	// A batch without the reader's times (rebuilt, or from elsewhere):
	// parse the column.
	times := rec.Column(idx[0]).(*array.String)
	var bad error
	spans, err := dayRuns(rec.NumRows(), func(i int64) (int64, bool) {
		if times.IsNull(int(i)) {
			return 0, false
		}
		t, err := s3access.RequestTime(times.Value(int(i)))
		if err != nil {
			bad = err
			return 0, false
		}
		return unixDay(t), true
	}, fallback, hasFallback)
	if err != nil && bad != nil {
		return nil, fmt.Errorf("%w (%v)", err, bad)
	}
	return spans, err
}

// Order implements Kind: the documented column order.
func (k *S3Access) Order(fields []arrow.Field) []arrow.Field {
	pos := map[string]int{}
	for i, c := range schema.S3AccessColumns {
		pos[c] = i
	}
	out := append([]arrow.Field(nil), fields...)
	sortFields(out, func(name string) int {
		if p, ok := pos[name]; ok {
			return p
		}
		return len(pos)
	})
	return out
}

// Encodings implements Kind: sizes delta-encoded; request and host ids,
// unique per request, plain; the rest dictionaries.
func (k *S3Access) Encodings() map[string]writer.Encoding {
	return map[string]writer.Encoding{
		"bytessent": writer.Delta, "objectsize": writer.Delta,
		"requestid": writer.Plain, "hostid": writer.Plain,
	}
}
