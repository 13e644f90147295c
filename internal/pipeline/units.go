package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"convert/internal/keypath"
	"convert/internal/storage"
)

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
		group := o.unitGroup()
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

// selection picks a run's input out of the source's listing: objects of the
// kind, inside From/To and the item's key ranges, not empty. Run, the
// incremental probe and Plan list through it, so they agree on what is
// input.
type selection struct {
	src      storage.Source
	kind     Kind
	from, to time.Time
	ranges   []KeyRange
	// tally, if set, counts listed objects and skipped ones by reason.
	tally *tally
	// done, if set, is asked first about every listed object the source
	// does not skip, and says whether it is to be skipped as converted
	// already (--incremental); it is skipped only if no other reason skips
	// it.
	done func(storage.Object) bool
}

// selectionOf is the input selection of a run's configuration.
func selectionOf(cfg Config, t *tally) selection {
	return selection{src: cfg.Source, kind: cfg.Kind, from: cfg.From, to: cfg.To, ranges: cfg.Ranges, tally: t}
}

func (s selection) skip(reason string) {
	if s.tally != nil {
		s.tally.skip(reason)
	}
}

// list lists the source and calls fn for every object that is input.
func (s selection) list(ctx context.Context, fn func(object) error) error {
	return s.src.List(ctx, func(so storage.Object) error {
		if s.tally != nil {
			s.tally.mu.Lock()
			s.tally.s.ObjectsListed++
			s.tally.mu.Unlock()
		}
		if so.Skip != "" {
			s.skip(so.Skip)
			return nil
		}
		done := s.done != nil && s.done(so)
		if len(s.ranges) > 0 && !inRanges(s.ranges, so.Key) {
			s.skip(SkipOutsideItem)
			return nil
		}
		o := object{Object: so, key: keypath.Parse(so.Key)}
		if ok, reason := s.kind.Select(so, o.key); !ok {
			s.skip(reason)
			return nil
		}
		if !s.from.IsZero() || !s.to.IsZero() {
			switch {
			case !o.key.HasDate():
				s.skip(SkipNoKeyDate)
				return nil
			case !s.from.IsZero() && o.key.Date.Before(s.from),
				!s.to.IsZero() && o.key.Date.After(s.to):
				s.skip(SkipOutsideDays)
				return nil
			}
		}
		if so.Size == 0 {
			s.skip(SkipEmpty)
			return nil
		}
		if done {
			s.skip(SkipIncremental)
			return nil
		}
		return fn(o)
	})
}

// listInput lists the run's input: the selection, counted in the run's
// tally, without the objects --incremental skips. It notes which listed
// objects the ledger knows (to report the ones gone from the source).
func (r *runner) listInput(ctx context.Context, fn func(object) error) error {
	sel := selectionOf(r.cfg, r.tally)
	sel.done = func(so storage.Object) bool {
		r.mu.Lock()
		done, _ := r.led.converted(so) // the committed unit holding the object's rows
		r.mu.Unlock()
		if done != nil {
			r.seen[so.Key] = true
		}
		return r.cfg.Incremental && done != nil && !r.redo[done.ID]
	}
	return sel.list(ctx, fn)
}

// unitGroup is what the objects of a unit share: organization, account,
// region and key date. A unit, and a work item of a plan, ends where it
// changes.
func (o object) unitGroup() string {
	return o.key.Org + "/" + o.key.Account + "/" + o.key.Region + "/" + o.key.Date.Format("2006-01-02")
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

func estimatedCompressed(o storage.Object) int64 {
	if hasSuffixFold(o.Key, ".gz") || hasSuffixFold(o.Key, ".parquet") {
		return o.Size // compressed already (Parquet flow logs: GZIP inside)
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
