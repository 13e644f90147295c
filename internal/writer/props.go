package writer

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Defaults for Options.
const (
	DefaultRowGroupBytes   = 128 << 20
	DefaultTargetFileBytes = 256 << 20
	DefaultBufferBudget    = 128 << 20
	DefaultMaxOpenFiles    = 8
	DefaultMaxPartitions   = 4096
	// DefaultDictionaryPageBytes is the dictionary size past which a column
	// chunk falls back to plain encoding (arrow-go's default).
	DefaultDictionaryPageBytes = 1 << 20
	// minDictionaryPageBytes floors the limit a crowded writer sets.
	minDictionaryPageBytes = 128 << 10
)

// CreatedBy is written into every file's footer.
var CreatedBy = "convert (arrow-go v18)"

// Options configures the Parquet output.
type Options struct {
	// Compression is the codec name: snappy (default), zstd, gzip or none.
	Compression string
	// RowGroupBytes cuts a row group once its encoded, compressed pages reach
	// this size (DefaultRowGroupBytes if 0).
	RowGroupBytes int64
	// TargetFileBytes rolls to a new file once a file reaches this size
	// (DefaultTargetFileBytes if 0).
	TargetFileBytes int64
	// MaxOpenFiles caps the files a Partitioned writer keeps open
	// (DefaultMaxOpenFiles if 0). A new partition beyond it takes the slot
	// of an idle file or is spilled (see Partitioned). Every open file costs
	// a page and a dictionary per column that no budget counts, so this
	// bounds memory too.
	MaxOpenFiles int
	// MaxPartitions caps the partitions one Partitioned writer writes to
	// (DefaultMaxPartitions if 0: over eleven years of days). Rows whose
	// times scatter beyond it (a broken clock, hostile data) fail clearly
	// instead of making tens of thousands of tiny files.
	MaxPartitions int
	// DictionaryPageBytes bounds a column chunk's dictionary; past it the
	// chunk falls back to plain encoding (DefaultDictionaryPageBytes if 0).
	// The dictionary's hash table lives as long as the row group, so this
	// is also what a file holds per string column beyond its pages.
	DictionaryPageBytes int64
	// DataPageBytes is the size at which a column's page is finished
	// (0: from RowGroupBytes, see dataPageBytes). A Partitioned writer sets
	// it smaller for files opened while many are open.
	DataPageBytes int64
	// Encodings chooses the encoding of some columns; the others are
	// dictionary-encoded. See Encoding.
	Encodings map[string]Encoding
	// Profile chooses the encodings older readers accept (ProfileAthena if 0).
	Profile Profile
	// Budget, shared by all files of a run, bounds the bytes buffered in
	// unfinished row groups. Nil means no shared bound.
	Budget *Budget
	// SpillDir holds the temporary file of rows a Partitioned writer spills
	// when they interleave more partitions than MaxOpenFiles (os.TempDir()
	// if empty).
	SpillDir string
	// Mem allocates Arrow and Parquet buffers (memory.DefaultAllocator if nil).
	Mem memory.Allocator
}

func (o Options) withDefaults() Options {
	if o.Compression == "" {
		o.Compression = "snappy"
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.TargetFileBytes <= 0 {
		o.TargetFileBytes = DefaultTargetFileBytes
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if o.DictionaryPageBytes <= 0 {
		o.DictionaryPageBytes = DefaultDictionaryPageBytes
	}
	if o.MaxPartitions <= 0 {
		o.MaxPartitions = DefaultMaxPartitions
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
	return o
}

// Encoding is a column encoding choice.
type Encoding int

const (
	// Dictionary (the default) suits low-cardinality columns: account ids,
	// interface ids, actions, statuses.
	Dictionary Encoding = iota
	// Delta is DELTA_BINARY_PACKED for integer columns: near zero bytes for
	// constant or sorted values, and no hashing (counters, timestamps, ports).
	Delta
	// Plain suits high-cardinality strings (addresses, request ids) whose
	// dictionary would overflow after costing a hash per value.
	Plain
)

// Profile is a set of encodings chosen for the engines that read the output.
type Profile int

const (
	// ProfileAthena (the default) uses dictionary, plain and, where
	// Options.Encodings says so, DELTA_BINARY_PACKED: Athena, Trino, Presto,
	// DuckDB, Polars and Spark 3.3 and later read them all.
	ProfileAthena Profile = iota
	// ProfileCompat uses dictionary and plain encodings only: Spark's
	// vectorized reader before 3.3 (Glue 3.0 and older, older EMR) throws on
	// DELTA_BINARY_PACKED in V1 data pages (SPARK-36879). Delta columns are
	// dictionary-encoded instead, falling back to plain.
	ProfileCompat
)

// ParseProfile maps a profile name (athena, compat) to its Profile.
func ParseProfile(name string) (Profile, error) {
	switch strings.ToLower(name) {
	case "", "athena":
		return ProfileAthena, nil
	case "compat":
		return ProfileCompat, nil
	}
	return 0, fmt.Errorf("unknown Parquet profile %q (want athena or compat)", name)
}

func (p Profile) String() string {
	if p == ProfileCompat {
		return "compat"
	}
	return "athena"
}

// ParseCompression maps a codec name to its Parquet codec.
func ParseCompression(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want snappy, zstd, gzip or none)", name)
}

// codecSuffix names the codec in file names, as Spark and Glue do
// (part-….snappy.parquet).
func codecSuffix(name string) string {
	switch strings.ToLower(name) {
	case "", "snappy":
		return "snappy."
	case "zstd":
		return "zstd."
	case "gzip":
		return "gz."
	}
	return ""
}

// maxRowGroupRows only guards against a runaway row group; row groups are cut
// by size (Options.RowGroupBytes), never by this count.
const maxRowGroupRows = 1 << 30

// dataPageBytes is the page size for row groups of rowGroupBytes: arrow-go's
// 1 MiB default, smaller for small row groups. Row groups are cut by the
// bytes of their finished pages; each column's open page is not counted, so
// pages of at most a sixteenth of a row group keep the cut near its size.
func dataPageBytes(rowGroupBytes int64) int64 {
	const defaultPage, minPage = 1 << 20, 8 << 10
	return min(defaultPage, max(rowGroupBytes/16, minPage))
}

// pageBytes is the data page size of a file with these options.
func (o Options) pageBytes() int64 {
	if o.DataPageBytes > 0 {
		return o.DataPageBytes
	}
	return dataPageBytes(o.RowGroupBytes)
}

// NewWriterProperties is the one place where Parquet writer options are set,
// chosen for Athena (docs/formats.md §5):
//   - data page V1 (not every engine reads V2 pages);
//   - dictionary encoding, except where Options.Encodings says otherwise;
//   - column statistics on (min/max let engines skip row groups);
//   - no page index (Athena v3 uses one if present; none is safer than a wrong one);
//   - the codec from Options.Compression (Snappy by default);
//   - no DELTA encoding with ProfileCompat.
//
// Column names are lowercase because the schemas in package schema are, and
// no INT96 is written because no schema has a timestamp column.
func NewWriterProperties(sc *arrow.Schema, o Options) (*parquet.WriterProperties, error) {
	o = o.withDefaults()
	codec, err := ParseCompression(o.Compression)
	if err != nil {
		return nil, err
	}
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(o.Mem),
		parquet.WithCreatedBy(CreatedBy),
		parquet.WithVersion(parquet.V2_LATEST),
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithCompression(codec),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithPageIndexEnabled(false),
		parquet.WithMaxRowGroupLength(maxRowGroupRows),
		parquet.WithDictionaryPageSizeLimit(o.DictionaryPageBytes),
		parquet.WithDataPageSize(o.pageBytes()),
	}
	for _, f := range sc.Fields() {
		if o.Encodings[f.Name] == Delta && o.Profile != ProfileCompat && (f.Type.ID() == arrow.INT32 || f.Type.ID() == arrow.INT64) {
			opts = append(opts,
				parquet.WithDictionaryFor(f.Name, false),
				parquet.WithEncodingFor(f.Name, parquet.Encodings.DeltaBinaryPacked))
		}
	}
	// Plain applies to any column path, nested ones too (useridentity.arn).
	for path, enc := range o.Encodings {
		if enc == Plain {
			opts = append(opts, parquet.WithDictionaryFor(path, false))
		}
	}
	// The string leaves of lists and maps were written plain while arrow-go
	// (v18.8.0) dropped values from their min/max when dictionary-encoded
	// (bug B of docs/upstream/arrow-go-statistics.md); v18.9.0 fixed it
	// (TestUpstreamNestedLeafStatistics), so they are dictionary-encoded
	// like the other strings.
	return parquet.NewWriterProperties(opts...), nil
}

// arrowWriterProperties stores the Arrow schema in the footer, so Arrow
// readers get the exact types back; Athena ignores it.
func arrowWriterProperties(mem memory.Allocator) pqarrow.ArrowWriterProperties {
	return pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem))
}
