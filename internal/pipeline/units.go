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
