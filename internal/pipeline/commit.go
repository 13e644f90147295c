package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
		if err := led.removeUnit(ctx, old); err != nil {
			return err
		}
		r.tally.superseded()
	}
	for id, p := range led.pending {
		if !r.inScope(p) {
			continue
		}
		if u, committed := led.units[id]; committed {
			if u.Compaction {
				// Stopped after its commit point: only the pending
				// record is left (retired() removed what it replaced).
				if err := led.removePending(ctx, id); err != nil {
					return err
				}
				delete(led.pending, id)
				continue
			}
			r.redo[id] = true // an interrupted re-conversion: do it again
			continue
		}
		r.cfg.Log.Warn("removing the files of a unit an earlier run did not finish committing", "unit", id, "files", len(p.paths()))
		if err := led.undoPending(ctx, p); err != nil {
			return err
		}
	}
	if !r.cfg.Incremental || len(led.byKey) == 0 {
		return nil
	}
	return selectionOf(r.cfg, nil).list(ctx, func(o object) error {
		if u, same := led.converted(o.Object); u != nil && !same {
			r.tally.changed(o.Key)
			r.cfg.Log.Warn("source object changed since it was converted; converting its unit again", "object", o.Key, "unit", u.ID)
			r.redo[u.ID] = true
		}
		return nil
	})
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
		if err := r.led.removeUnit(ctx, old); err != nil {
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
		if err := r.led.removeUnit(ctx, u); err != nil {
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
	if err := r.checkLease(); err != nil {
		return err
	}
	r.mu.Lock()
	rec.Supersedes = r.led.holders(rec.Objects, rec.ID)
	r.mu.Unlock()
	if err := r.led.writePending(ctx, rec); err != nil {
		return err
	}
	r.mu.Lock()
	old := r.led.units[rec.ID]
	r.mu.Unlock()
	// undo takes back what a failed commit published, so that readers do
	// not see it until a rerun. Not when an earlier version of the unit is
	// committed: its files have the same names, and the pending record
	// makes the next run convert it again.
	undo := func(err error) error {
		if old == nil {
			r.led.takeBack(ctx, rec)
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
	if err := r.led.writeCommitted(ctx, rec); err != nil {
		return undo(err)
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
		if err := r.led.removeFiles(ctx, stale); err != nil {
			return err
		}
	}
	if err := r.led.removePending(ctx, rec.ID); err != nil {
		return err
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
		if err := r.led.removeUnit(ctx, old); err != nil {
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
