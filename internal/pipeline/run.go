package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/keypath"
	"convert/internal/reader"
	"convert/internal/storage"
	"convert/internal/writer"
)

// Defaults for Config.
const (
	DefaultUnitBytes      = 256 << 20
	DefaultMaxRejectRatio = 0.01
	// UnitRatioMinRecords is the size from which a unit's own reject share
	// is judged (see Config.MaxRejectRatio).
	UnitRatioMinRecords = 1000
	// plainTextRatio estimates the compressed size of plain-text input when
	// sizing units: log text gzips about 7:1.
	plainTextRatio = 7
	// unitQueue is the capacity of the channel from a unit's decoder to its
	// writer, in messages (a batch each).
	unitQueue = 4
	// rejectsPerMessage and rejectBytesPerMessage bound the rejects a decoder
	// holds before handing them to the unit.
	rejectsPerMessage     = 1024
	rejectBytesPerMessage = 1 << 20
)

// Config configures a run.
type Config struct {
	Kind   Kind
	Source storage.Source
	Sink   storage.Sink

	// Workers decodes this many objects at once and runs this many units at
	// once (1 if 0).
	Workers int
	// UnitBytes is the compressed input per unit (DefaultUnitBytes if 0).
	UnitBytes int64
	// From and To select objects by the date in their key, inclusive. Zero
	// means unbounded. Objects without a key date are skipped when either is set.
	From, To time.Time
	// PartitionDate is the partition of rows whose date is known neither from
	// the record nor from the key.
	PartitionDate time.Time
	// SkipBadObjects skips objects that cannot be read to the end instead of
	// failing the run; none of their rows are written.
	SkipBadObjects bool
	// MaxRejectRatio fails the run whose rejected share of records is
	// higher, and stops a unit of at least UnitRatioMinRecords records whose
	// own share is higher from being committed (a wrong format or a garbage
	// file is not published). Smaller units count only in the run's share:
	// one bad line in ten says little. Negative disables the check.
	MaxRejectRatio float64
	// Ranges, if set, restricts the input to keys inside these ranges (a
	// work item of a plan).
	Ranges []KeyRange
	// Incremental converts only objects the ledger does not have with the
	// same size and ETag (see the package documentation).
	Incremental bool
	// Writer configures the Parquet files.
	Writer writer.Options

	Log      *slog.Logger
	Progress func(Progress) // called about once a second, if set
	Mem      memory.Allocator
}

// Progress is a snapshot for a progress line.
type Progress struct {
	Objects, Units     int64
	BytesIn, BytesRead int64
	Elapsed            time.Duration
}

// object is a listed input object with what its key says.
type object struct {
	storage.Object
	key keypath.Info
}

// unit is a run of objects whose output files are committed together.
type unit struct {
	id      string
	group   string // the objects' key date (2006-01-02) or "nodate"
	objects []object
}

// message carries, in order, an object's batches and rejects, then its end.
type message struct {
	obj     *object
	rec     arrow.RecordBatch
	rejects []reader.Reject
	end     *objectEnd
	// held is what the message holds of the run's in-flight byte gate.
	gate *byteGate
	held int64
}

func (m message) release() {
	if m.rec != nil {
		m.rec.Release()
	}
	if m.gate != nil {
		m.gate.release(m.held)
	}
}

type objectEnd struct {
	skipReason        string // the object turned out not to be input
	records, rejected int64
	bytesIn, bytesOut int64
	warnings          []string
	err               error
}

type unitResult struct {
	objects           int64
	bytesIn, bytesOut int64
	records, rejected int64
	files             []writer.FileInfo
	rejectsFile       string
	bad               []BadObject
	partitionCounts   PartitionCounts
}

type runner struct {
	cfg   Config
	lease *lease          // held for the whole run (nil for planning)
	redo  map[string]bool // ledger units to convert again (incremental)
	seen  map[string]bool // listed keys the ledger knows (to report gone objects)

	mu          sync.Mutex // guards led and the three below
	led         *ledger
	produced    map[string]bool // units committed by this run
	reconverted map[string]bool // object keys committed by this run
	committed   []*UnitRecord   // records of the units committed by this run
	tally       *tally
	objects     atomic.Int64
	units       atomic.Int64
	bytesIn     atomic.Int64
	bytesRead   atomic.Int64
	gate        *byteGate // bytes of messages in flight, run-wide
}

// Run converts everything the source lists and returns the summary. The
// summary is filled in as far as the run got, also when it fails.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.UnitBytes <= 0 {
		cfg.UnitBytes = DefaultUnitBytes
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.DefaultAllocator
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Writer.Mem = cfg.Mem
	cfg.Writer.Encodings = cfg.Kind.Encodings()
	if cfg.Writer.Budget == nil {
		cfg.Writer.Budget = writer.NewBudget(writer.DefaultBufferBudget)
	}
	r := &runner{cfg: cfg, tally: newTally(cfg.Kind.Name(), cfg.Source.String(), cfg.Sink.String()),
		redo: map[string]bool{}, seen: map[string]bool{}, produced: map[string]bool{}, reconverted: map[string]bool{}}
	start := time.Now()
	l, err := acquireLease(ctx, cfg.Sink, cfg.Kind.Name(), cfg.Source.String(), Scope{From: cfg.From, To: cfg.To, Ranges: cfg.Ranges})
	if err == nil {
		r.lease = l
		defer l.release(context.WithoutCancel(ctx))
		err = r.prepareLedger(ctx)
	}
	if err == nil {
		err = r.run(ctx)
	}
	if err == nil {
		err = r.supersede(context.WithoutCancel(ctx))
	}
	if err == nil {
		r.reportGone()
		if r.tally.listed() == 0 {
			r.tally.warn(fmt.Sprintf("no objects under %s", cfg.Source))
		}
	}
	if w, ok := cfg.Kind.(timeFallbackWarner); ok {
		if n := r.tally.timeFallbackCount(); n > 0 {
			r.tally.warn(w.TimeFallbackWarning(n))
		}
	}
	s := r.tally.summary()
	s.WallSeconds = time.Since(start).Seconds()
	if s.WallSeconds > 0 {
		s.MBPerSecond = float64(s.BytesUncompressed) / 1e6 / s.WallSeconds
	}
	if err == nil && cfg.MaxRejectRatio >= 0 && s.RejectRatio > cfg.MaxRejectRatio {
		err = fmt.Errorf("%d of %d records rejected (%.4f), more than --max-reject-ratio %g; see %s",
			s.RecordsRejected, s.RecordsRead, s.RejectRatio, cfg.MaxRejectRatio, writer.RejectsDir)
		// The units that made the share too high are taken back, so that a
		// retry converts them again and fails again rather than skipping
		// them as converted.
		if n, rerr := r.withdrawRejected(context.WithoutCancel(ctx)); rerr != nil {
			err = errors.Join(err, rerr)
		} else if n > 0 {
			err = fmt.Errorf("%w; %d units above the ratio were not kept", err, n)
		}
	}
	if err == nil && !s.Balanced {
		err = fmt.Errorf("internal error: records read %d != written %d + rejected %d", s.RecordsRead, s.RecordsWritten, s.RecordsRejected)
	}
	s.Status = "ok"
	if err != nil {
		s.Status, s.Error = "failed", err.Error()
	}
	return s, err
}

func (r *runner) run(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	fail := func(err error) { cancel(err) }
	r.gate = newByteGate(inFlightBytes)

	units := make(chan *unit)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(units)
		if err := r.dispatch(ctx, units); err != nil {
			fail(err)
		}
	}()
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range units {
				if ctx.Err() != nil {
					continue
				}
				res, err := r.runUnit(ctx, u)
				if err != nil {
					fail(err)
					continue
				}
				r.tally.unitDone(res)
				r.units.Add(1)
			}
		}()
	}

	stopProgress := r.startProgress()
	wg.Wait()
	stopProgress()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if err := parent.Err(); err != nil {
		return context.Cause(parent)
	}
	return nil
}

// dispatch lists the source and sends units, in order.
func (r *runner) dispatch(ctx context.Context, units chan<- *unit) error {
	var cur []object
	var curBytes int64
	var curGroup string
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		group := noDateGroup
		if cur[0].key.HasDate() {
			group = cur[0].key.Date.Format("2006-01-02")
		}
		u := &unit{id: unitID(r.cfg.Kind.Name(), cur), group: group, objects: cur}
		cur, curBytes = nil, 0
		select {
		case units <- u:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	err := r.listInput(ctx, func(o object) error {
		group := o.key.Org + "/" + o.key.Account + "/" + o.key.Region + "/" + o.key.Date.Format("2006-01-02")
		size := estimatedCompressed(o.Object)
		if len(cur) > 0 && (group != curGroup || curBytes+size > r.cfg.UnitBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		curGroup = group
		cur = append(cur, o)
		curBytes += size
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", r.cfg.Source, err)
	}
	return flush()
}

// listInput lists the source and calls fn for every object that is input of
// this run: of the kind, inside --from/--to and the item's key ranges, not
// empty. Skipped objects are counted by reason.
func (r *runner) listInput(ctx context.Context, fn func(object) error) error {
	return r.cfg.Source.List(ctx, func(so storage.Object) error {
		r.tally.mu.Lock()
		r.tally.s.ObjectsListed++
		r.tally.mu.Unlock()
		if so.Skip != "" {
			r.tally.skip(so.Skip)
			return nil
		}
		var done *UnitRecord // the committed unit holding the object's rows
		if r.led != nil {
			r.mu.Lock()
			done, _ = r.led.converted(so)
			r.mu.Unlock()
			if done != nil && r.seen != nil {
				r.seen[so.Key] = true
			}
		}
		if len(r.cfg.Ranges) > 0 && !inRanges(r.cfg.Ranges, so.Key) {
			r.tally.skip("outside the work item's key ranges")
			return nil
		}
		o := object{Object: so, key: keypath.Parse(so.Key)}
		if ok, reason := r.cfg.Kind.Select(so, o.key); !ok {
			r.tally.skip(reason)
			return nil
		}
		if !r.cfg.From.IsZero() || !r.cfg.To.IsZero() {
			switch {
			case !o.key.HasDate():
				r.tally.skip("no date in key (--from/--to given)")
				return nil
			case !r.cfg.From.IsZero() && o.key.Date.Before(r.cfg.From),
				!r.cfg.To.IsZero() && o.key.Date.After(r.cfg.To):
				r.tally.skip("key date outside --from/--to")
				return nil
			}
		}
		if so.Size == 0 {
			r.tally.skip("empty object")
			return nil
		}
		if r.cfg.Incremental && done != nil && !r.redo[done.ID] {
			r.tally.skip("already converted (--incremental)")
			return nil
		}
		return fn(o)
	})
}

// prepareLedger loads the ledger of the run's days and repairs what
// interrupted runs left, before anything else: temporaries of killed
// processes are deleted; units that a committed unit superseded are removed
// (their removal was interrupted); pending records of units never committed
// are undone (their files removed). With Incremental it then finds the
// committed units whose objects changed, so that they are converted again.
// The run holds its lease: no live run shares its scope, so whatever it finds
// unfinished there is a dead run's.
func (r *runner) prepareLedger(ctx context.Context) error {
	var canonical func(string) string
	if c, ok := r.cfg.Source.(interface{ CanonicalKey(string) string }); ok {
		canonical = c.CanonicalKey
	}
	led, err := loadLedger(ctx, r.cfg.Sink, r.cfg.Kind.Name(), r.cfg.From, r.cfg.To, canonical)
	if err != nil {
		return err
	}
	r.led = led
	k := r.cfg.Kind.Name()
	if c, ok := r.cfg.Sink.(interface {
		RemoveStaleTemps(context.Context) (int, error)
	}); ok {
		n, err := c.RemoveStaleTemps(ctx)
		if err != nil {
			return fmt.Errorf("removing temporary files of killed runs: %w", err)
		}
		if n > 0 {
			r.cfg.Log.Warn("removed temporary files that killed runs left", "files", n)
		}
	}
	for _, old := range led.retired() {
		r.cfg.Log.Warn("removing a unit that a committed unit superseded (an earlier run was stopped before removing it)", "unit", old.ID)
		if err := led.removeUnit(ctx, r.cfg.Sink, k, old); err != nil {
			return err
		}
		r.tally.superseded()
	}
	for id, p := range led.pending {
		if !r.inScope(p) {
			continue
		}
		if _, committed := led.units[id]; committed {
			r.redo[id] = true // an interrupted re-conversion: do it again
			continue
		}
		r.cfg.Log.Warn("removing the files of a unit an earlier run did not finish committing", "unit", id, "files", len(p.paths()))
		if err := removeAll(ctx, r.cfg.Sink, p.paths()); err != nil {
			return err
		}
		if err := r.cfg.Sink.Remove(ctx, pendingPath(k, id)); err != nil {
			return err
		}
		delete(led.pending, id)
	}
	if !r.cfg.Incremental || len(led.byKey) == 0 {
		return nil
	}
	probe := &runner{cfg: r.cfg, tally: newTally(k, "", "")}
	return probe.listInput(ctx, func(o object) error {
		if u, same := led.converted(o.Object); u != nil && !same {
			r.tally.changed(o.Key)
			r.cfg.Log.Warn("source object changed since it was converted; converting its unit again", "object", o.Key, "unit", u.ID)
			r.redo[u.ID] = true
		}
		return nil
	})
}

// inScope reports whether a unit's objects are ones this run may list: its
// day is in --from/--to and, for a work item, one of its objects is in the
// item's ranges.
func (r *runner) inScope(u *UnitRecord) bool {
	if !r.cfg.From.IsZero() || !r.cfg.To.IsZero() {
		d, err := time.Parse("2006-01-02", u.Group)
		if err != nil || (!r.cfg.From.IsZero() && d.Before(r.cfg.From)) || (!r.cfg.To.IsZero() && d.After(r.cfg.To)) {
			return false
		}
	}
	if len(r.cfg.Ranges) == 0 {
		return true
	}
	for _, o := range u.Objects {
		if inRanges(r.cfg.Ranges, o.Key) {
			return true
		}
	}
	return false
}

// supersede runs after every unit committed: a committed unit of an earlier
// run that this run did not produce again, but whose objects this run
// converted (a regrouping: other --unit-size, new objects of the day, a
// changed object), is removed, so that every object's rows are in the
// output once. Each was named in the Supersedes of a unit committed by this
// run, so an interruption here is finished by the next run. Objects of it
// that this run did not convert (deleted from the source since) are
// reported.
func (r *runner) supersede(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var olds []*UnitRecord
	for id, old := range r.led.units {
		if !r.produced[id] {
			olds = append(olds, old)
		}
	}
	var errs []error
	for _, old := range olds {
		var overlap bool
		var dropped []string
		for _, o := range old.Objects {
			if r.reconverted[o.Key] {
				overlap = true
			} else {
				dropped = append(dropped, o.Key)
			}
		}
		if !overlap {
			continue
		}
		if len(dropped) > 0 {
			r.tally.warn(fmt.Sprintf("unit %s of an earlier run was replaced; %d of its objects were not converted again (no longer in the source?), e.g. %s", old.ID, len(dropped), dropped[0]))
		}
		if err := r.led.removeUnit(ctx, r.cfg.Sink, r.cfg.Kind.Name(), old); err != nil {
			errs = append(errs, err)
			continue
		}
		r.tally.superseded()
	}
	return errors.Join(errs...)
}

// withdrawRejected removes the units this run committed whose own reject
// share is above MaxRejectRatio (the run failed on the ratio), and returns
// how many.
func (r *runner) withdrawRejected(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, u := range r.committed {
		if u.Records == 0 || float64(u.Rejected)/float64(u.Records) <= r.cfg.MaxRejectRatio {
			continue
		}
		if err := r.led.removeUnit(ctx, r.cfg.Sink, r.cfg.Kind.Name(), u); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// reportGone counts the objects the ledger has in the run's scope that the
// listing no longer shows (deleted from the source, by a lifecycle rule for
// example). Their rows are kept: the output is the record of what was
// delivered, and a lifecycle rule that expires converted logs is common.
func (r *runner) reportGone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone int64
	var example string
	for key, us := range r.led.byKey {
		if r.seen[key] || r.reconverted[key] {
			continue
		}
		if len(r.cfg.Ranges) > 0 && !inRanges(r.cfg.Ranges, key) {
			continue
		}
		if !r.inScope(us[0]) {
			continue
		}
		gone++
		if example == "" || key < example {
			example = key
		}
	}
	if gone > 0 {
		r.tally.gone(gone)
		r.tally.warn(fmt.Sprintf("%d objects converted earlier are no longer in the source (e.g. %s); their rows are kept", gone, example))
	}
}

func estimatedCompressed(o storage.Object) int64 {
	if hasSuffixFold(o.Key, ".gz") {
		return o.Size
	}
	return o.Size / plainTextRatio
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && equalFold(s[len(s)-len(suffix):], suffix)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i]|0x20, b[i]|0x20
		if ca != cb {
			return false
		}
	}
	return true
}

// unitID names a unit after its objects' keys and sizes.
func unitID(kind string, objs []object) string {
	h := sha256.New()
	io.WriteString(h, kind)
	for _, o := range objs {
		io.WriteString(h, "\n"+o.Key+"\t"+strconv.FormatInt(o.Size, 10))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// fallbackDate is the partition date of rows without a time of their own.
func (r *runner) fallbackDate(o object) time.Time {
	if o.key.HasDate() {
		return o.key.Date
	}
	return r.cfg.PartitionDate
}

// decode reads one object and emits its batches and rejects, then its end.
// emit returns false when the run is cancelled.
func (r *runner) decode(ctx context.Context, o *object, emit func(message) bool) {
	end := &objectEnd{}
	defer func() { emit(message{obj: o, end: end}) }()

	rc, err := r.cfg.Source.Open(ctx, o.Object)
	if err != nil {
		end.err = fmt.Errorf("opening %s: %w", o.Key, err)
		return
	}
	in := &countingReader{r: rc, n: &r.bytesIn}
	dec, err := reader.DecodeAhead(readCloser{in, rc})
	if err != nil {
		end.err = &reader.ParseError{Object: o.Key, Err: err}
		return
	}
	defer dec.Close()
	out := &countingReader{r: dec, n: &r.bytesRead}
	defer func() { end.bytesIn, end.bytesOut = in.local, out.local }()

	var pending []reader.Reject
	var pendingBytes int
	sendRejects := func() bool {
		if len(pending) == 0 {
			return true
		}
		m := message{obj: o, rejects: pending}
		pending, pendingBytes = nil, 0
		return emit(m)
	}
	src := ObjectSource{
		Object:   o.Object,
		Key:      o.key,
		Fallback: r.fallbackDate(*o),
		Mem:      r.cfg.Mem,
		Reject: func(rj reader.Reject) {
			rj.Raw = append([]byte(nil), rj.Raw...)
			pending = append(pending, rj)
			pendingBytes += len(rj.Raw)
			if len(pending) >= rejectsPerMessage || pendingBytes >= rejectBytesPerMessage {
				sendRejects()
			}
		},
	}
	rd, err := r.cfg.Kind.NewReader(out, src)
	if err != nil {
		end.err = err
		return
	}
	defer rd.Release()
	for rd.Next() {
		if !sendRejects() {
			return
		}
		rec := rd.RecordBatch()
		rec.Retain()
		if !emit(message{obj: o, rec: rec}) {
			return
		}
	}
	if !sendRejects() {
		return
	}
	end.records, end.rejected = rd.Counts()
	end.warnings = rd.Warnings()
	end.err = rd.Err()
	if sk, ok := rd.(skipper); ok && end.err == nil {
		end.skipReason = sk.SkipReason()
	}
	if end.err == nil {
		r.objects.Add(1)
	}
}

// unitWriter is a unit's output in progress.
type unitWriter struct {
	ctx     context.Context
	r       *runner
	u       *unit
	skipped map[string]bool // bad objects left out of this attempt
	parts   *writer.Partitioned
	rejects *writer.Rejects
	res     unitResult
}

func (r *runner) newUnitWriter(ctx context.Context, u *unit, skipped map[string]bool) *unitWriter {
	// Each unit has its own share of the run's row-group budget: where its
	// row groups are cut, and so its files' bytes, then depend on its input
	// alone, not on what other units buffer at the time. The same command
	// writes the same bytes.
	opts := r.cfg.Writer
	opts.Budget = writer.NewBudget(r.cfg.Writer.Budget.Limit() / int64(r.cfg.Workers))
	return &unitWriter{
		ctx: ctx, r: r, u: u, skipped: skipped,
		parts: writer.NewPartitioned(writer.PartitionedConfig{
			Sink:    r.cfg.Sink,
			Stem:    u.id,
			Order:   r.cfg.Kind.Order,
			Options: opts,
		}),
		rejects: writer.NewRejects(r.cfg.Sink, fmt.Sprintf("%s/%s/part-%s.jsonl.gz", writer.RejectsDir, r.cfg.Kind.Name(), u.id)),
	}
}

// warnNoSpill reports, once per run, that rows interleaving more days than
// a unit keeps files open could not be spilled, so that unit made more and
// smaller files than it would have.
func (w *unitWriter) warnNoSpill() {
	err := w.parts.Spilled().Err
	if err == nil {
		return
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the temporary name differs every time
	}
	dir, open := w.r.cfg.Writer.SpillDir, w.r.cfg.Writer.MaxOpenFiles
	if dir == "" {
		dir = os.TempDir()
	}
	if open <= 0 {
		open = writer.DefaultMaxOpenFiles
	}
	w.r.tally.warn(fmt.Sprintf("rows interleaving more than %d partitions in a unit could not be spilled to a temporary file in %s (%v), "+
		"so the unit wrote more, smaller files; give TMPDIR a writable directory", open, dir, err))
}

func (w *unitWriter) abort() {
	w.parts.Abort()
	w.rejects.Abort()
}

// handle applies one message of object o. A non-nil objErr is the object's
// own failure (the unit may go on without it); a non-nil err fails the unit.
func (w *unitWriter) handle(ctx context.Context, o object, m message) (objErr, err error) {
	defer m.release()
	for _, rj := range m.rejects {
		if err := w.rejects.Add(ctx, rj); err != nil {
			return nil, err
		}
	}
	if m.rec != nil {
		src := ObjectSource{Object: o.Object, Key: o.key, Fallback: w.r.fallbackDate(o), Counts: &w.res.partitionCounts}
		spans, err := w.r.cfg.Kind.Partition(m.rec, src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; give --partition-date YYYY-MM-DD", o.Key, err)
		}
		if err := w.writeSpans(ctx, m.rec, spans); err != nil {
			if errors.Is(err, writer.ErrTooManyPartitions) {
				err = fmt.Errorf("%s: %w", o.Key, err)
			}
			return nil, err
		}
		w.warnNoSpill()
	}
	if e := m.end; e != nil {
		if e.err != nil {
			return e.err, nil
		}
		if e.skipReason != "" {
			w.r.tally.skip(e.skipReason)
			return nil, nil
		}
		w.res.objects++
		w.res.records += e.records
		w.res.rejected += e.rejected
		w.res.bytesIn += e.bytesIn
		w.res.bytesOut += e.bytesOut
		for _, msg := range e.warnings {
			w.r.tally.warn(msg)
		}
	}
	return nil, nil
}

// writeSpans writes the rows of rec to their partitions with one write per
// partition: a batch whose rows alternate between two days (a file delivered
// just after midnight) becomes two writes, not one per run of rows.
func (w *unitWriter) writeSpans(ctx context.Context, rec arrow.RecordBatch, spans []Span) error {
	if len(spans) == 1 && spans[0].Start == 0 && spans[0].End == rec.NumRows() {
		return w.parts.Write(ctx, spans[0].Partition, rec)
	}
	var order []string
	byPartition := map[string][]Span{}
	for _, s := range spans {
		if _, ok := byPartition[s.Partition]; !ok {
			order = append(order, s.Partition)
		}
		byPartition[s.Partition] = append(byPartition[s.Partition], s)
	}
	for _, p := range order {
		part, err := selectSpans(ctx, rec, byPartition[p], w.r.cfg.Mem)
		if err != nil {
			return err
		}
		err = w.parts.Write(ctx, p, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// selectSpans returns the rows of the spans, in order, as one batch.
func selectSpans(ctx context.Context, rec arrow.RecordBatch, spans []Span, mem memory.Allocator) (arrow.RecordBatch, error) {
	if len(spans) == 1 {
		return rec.NewSlice(spans[0].Start, spans[0].End), nil
	}
	idx := array.NewInt32Builder(mem)
	defer idx.Release()
	for _, s := range spans {
		for i := s.Start; i < s.End; i++ {
			idx.Append(int32(i))
		}
	}
	indices := idx.NewArray()
	defer indices.Release()
	out, err := compute.Take(compute.WithAllocator(ctx, mem), *compute.DefaultTakeOptions(),
		compute.NewDatumWithoutOwning(rec), compute.NewDatumWithoutOwning(indices))
	if err != nil {
		return nil, fmt.Errorf("selecting rows of a partition: %w", err)
	}
	batch := out.(*compute.RecordDatum).Value
	batch.Retain()
	out.Release()
	return batch, nil
}

// commit finishes the unit's files, checks its reject ratio and publishes
// them.
func (w *unitWriter) commit() (*unitResult, error) {
	files, err := w.parts.Finish()
	if err != nil {
		return nil, err
	}
	res := &w.res
	if max := w.r.cfg.MaxRejectRatio; max >= 0 && res.records >= UnitRatioMinRecords {
		if ratio := float64(res.rejected) / float64(res.records); ratio > max {
			return nil, fmt.Errorf("unit %s (%s … %s): %d of %d records rejected (%.4f), more than --max-reject-ratio %g",
				w.u.id, w.u.objects[0].Key, w.u.objects[len(w.u.objects)-1].Key, res.rejected, res.records, ratio, max)
		}
	}
	res.files = files
	res.rejectsFile = w.rejects.Path()
	// From here on the unit is published; a cancellation must not leave it
	// half done, so the steps below run to the end (they are bounded).
	ctx := context.WithoutCancel(w.ctx)
	rec := &UnitRecord{ID: w.u.id, Kind: w.r.cfg.Kind.Name(), Group: w.u.group, Files: files,
		Rejects: res.rejectsFile, Records: res.records, Rejected: res.rejected}
	for _, o := range w.u.objects {
		if !w.skipped[o.Key] {
			rec.Objects = append(rec.Objects, ObjectRef{Key: o.Key, Size: o.Size, ETag: o.ETag})
		}
	}
	if err := w.r.commitUnit(ctx, rec, func() error {
		if err := w.parts.Commit(); err != nil {
			return err
		}
		return w.rejects.Commit()
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// commitUnit publishes a unit crash-safely: (1) a pending record names the
// files about to appear and the earlier units this one supersedes; (2) the
// files are committed; (3) the ledger record is written, the commit point;
// (4) files of an earlier version of the unit that this one did not rewrite
// are removed; (5) the pending record is removed; (6) superseded units whose
// objects are all converted again by now are removed (the rest when the run
// ends). A crash before (3) leaves a pending record without a ledger record:
// the next run in scope removes the files it names. A crash after (3) leaves
// a committed unit whose record names what it superseded: the next run
// removes those first. Nothing is committed once the lease may be lost.
func (r *runner) commitUnit(ctx context.Context, rec *UnitRecord, publish func() error) error {
	k := r.cfg.Kind.Name()
	if err := r.checkLease(); err != nil {
		return err
	}
	r.mu.Lock()
	rec.Supersedes = r.led.holders(rec.Objects, rec.ID)
	r.mu.Unlock()
	if err := writeRecord(ctx, r.cfg.Sink, pendingPath(k, rec.ID), rec); err != nil {
		return fmt.Errorf("writing the pending record of unit %s: %w", rec.ID, err)
	}
	r.mu.Lock()
	old := r.led.units[rec.ID]
	r.mu.Unlock()
	// undo takes back what a failed commit published, so that readers do
	// not see it until a rerun: the ledger record first (its write may have
	// succeeded with the answer lost), then the files, then the pending
	// record; at the first step that fails it stops, and the pending record
	// makes the next run finish the job. Not when an earlier version of the
	// unit is committed: its files have the same names, and the pending
	// record makes the next run convert it again.
	undo := func(err error) error {
		if old != nil {
			return err
		}
		if r.cfg.Sink.Remove(ctx, unitPath(k, rec.Group, rec.ID)) == nil &&
			removeAll(ctx, r.cfg.Sink, rec.paths()) == nil {
			_ = r.cfg.Sink.Remove(ctx, pendingPath(k, rec.ID))
		}
		return err
	}
	if err := publish(); err != nil {
		return undo(err)
	}
	if err := r.checkLease(); err != nil {
		return undo(err)
	}
	rec.Committed = time.Now().UTC()
	if err := writeRecord(ctx, r.cfg.Sink, unitPath(k, rec.Group, rec.ID), rec); err != nil {
		return undo(fmt.Errorf("writing the ledger record of unit %s: %w", rec.ID, err))
	}
	if old != nil {
		keep := map[string]bool{}
		for _, p := range rec.paths() {
			keep[p] = true
		}
		var stale []string
		for _, p := range old.paths() {
			if !keep[p] {
				stale = append(stale, p)
			}
		}
		if err := removeAll(ctx, r.cfg.Sink, stale); err != nil {
			return err
		}
	}
	if err := r.cfg.Sink.Remove(ctx, pendingPath(k, rec.ID)); err != nil {
		return fmt.Errorf("removing the pending record of unit %s: %w", rec.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.led.add(rec)
	r.produced[rec.ID] = true
	r.committed = append(r.committed, rec)
	for _, o := range rec.Objects {
		r.reconverted[o.Key] = true
	}
	for _, id := range rec.Supersedes {
		old := r.led.units[id]
		if old == nil || r.produced[id] || !r.allReconverted(old) {
			continue
		}
		if err := r.led.removeUnit(ctx, r.cfg.Sink, k, old); err != nil {
			return err
		}
		r.tally.superseded()
	}
	return nil
}

// allReconverted reports whether this run has committed every object of u.
func (r *runner) allReconverted(u *UnitRecord) bool {
	for _, o := range u.Objects {
		if !r.reconverted[o.Key] {
			return false
		}
	}
	return true
}

// checkLease fails once the run's lease may have expired.
func (r *runner) checkLease() error {
	if r.lease == nil {
		return nil
	}
	return r.lease.check()
}

// runUnit converts a unit: one goroutine decodes its objects in order and
// streams their batches to this one, which writes them, so decoding overlaps
// with encoding. If an object fails and bad objects may be skipped, the unit
// is discarded and converted again without it: none of its rows are written.
func (r *runner) runUnit(ctx context.Context, u *unit) (*unitResult, error) {
	skip := map[string]bool{}
	var bad []BadObject
	for {
		res, failed, err := r.tryUnit(ctx, u, skip)
		if err != nil {
			return nil, err
		}
		if failed == nil {
			res.bad = bad
			return res, nil
		}
		r.cfg.Log.Warn("skipping bad object; converting its unit again without it", "object", failed.Object, "error", failed.Error)
		skip[failed.Object] = true
		bad = append(bad, *failed)
	}
}

// tryUnit converts the unit's objects not in skip. It returns the committed
// result; or, with nothing committed, the first bad object when its failure
// may be skipped; or an error.
func (r *runner) tryUnit(ctx context.Context, u *unit, skip map[string]bool) (*unitResult, *BadObject, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	msgs := make(chan message, unitQueue)
	go func() {
		defer close(msgs)
		for i := range u.objects {
			o := &u.objects[i]
			if skip[o.Key] {
				continue
			}
			r.decode(ctx, o, func(m message) bool {
				rejectBytes := 0
				for _, rj := range m.rejects {
					rejectBytes += len(rj.Raw)
				}
				held, ok := r.gate.acquire(ctx, messageBytes(m.rec, rejectBytes))
				if !ok {
					m.release()
					return false
				}
				m.gate, m.held = r.gate, held
				select {
				case msgs <- m:
					return true
				case <-ctx.Done():
					m.release()
					return false
				}
			})
			if ctx.Err() != nil {
				return
			}
		}
	}()
	drain := func() {
		for m := range msgs {
			m.release()
		}
	}

	w := r.newUnitWriter(ctx, u, skip)
	for m := range msgs {
		objErr, err := w.handle(ctx, *m.obj, m)
		if err == nil && objErr != nil && !r.skippable(objErr) {
			err = objErr
		}
		if err != nil {
			stop(err)
			drain()
			w.abort()
			return nil, nil, err
		}
		if objErr != nil {
			stop(objErr)
			drain()
			w.abort()
			return nil, &BadObject{Object: m.obj.Key, Error: objErr.Error()}, nil
		}
	}
	if err := context.Cause(ctx); err != nil {
		w.abort()
		return nil, nil, err
	}
	res, err := w.commit()
	if err != nil {
		w.abort()
		return nil, nil, err
	}
	return res, nil, nil
}

// skippable says whether an object's failure may be skipped with
// --skip-bad-objects: read and format failures may, configuration problems
// (no partition date) and cancellation may not.
func (r *runner) skippable(err error) bool {
	return r.cfg.SkipBadObjects && !errors.Is(err, ErrNoPartitionDate) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (r *runner) startProgress() func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	report := func() {
		r.cfg.Progress(Progress{Objects: r.objects.Load(), Units: r.units.Load(),
			BytesIn: r.bytesIn.Load(), BytesRead: r.bytesRead.Load(), Elapsed: time.Since(start)})
	}
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				report()
			case <-done:
				report()
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// countingReader counts bytes into a shared counter and its own.
type countingReader struct {
	r     io.Reader
	n     *atomic.Int64
	local int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.local += int64(n)
	c.n.Add(int64(n))
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}
