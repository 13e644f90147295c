package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

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
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// Stopped from outside (a signal) at any step: say why, not only
		// "context canceled".
		err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
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
