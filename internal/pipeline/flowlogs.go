package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"convert/internal/classify"
	"convert/internal/keypath"
	"convert/internal/reader/vpcflow"
	"convert/internal/schema"
	"convert/internal/storage"
	"convert/internal/writer"
)

// FlowLogs is the VPC Flow Logs kind.
type FlowLogs struct {
	// Fields is the field list for objects without a header line.
	Fields []string
	// ByDelivery partitions by the date in the object key instead of each
	// record's start time.
	ByDelivery bool
	// MaxLineBytes bounds a line (reader default if 0).
	MaxLineBytes int
	// ChunkRows is the batch size (reader default if 0).
	ChunkRows int
	// Classifier, when set, appends the classification columns
	// (schema.VPCClassFields) to every batch (--classify).
	Classifier *classify.Classifier
	// Parquet configures the reading of objects AWS delivered as Parquet
	// (see flowlogs_parquet.go).
	Parquet vpcflow.SpillConfig
}

// startWindow is how far, in days, a record's start may lie before or after
// the date of its object's key: AWS delivers a record minutes to hours after
// its start, so a start weeks away is a broken value, not a late record.
const startWindowBefore, startWindowAfter = 7, 1

// flowLogsService is the AWSLogs folder of flow logs.
const flowLogsService = "vpcflowlogs"

// Name implements Kind.
func (k *FlowLogs) Name() string { return "flowlogs" }

// Describe implements Kind.
func (k *FlowLogs) Describe() Description {
	return Description{Name: k.Name(), Title: "VPC Flow Logs", Table: "flow_logs_parquet", Resource: "FlowLogsTable",
		Schema: schema.VPCFullSchema, Partitions: dayPartitionColumns, UndocumentedStrings: true, Service: flowLogsService,
		// traffic_class is a dictionary, not an undocumented string field.
		Optional: func() *arrow.Schema { return schema.WithVPCClassification(schema.VPCFullSchema()) }}
}

// Select implements Kind: every object is input, except other services' logs
// that happen to sit under AWSLogs/ beside the flow logs. Parquet objects are
// input too (NewReader tells them by their content), but a .parquet key only
// where AWS delivers flow logs (its key layouts or file names): elsewhere it
// is likely a table someone made of them (this tool's output, a Glue job's),
// whose rows would be converted a second time.
func (k *FlowLogs) Select(obj storage.Object, key keypath.Info) (bool, string) {
	if key.Service != "" && !strings.EqualFold(key.Service, flowLogsService) {
		return false, "not a flow-log key (service " + key.Service + ")"
	}
	if hasSuffixFold(obj.Key, ".parquet") && key.Service == "" {
		return false, "Parquet object outside AWS's flow-log key layout"
	}
	return true, ""
}

// NewReader implements Kind: text, or Parquet when the content starts with
// the Parquet magic bytes.
func (k *FlowLogs) NewReader(r io.Reader, src ObjectSource) (Reader, error) {
	r, parquet, err := sniffParquet(r, src.Object.Key)
	if err != nil {
		return nil, err
	}
	if parquet {
		return k.newParquetReader(r, src)
	}
	rd, err := vpcflow.NewReader(r, vpcflow.Config{
		Object:       src.Object.Key,
		Fields:       k.Fields,
		ChunkRows:    k.ChunkRows,
		MaxLineBytes: k.MaxLineBytes,
		Reject:       src.Reject,
		Mem:          src.Mem,
	})
	if err != nil {
		return nil, err
	}
	if err := k.checkDatable(rd.Schema(), src, "the format has no start field"); err != nil {
		rd.Release()
		return nil, err
	}
	return k.classified(flowReader{rd}, src), nil
}

// checkDatable fails an object whose rows cannot be partitioned: no start
// column (why says which is missing), no date in its key, and partitioning
// by record time.
func (k *FlowLogs) checkDatable(sc *arrow.Schema, src ObjectSource, why string) error {
	if !k.ByDelivery && src.Fallback.IsZero() && len(sc.FieldIndices("start")) == 0 {
		return fmt.Errorf("%s: %w: %s and the key no date; give --partition-date YYYY-MM-DD",
			src.Object.Key, ErrNoPartitionDate, why)
	}
	return nil
}

// classified adds the classification columns to rd's batches with --classify.
func (k *FlowLogs) classified(rd Reader, src ObjectSource) Reader {
	if k.Classifier != nil {
		return &classifiedReader{Reader: rd, classifier: k.Classifier, object: src.Object.Key}
	}
	return rd
}

type flowReader struct{ *vpcflow.Reader }

// classifiedReader is a flow-log reader whose batches carry the
// classification columns, and the value numbers of the reader's batches
// (see classify.AppendColumns). Its batch is valid until the next call to
// Next.
type classifiedReader struct {
	Reader
	classifier *classify.Classifier
	object     string
	rec        arrow.RecordBatch
	err        error
}

func (r *classifiedReader) Next() bool {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	if r.err != nil || !r.Reader.Next() {
		return false
	}
	r.rec, r.err = r.classifier.AppendColumns(r.Reader.RecordBatch())
	return r.err == nil
}

func (r *classifiedReader) RecordBatch() arrow.RecordBatch { return r.rec }

// Record implements array.RecordReader (the deprecated name of RecordBatch).
func (r *classifiedReader) Record() arrow.RecordBatch { return r.rec }

func (r *classifiedReader) Schema() *arrow.Schema {
	return schema.WithVPCClassification(r.Reader.Schema())
}

func (r *classifiedReader) Err() error {
	if r.err != nil {
		return fmt.Errorf("%s: %w", r.object, r.err)
	}
	return r.Reader.Err()
}

func (r *classifiedReader) Release() {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	r.Reader.Release()
}

func (r flowReader) Counts() (int64, int64) {
	s := r.Stats()
	return s.Records, s.Rejected
}

func (r flowReader) Warnings() []string {
	var w []string
	if r.AssumedDefaultFormat() {
		w = append(w, "objects without a header line were read as the default format (version 2); give --fields if that is wrong")
	}
	if n := r.Stats().RepairedUTF8; n > 0 {
		w = append(w, fmt.Sprintf("%d flow-log lines held invalid UTF-8; those bytes were replaced by U+FFFD", n))
	}
	for _, f := range r.UnknownFields() {
		w = append(w, fmt.Sprintf("unknown flow-log field %q read as a string column", f))
	}
	return w
}

// Partition implements Kind: by the UTC day of each record's start, falling
// back to the key date (or --partition-date) for rows without one.
func (k *FlowLogs) Partition(rec arrow.RecordBatch, src ObjectSource) ([]Span, error) {
	fallback, hasFallback := int64(0), !src.Fallback.IsZero()
	if hasFallback {
		fallback = unixDay(src.Fallback)
	}
	idx := rec.Schema().FieldIndices("start")
	if k.ByDelivery || len(idx) == 0 {
		return dayRuns(rec.NumRows(), func(int64) (int64, bool) { return 0, false }, fallback, hasFallback)
	}
	start := rec.Column(idx[0]).(*array.Int64)
	// Only keys AWS wrote carry a delivery date to judge a start by; a
	// user's folder of exports dated by month says nothing about a record.
	keyDay, judge := int64(0), src.Key.HasDate() && src.Key.Service == flowLogsService
	if judge {
		keyDay = unixDay(src.Key.Date)
	}
	return dayRuns(rec.NumRows(), func(i int64) (int64, bool) {
		if start.IsNull(int(i)) {
			return 0, false
		}
		d := floorDiv(start.Value(int(i)), 86400)
		if judge && (d < keyDay-startWindowBefore || d > keyDay+startWindowAfter) {
			src.Counts.timeFallback()
			return 0, false
		}
		return d, true
	}, fallback, hasFallback)
}

// TimeFallbackWarning implements timeFallbackWarner.
func (k *FlowLogs) TimeFallbackWarning(n int64) string {
	return fmt.Sprintf("%d records had a start more than %d days before or %d day after the date of their AWS delivery key; they were partitioned by the key date (the start column keeps the value)",
		n, startWindowBefore, startWindowAfter)
}

// Order implements Kind: documented order, the classification columns last.
func (k *FlowLogs) Order(fields []arrow.Field) []arrow.Field {
	if k.Classifier != nil {
		return schema.SortVPCClassifiedFields(fields)
	}
	return schema.SortVPCFields(fields)
}

// Encodings implements Kind: every integer column delta-encoded (constant
// versions cost nothing, counters and times have no useful dictionary, and
// it saves a hash per value), strings in dictionaries. Measured on generated
// flow logs (convert gen), per-column encodings compared: 13% less CPU than
// dictionaries everywhere for 2% more bytes; plain addresses would save
// another 8% of CPU for 11% more bytes, which every Athena query pays for.
func (k *FlowLogs) Encodings() map[string]writer.Encoding {
	enc := map[string]writer.Encoding{}
	for _, f := range schema.VPCFields {
		if f.Type.ID() != arrow.STRING {
			enc[f.Column()] = writer.Delta
		}
	}
	if k.Classifier != nil {
		// As unique as the addresses it copies: a dictionary would cost
		// a hash and an allocation per value for little gain.
		enc["remote_addr"] = writer.Plain
	}
	return enc
}
