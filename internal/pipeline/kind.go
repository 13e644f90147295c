package pipeline

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/keypath"
	"convert/internal/reader"
	"convert/internal/storage"
	"convert/internal/writer"
)

// Kind is one log kind: which objects are its input, how to read them, and
// which partition each row goes to.
type Kind interface {
	// Name is the subcommand name ("flowlogs").
	Name() string
	// Select reports whether a listed object is input of this kind; when it is
	// not, reason says why it was skipped (for the summary).
	Select(obj storage.Object, key keypath.Info) (ok bool, reason string)
	// NewReader reads one object's decoded content.
	NewReader(r io.Reader, src ObjectSource) (Reader, error)
	// Partition assigns the rows of rec to partitions, as runs of rows.
	Partition(rec arrow.RecordBatch, src ObjectSource) ([]Span, error)
	// Order sorts the columns of a merged schema into documented order.
	Order(fields []arrow.Field) []arrow.Field
	// Encodings chooses column encodings (dictionary for the columns it omits).
	Encodings() map[string]writer.Encoding
	// Describe says what the commands, the DDL and Verify know of the kind
	// whatever its configuration.
	Describe() Description
}

// Description is what is fixed about a kind: its names, its documented
// schema and partitioning, and where AWS delivers it.
type Description struct {
	// Name is the subcommand and the ledger folder ("flowlogs"); Name()
	// returns it.
	Name string
	// Title names the logs in help texts ("VPC Flow Logs").
	Title string
	// Table and Resource are the default Athena table name and
	// CloudFormation logical id of its table.
	Table, Resource string
	// Schema is the documented schema: the columns of the DDL, and the
	// columns Verify accepts.
	Schema func() *arrow.Schema
	// Optional, when set, is Schema with the columns an opt-in flag adds
	// (flow logs' --classify); Verify accepts those too.
	Optional func() *arrow.Schema
	// Partitions are the Hive partition columns, in path order; Partition
	// produces paths of this form.
	Partitions []string
	// UndocumentedStrings makes Verify accept string columns that Schema
	// does not list (fields newer than the schema, read as strings).
	UndocumentedStrings bool
	// Service is the AWSLogs/<account>/<service>/ folder AWS delivers the
	// kind to, "" when it is not delivered under AWSLogs/.
	Service string
	// DatedNames says that keys may be dated by their names
	// (YYYY-MM-DD-…, directly under the prefix) rather than by folders.
	DatedNames bool
}

// Kinds returns the registered kinds, unconfigured, in the order the
// commands list them. A new kind is added here (see README "How to add a log
// kind").
func Kinds() []Kind {
	return []Kind{&FlowLogs{}, &CloudTrail{}, &S3Access{}}
}

// KindNamed returns the registered kind of that name, unconfigured.
func KindNamed(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Name() == name {
			return k, true
		}
	}
	return nil, false
}

// Reader is a kind's reader of one object.
type Reader interface {
	array.RecordReader
	// Counts returns the records seen and rejected so far.
	Counts() (records, rejected int64)
	// Warnings returns notes for the summary (unknown fields, …).
	Warnings() []string
}

// skipper is a Reader that can tell, after reading, that its object was not
// input after all (a CloudTrail digest); the object is then counted as
// skipped, not read.
type skipper interface {
	SkipReason() string
}

// ObjectSource is what a Kind knows about the object it reads.
type ObjectSource struct {
	Object storage.Object
	Key    keypath.Info
	// Fallback is the partition date for rows without their own time, or zero.
	Fallback time.Time
	Reject   reader.RejectFunc
	Mem      memory.Allocator
	// Counts, when set, receives what Partition had to decide for rows; it
	// belongs to the unit being written, so a unit that is redone or fails
	// does not count.
	Counts *PartitionCounts
}

// PartitionCounts counts rows partitioned by a fallback date although they
// carry a time of their own: one that does not parse, or one implausibly far
// from the date in their object's key.
type PartitionCounts struct {
	TimeFallbacks int64
}

func (c *PartitionCounts) timeFallback() {
	if c != nil {
		c.TimeFallbacks++
	}
}

// timeFallbackWarner is implemented by kinds whose Partition counts time
// fallbacks: it words the summary's warning.
type timeFallbackWarner interface {
	TimeFallbackWarning(n int64) string
}

// Span is a range of rows [Start, End) that go to one partition.
type Span struct {
	Partition  string
	Start, End int64
}

// ErrNoPartitionDate means a row's partition cannot be determined.
var ErrNoPartitionDate = fmt.Errorf("no date to partition by")

// dayPartitionColumns are the partition columns DayPartition writes.
var dayPartitionColumns = []string{"year", "month", "day"}

// DayPartition formats the Hive partition of a day.
func DayPartition(t time.Time) string {
	return fmt.Sprintf("year=%04d/month=%02d/day=%02d", t.Year(), int(t.Month()), t.Day())
}

// dayRuns splits n rows into runs of equal day. day(i) returns the Unix day
// of row i and whether it has one; rows without one use fallback (a Unix day,
// or ok=false when there is none).
func dayRuns(n int64, day func(i int64) (int64, bool), fallback int64, hasFallback bool) ([]Span, error) {
	var runs []Span
	names := map[int64]string{}
	cur := int64(-1 << 62)
	for i := int64(0); i < n; i++ {
		d, ok := day(i)
		if !ok {
			if !hasFallback {
				return nil, fmt.Errorf("row %d: %w", i, ErrNoPartitionDate)
			}
			d = fallback
		}
		if d == cur && len(runs) > 0 {
			runs[len(runs)-1].End = i + 1
			continue
		}
		cur = d
		name, ok := names[d]
		if !ok {
			name = DayPartition(time.Unix(d*86400, 0).UTC())
			names[d] = name
		}
		runs = append(runs, Span{Partition: name, Start: i, End: i + 1})
	}
	return runs, nil
}

// sortFields sorts fields by pos (stable), then by name.
func sortFields(fields []arrow.Field, pos func(name string) int) {
	sort.SliceStable(fields, func(a, b int) bool {
		pa, pb := pos(fields[a].Name), pos(fields[b].Name)
		if pa != pb {
			return pa < pb
		}
		return fields[a].Name < fields[b].Name
	})
}

// unixDay is the day number of t (days since 1970-01-01, UTC).
func unixDay(t time.Time) int64 { return floorDiv(t.Unix(), 86400) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
