package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/writer"
)

type unitResult struct {
	objects           int64
	bytesIn, bytesOut int64
	records, rejected int64
	files             []writer.FileInfo
	rejectsFile       string
	bad               []BadObject
	partitionCounts   PartitionCounts
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
		return writer.SliceBatch(rec, spans[0].Start, spans[0].End), nil
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
