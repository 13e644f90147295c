package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/schema"
	"convert/internal/storage"
	"convert/internal/writer"
)

// CompactConfig configures a compaction of an output tree.
type CompactConfig struct {
	Sink storage.Sink
	// Kinds are the kinds whose output is compacted (nil: all three; a kind
	// without a ledger in the output is left alone).
	Kinds []Kind
	// From and To select the key days (the ledger's groups) to compact,
	// inclusive; zero means unbounded.
	From, To time.Time
	// Writer configures the new files; TargetFileBytes is the size they
	// roll at, and the size below which a partition's files are merged.
	Writer writer.Options
	Log    *slog.Logger
	Mem    memory.Allocator
}

// CompactSummary is the result of a compaction, printed as one JSON object.
// Files, bytes and units before and after count the groups compacted.
type CompactSummary struct {
	Output string `json:"output"`
	Status string `json:"status"` // "ok" or "failed"
	Error  string `json:"error,omitempty"`

	Groups          int               `json:"groups"`           // kind and key day pairs looked at
	GroupsCompacted int               `json:"groups_compacted"` // rewritten
	GroupsSkipped   map[string]int    `json:"groups_skipped,omitempty"`
	UnitsBefore     int               `json:"units_before"`
	UnitsAfter      int               `json:"units_after"`
	FilesBefore     int               `json:"files_before"`
	FilesAfter      int               `json:"files_after"`
	BytesBefore     int64             `json:"bytes_before"`
	BytesAfter      int64             `json:"bytes_after"`
	RowsMoved       int64             `json:"rows_moved"`
	Partitions      []string          `json:"partitions"` // rewritten, as kind/partition
	OutputFiles     []writer.FileInfo `json:"output_files"`
	Warnings        []string          `json:"warnings,omitempty"`
	// CommitSeconds is the longest commit of a day: from its pending record
	// to the removal of the units it replaced. Readers listing the tree in
	// that window may see a row of that day twice (old and new files).
	CommitSeconds float64 `json:"commit_seconds"`

	WallSeconds float64 `json:"wall_seconds"`
	MBPerSecond float64 `json:"mb_per_second"` // Parquet read, MB (10^6) per second
}

// Reasons a group is left as it is.
const (
	compactAlready     = "already compact"
	compactUnfinished  = "a re-conversion of the day was interrupted; convert it again first"
	compactSingleEmpty = "no unit holds source objects"
)

// compactKinds is every kind's name and the Kind whose column order and
// encodings compaction writes with. Flow logs order the classification
// columns last, as a classified conversion does (without them the order is
// that of an unclassified one), and keep remote_addr plain.
func compactKinds() []Kind {
	return []Kind{&compactFlowLogs{}, &CloudTrail{}, &S3Access{}}
}

// CompactKind returns the Kind compaction writes a kind's files with, by
// its name.
func CompactKind(name string) (Kind, error) {
	var names []string
	for _, k := range compactKinds() {
		if k.Name() == name {
			return k, nil
		}
		names = append(names, k.Name())
	}
	return nil, fmt.Errorf("unknown kind %q (want one of %v)", name, names)
}

type compactFlowLogs struct{ FlowLogs }

func (*compactFlowLogs) Order(fields []arrow.Field) []arrow.Field {
	return schema.SortVPCClassifiedFields(fields)
}

func (k *compactFlowLogs) Encodings() map[string]writer.Encoding {
	enc := k.FlowLogs.Encodings()
	enc["remote_addr"] = writer.Plain
	return enc
}

// Compact rewrites the Parquet of each key day (ledger group) whose
// partitions hold more files than their bytes need at the target size into
// as few files as the target allows, exactly once: the new files of a day
// are committed as one unit of the ledger that holds all the source objects
// of the day's units and supersedes them (see commitUnit), so a crash at any
// point leaves either the old units or the new one, and the next run (of
// convert or of compact) finishes what was started. Rows are streamed row
// group by row group; columns are the union of the files' columns in the
// kind's documented order.
func Compact(ctx context.Context, cfg CompactConfig) (CompactSummary, error) {
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Kinds == nil {
		cfg.Kinds = compactKinds()
	}
	if cfg.Writer.TargetFileBytes <= 0 {
		cfg.Writer.TargetFileBytes = writer.DefaultTargetFileBytes
	}
	if cfg.Writer.Budget == nil {
		cfg.Writer.Budget = writer.NewBudget(writer.DefaultBufferBudget)
	}
	cfg.Writer.Mem = cfg.Mem
	start := time.Now()
	s := CompactSummary{Output: cfg.Sink.String(), GroupsSkipped: map[string]int{}, Partitions: []string{}, OutputFiles: []writer.FileInfo{}}
	var err error
	found := false
	for _, k := range cfg.Kinds {
		var has bool
		if has, err = hasLedger(ctx, cfg.Sink, k.Name()); err != nil || !has {
			if err != nil {
				break
			}
			continue
		}
		found = true
		if err = compactKind(ctx, cfg, k, &s); err != nil {
			break
		}
	}
	if err == nil && !found {
		err = fmt.Errorf("%w under %s (no %s/KIND/units/ records): a mistyped path, or nothing was converted there", ErrNoLedger, cfg.Sink, LedgerDir)
	}
	sort.Strings(s.Partitions)
	s.WallSeconds = time.Since(start).Seconds()
	if s.WallSeconds > 0 {
		s.MBPerSecond = float64(s.BytesBefore) / 1e6 / s.WallSeconds
	}
	s.Status = "ok"
	if err != nil {
		s.Status, s.Error = "failed", err.Error()
	}
	return s, err
}

// compactKind compacts one kind's groups under its lease.
func compactKind(ctx context.Context, cfg CompactConfig, k Kind, s *CompactSummary) error {
	rcfg := Config{Kind: k, Sink: cfg.Sink, From: cfg.From, To: cfg.To, Writer: cfg.Writer, Log: cfg.Log, Mem: cfg.Mem, Workers: 1}
	rcfg.Writer.Encodings = k.Encodings()
	r := &runner{cfg: rcfg, tally: newTally(k.Name(), "compact", cfg.Sink.String()),
		redo: map[string]bool{}, seen: map[string]bool{}, produced: map[string]bool{}, reconverted: map[string]bool{}}
	l, err := acquireLease(ctx, cfg.Sink, k.Name(), "compact "+cfg.Sink.String(), Scope{From: cfg.From, To: cfg.To})
	if err != nil {
		return err
	}
	r.lease = l
	defer l.release(context.WithoutCancel(ctx))
	if err := r.prepareLedger(ctx); err != nil {
		return err
	}
	groups := map[string][]*UnitRecord{}
	for _, u := range r.led.units {
		if r.inScope(u) {
			groups[u.Group] = append(groups[u.Group], u)
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		s.Groups++
		units := groups[g]
		if reason := r.compactable(units, cfg.Writer.TargetFileBytes); reason != "" {
			s.GroupsSkipped[reason]++
			continue
		}
		if err := r.compactGroup(ctx, g, units, s); err != nil {
			return fmt.Errorf("compacting %s %s: %w", k.Name(), g, err)
		}
	}
	s.Warnings = append(s.Warnings, r.tally.summary().Warnings...)
	return nil
}

// hasLedger reports whether the output has any committed unit of kind.
func hasLedger(ctx context.Context, sink storage.Sink, kind string) (bool, error) {
	errFound := errors.New("found")
	err := sink.List(ctx, unitsDir(kind)+"/", func(storage.Object) error { return errFound })
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

// compactable says why a group's units are left as they are, or "" when
// they are rewritten: when some partition has more files than ceil(bytes /
// target), that is, merging makes fewer files. A group with a unit that an
// interrupted re-conversion left behind is not touched (its files may be
// of two versions).
func (r *runner) compactable(units []*UnitRecord, target int64) string {
	files := map[string]int{}
	bytes := map[string]int64{}
	holders := 0
	for _, u := range units {
		if r.redo[u.ID] {
			return compactUnfinished
		}
		if len(u.Objects) > 0 {
			holders++
		}
		for _, f := range u.Files {
			files[f.Partition]++
			bytes[f.Partition] += f.Bytes
		}
	}
	if holders == 0 {
		return compactSingleEmpty
	}
	for p, n := range files {
		if need := max(1, (bytes[p]+target-1)/target); int64(n) > need {
			return ""
		}
	}
	return compactAlready
}

// compactionID names the unit of a compaction after the units it replaces:
// a rerun after a crash before the commit point makes the same files, and
// the pending record of the crashed attempt names them.
func compactionID(kind string, units []*UnitRecord) string {
	ids := make([]string, len(units))
	for i, u := range units {
		ids[i] = u.ID
	}
	sort.Strings(ids)
	h := sha256.New()
	io.WriteString(h, "compact\n"+kind)
	for _, id := range ids {
		io.WriteString(h, "\n"+id)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// compactGroup rewrites the files of a group's units, partition by
// partition, and commits them as one unit superseding those units.
func (r *runner) compactGroup(ctx context.Context, group string, all []*UnitRecord, s *CompactSummary) error {
	// Units without objects would not be superseded by the new unit (it
	// supersedes the holders of its objects): they stay as they are.
	var units []*UnitRecord
	for _, u := range all {
		if len(u.Objects) > 0 {
			units = append(units, u)
		}
	}
	sort.Slice(units, func(i, j int) bool {
		if !units[i].Committed.Equal(units[j].Committed) {
			return units[i].Committed.Before(units[j].Committed)
		}
		return units[i].ID < units[j].ID
	})
	kind := r.cfg.Kind
	id := compactionID(kind.Name(), units)
	rec := &UnitRecord{ID: id, Kind: kind.Name(), Group: group, Compaction: true}
	byPartition := map[string][]writer.FileInfo{}
	var rowsIn, bytesIn int64
	seen := map[string]bool{}
	for _, u := range units {
		rec.Records += u.Records
		rec.Rejected += u.Rejected
		for _, o := range u.Objects {
			if !seen[o.Key] {
				seen[o.Key] = true
				rec.Objects = append(rec.Objects, o)
			}
		}
		for _, f := range u.Files {
			byPartition[f.Partition] = append(byPartition[f.Partition], f)
			rowsIn += f.Rows
			bytesIn += f.Bytes
		}
	}
	sort.Slice(rec.Objects, func(i, j int) bool { return rec.Objects[i].Key < rec.Objects[j].Key })
	partitions := make([]string, 0, len(byPartition))
	for p := range byPartition {
		partitions = append(partitions, p)
	}
	sort.Strings(partitions)

	var writers []*writer.Partitioned
	abort := func() {
		for _, w := range writers {
			w.Abort()
		}
	}
	for _, p := range partitions {
		w, infos, err := r.compactPartition(ctx, id, p, byPartition[p])
		if w != nil {
			writers = append(writers, w)
		}
		if err != nil {
			abort()
			return err
		}
		rec.Files = append(rec.Files, infos...)
	}
	var rowsOut, bytesOut int64
	for _, f := range rec.Files {
		rowsOut += f.Rows
		bytesOut += f.Bytes
	}
	if rowsOut != rowsIn {
		abort()
		return fmt.Errorf("internal error: %d rows read, %d written", rowsIn, rowsOut)
	}
	rejects, err := r.copyRejects(ctx, id, units)
	if err != nil {
		abort()
		return err
	}
	if rejects != nil {
		rec.Rejects = rejects.path
	}
	publish := func() error {
		for _, w := range writers {
			if err := w.Commit(); err != nil {
				return err
			}
		}
		if rejects != nil {
			return rejects.f.Commit()
		}
		return nil
	}
	commitStart := time.Now()
	if err := r.commitUnit(context.WithoutCancel(ctx), rec, publish); err != nil {
		abort()
		if rejects != nil {
			rejects.f.Abort()
		}
		return err
	}
	s.CommitSeconds = max(s.CommitSeconds, time.Since(commitStart).Seconds())
	s.GroupsCompacted++
	s.UnitsBefore += len(units)
	s.UnitsAfter++
	s.RowsMoved += rowsIn
	s.BytesBefore += bytesIn
	s.BytesAfter += bytesOut
	for _, u := range units {
		s.FilesBefore += len(u.Files)
	}
	s.FilesAfter += len(rec.Files)
	s.OutputFiles = append(s.OutputFiles, rec.Files...)
	for _, p := range partitions {
		s.Partitions = append(s.Partitions, kind.Name()+"/"+p)
	}
	return nil
}

// compactPartition writes the rows of a partition's files into new files of
// the union of their columns, rolling at the target size. The files are
// finished, not yet committed.
func (r *runner) compactPartition(ctx context.Context, stem, partition string, files []writer.FileInfo) (*writer.Partitioned, []writer.FileInfo, error) {
	schemas := make([]*arrow.Schema, len(files))
	for i, f := range files {
		sc, err := committedSchema(ctx, r.cfg.Sink, f, r.cfg.Mem)
		if err != nil {
			return nil, nil, err
		}
		schemas[i] = sc
	}
	sc, err := unionSchema(schemas, r.cfg.Kind.Order)
	if err != nil {
		return nil, nil, fmt.Errorf("partition %s: %w", partition, err)
	}
	w := writer.NewPartitioned(writer.PartitionedConfig{Sink: r.cfg.Sink, Stem: stem, Order: r.cfg.Kind.Order, Options: r.cfg.Writer})
	for _, f := range files {
		_, err := streamCommitted(ctx, r.cfg.Sink, f, r.cfg.Mem, func(rec arrow.RecordBatch) error {
			c := conformTo(rec, sc, r.cfg.Mem)
			defer c.Release()
			return w.Write(ctx, partition, c)
		})
		if err != nil {
			return w, nil, err
		}
	}
	infos, err := w.Finish()
	return w, infos, err
}

// copiedRejects is the rejects file of a compaction being written.
type copiedRejects struct {
	path string
	f    storage.File
}

// copyRejects concatenates the units' rejects files (gzip members
// concatenated are one gzip stream) into the rejects file of the new unit,
// or returns nil when none has one.
func (r *runner) copyRejects(ctx context.Context, id string, units []*UnitRecord) (*copiedRejects, error) {
	var paths []string
	for _, u := range units {
		if u.Rejects != "" {
			paths = append(paths, u.Rejects)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	out := &copiedRejects{path: fmt.Sprintf("%s/%s/part-%s.jsonl.gz", writer.RejectsDir, r.cfg.Kind.Name(), id)}
	f, err := r.cfg.Sink.Create(ctx, out.path)
	if err != nil {
		return nil, err
	}
	out.f = f
	for _, p := range paths {
		rc, err := r.cfg.Sink.Open(ctx, p)
		if err != nil {
			f.Abort()
			return nil, fmt.Errorf("reading the rejects file %s: %w", p, err)
		}
		_, err = io.Copy(f, rc)
		rc.Close()
		if err != nil {
			f.Abort()
			return nil, fmt.Errorf("copying the rejects file %s: %w", p, err)
		}
	}
	return out, nil
}
