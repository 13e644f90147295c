package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"convert/internal/storage"
	"convert/internal/writer"
)

// LedgerDir is the folder, under the output root, where convert records what
// it has committed. Athena skips "_"-prefixed paths.
const LedgerDir = "_convert"

// noDateGroup is the ledger folder of units whose objects have no key date.
const noDateGroup = "nodate"

// ObjectRef identifies a source object's content: a changed size or ETag
// means a changed object.
type ObjectRef struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	ETag string `json:"etag,omitempty"`
}

// UnitRecord is the ledger entry of a committed unit, and the pending record
// of a unit being committed: which objects it converted and which files hold
// their rows.
type UnitRecord struct {
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Group     string            `json:"group"` // the key date of its objects, or "nodate"
	Objects   []ObjectRef       `json:"objects"`
	Files     []writer.FileInfo `json:"files"`
	Rejects   string            `json:"rejects,omitempty"`
	Records   int64             `json:"records"`
	Rejected  int64             `json:"rejected"`
	Committed time.Time         `json:"committed"`
	// Supersedes are the units committed before this one that hold rows of
	// its objects (a regrouping, a changed object). This record's commit
	// retires them: whoever finds one of them still present removes it
	// (see ledger.finishSupersession), so a crash between the commit and
	// their removal cannot leave rows twice.
	Supersedes []string `json:"supersedes,omitempty"`
	// Compaction marks a unit written by Compact: its id is never committed
	// again, so a pending record beside its ledger record only means the
	// commit stopped after its commit point (see prepareLedger).
	Compaction bool `json:"compaction,omitempty"`
}

// supersedes reports whether u's commit retired old.
func (u *UnitRecord) supersedes(old *UnitRecord) bool {
	if old.ID == u.ID || old.Committed.After(u.Committed) {
		return false // a later commit of the same or a retired id is not retired
	}
	for _, id := range u.Supersedes {
		if id == old.ID {
			return true
		}
	}
	return false
}

func (u *UnitRecord) paths() []string {
	out := make([]string, 0, len(u.Files)+1)
	for _, f := range u.Files {
		out = append(out, f.Path)
	}
	if u.Rejects != "" {
		out = append(out, u.Rejects)
	}
	return out
}

func unitsDir(kind string) string   { return path.Join(LedgerDir, kind, "units") }
func pendingDir(kind string) string { return path.Join(LedgerDir, kind, "pending") }

// recordKind says what a file under LedgerDir is.
type recordKind int

const (
	notARecord    recordKind = iota
	unitRecord               // LedgerDir/<kind>/units/<group>/<id>.json
	pendingRecord            // LedgerDir/<kind>/pending/<id>.json
)

// parseRecordPath reports what the output file at key is in the ledger's
// layout, and the kind whose ledger it belongs to.
func parseRecordPath(key string) (kind string, rk recordKind) {
	if !strings.HasSuffix(key, ".json") {
		return "", notARecord
	}
	parts := strings.Split(key, "/")
	switch {
	case parts[0] != LedgerDir || len(parts) < 4:
		return "", notARecord
	case len(parts) == 5 && parts[2] == "units":
		return parts[1], unitRecord
	case len(parts) == 4 && parts[2] == "pending":
		return parts[1], pendingRecord
	}
	return "", notARecord
}

// ledger is one kind's ledger in an output, as far as it was loaded: for a
// run, the part the run can touch (while the run holds its lease, no other
// run changes it).
type ledger struct {
	sink    storage.Sink
	kind    string
	units   map[string]*UnitRecord   // committed units in scope, by id
	byKey   map[string][]*UnitRecord // object key → the committed units holding its rows
	pending map[string]*UnitRecord   // pending records in scope, by id
}

func newLedger(sink storage.Sink, kind string) *ledger {
	return &ledger{sink: sink, kind: kind,
		units: map[string]*UnitRecord{}, byKey: map[string][]*UnitRecord{}, pending: map[string]*UnitRecord{}}
}

func (l *ledger) unitPath(u *UnitRecord) string {
	return path.Join(unitsDir(l.kind), u.Group, u.ID+".json")
}
func (l *ledger) pendingPath(id string) string { return path.Join(pendingDir(l.kind), id+".json") }

// loadLedger reads the committed units of the days from..to (all days when
// both are zero) and every pending record. canonical, if set, maps object
// keys as recorded to the form the source lists them in.
func loadLedger(ctx context.Context, sink storage.Sink, kind string, from, to time.Time, canonical func(string) string) (*ledger, error) {
	l := newLedger(sink, kind)
	var dirs []string
	if from.IsZero() && to.IsZero() {
		dirs = []string{unitsDir(kind)}
	} else {
		if to.IsZero() {
			to = time.Now().UTC().Truncate(24 * time.Hour)
		}
		if from.IsZero() {
			dirs = []string{unitsDir(kind)} // unbounded start: read all, filter below
		} else {
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				dirs = append(dirs, path.Join(unitsDir(kind), d.Format("2006-01-02")))
			}
		}
	}
	var paths []string
	for _, d := range dirs {
		if err := sink.List(ctx, d+"/", func(o storage.Object) error {
			if strings.HasSuffix(o.Key, ".json") {
				paths = append(paths, o.Key)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("reading the ledger: %w", err)
		}
	}
	recs, err := readRecords(ctx, sink, paths)
	if err != nil {
		return nil, err
	}
	for _, u := range recs {
		if canonical != nil {
			for i := range u.Objects {
				u.Objects[i].Key = canonical(u.Objects[i].Key)
			}
		}
		l.add(u)
	}
	var pend []string
	if err := sink.List(ctx, pendingDir(kind)+"/", func(o storage.Object) error {
		if strings.HasSuffix(o.Key, ".json") {
			pend = append(pend, o.Key)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading the ledger: %w", err)
	}
	if recs, err = readRecords(ctx, sink, pend); err != nil {
		return nil, err
	}
	for _, u := range recs {
		l.pending[u.ID] = u
	}
	return l, nil
}

// writePending writes the pending record of a unit about to be committed.
func (l *ledger) writePending(ctx context.Context, rec *UnitRecord) error {
	if err := l.write(ctx, l.pendingPath(rec.ID), rec); err != nil {
		return fmt.Errorf("writing the pending record of unit %s: %w", rec.ID, err)
	}
	return nil
}

// writeCommitted writes the ledger record of a unit: its commit point.
func (l *ledger) writeCommitted(ctx context.Context, rec *UnitRecord) error {
	if err := l.write(ctx, l.unitPath(rec), rec); err != nil {
		return fmt.Errorf("writing the ledger record of unit %s: %w", rec.ID, err)
	}
	return nil
}

// removePending deletes a unit's pending record: its commit is finished.
func (l *ledger) removePending(ctx context.Context, id string) error {
	if err := l.sink.Remove(ctx, l.pendingPath(id)); err != nil {
		return fmt.Errorf("removing the pending record of unit %s: %w", id, err)
	}
	return nil
}

// undoPending removes the files a pending record names, then the record: a
// unit whose commit never reached its ledger record.
func (l *ledger) undoPending(ctx context.Context, p *UnitRecord) error {
	if err := l.removeFiles(ctx, p.paths()); err != nil {
		return err
	}
	if err := l.sink.Remove(ctx, l.pendingPath(p.ID)); err != nil {
		return err
	}
	delete(l.pending, p.ID)
	return nil
}

// takeBack undoes a commit that failed after publishing: the ledger record
// first (its write may have succeeded with the answer lost), then the
// files, then the pending record. It stops at the first step that fails;
// the pending record then makes the next run finish the job.
func (l *ledger) takeBack(ctx context.Context, rec *UnitRecord) {
	if l.sink.Remove(ctx, l.unitPath(rec)) == nil && l.removeFiles(ctx, rec.paths()) == nil {
		_ = l.sink.Remove(ctx, l.pendingPath(rec.ID))
	}
}

// add records a committed unit, replacing an earlier version of it.
func (l *ledger) add(u *UnitRecord) {
	l.drop(u.ID)
	l.units[u.ID] = u
	for _, o := range u.Objects {
		l.byKey[o.Key] = append(l.byKey[o.Key], u)
	}
}

// drop forgets a unit.
func (l *ledger) drop(id string) {
	old := l.units[id]
	if old == nil {
		return
	}
	delete(l.units, id)
	for _, o := range old.Objects {
		us := l.byKey[o.Key][:0]
		for _, u := range l.byKey[o.Key] {
			if u.ID != id {
				us = append(us, u)
			}
		}
		if len(us) == 0 {
			delete(l.byKey, o.Key)
		} else {
			l.byKey[o.Key] = us
		}
	}
}

// holders returns the committed units other than id that hold rows of the
// objects, in id order.
func (l *ledger) holders(objs []ObjectRef, id string) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		for _, u := range l.byKey[o.Key] {
			if u.ID != id && !seen[u.ID] {
				seen[u.ID] = true
				out = append(out, u.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// converted returns the committed unit holding key's rows and whether the
// ledger knows the object with this size and ETag.
func (l *ledger) converted(o storage.Object) (*UnitRecord, bool) {
	for _, u := range l.byKey[o.Key] {
		for _, ref := range u.Objects {
			if ref.Key == o.Key {
				return u, ref.Size == o.Size && ref.ETag == o.ETag
			}
		}
	}
	return nil, false
}

// retired returns the units that a later committed unit superseded but that
// are still present: their removal was interrupted.
func (l *ledger) retired() []*UnitRecord {
	var out []*UnitRecord
	for _, u := range l.units {
		for _, id := range u.Supersedes {
			if old := l.units[id]; old != nil && u.supersedes(old) {
				out = append(out, old)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// removeUnit deletes a committed unit: its files first, then its record, so
// that an interruption leaves a record to finish the removal from.
func (l *ledger) removeUnit(ctx context.Context, u *UnitRecord) error {
	err := l.removeFiles(ctx, u.paths())
	if err == nil {
		err = l.sink.Remove(ctx, l.unitPath(u))
	}
	if err == nil {
		err = l.sink.Remove(ctx, l.pendingPath(u.ID))
	}
	if err != nil {
		return fmt.Errorf("removing unit %s: %w", u.ID, err)
	}
	l.drop(u.ID)
	return nil
}

// overlaps returns, for every object more than one committed unit holds
// without one of them having superseded the other, the ids of those units:
// rows that are in the output twice.
func (l *ledger) overlaps() map[string][]string {
	out := map[string][]string{}
	for key, us := range l.byKey {
		if len(us) < 2 {
			continue
		}
		var ids []string
		for i, a := range us {
			dup := false
			for j, b := range us {
				if i != j && !a.supersedes(b) && !b.supersedes(a) {
					dup = true
				}
			}
			if dup {
				ids = append(ids, a.ID)
			}
		}
		if len(ids) > 1 {
			sort.Strings(ids)
			out[key] = ids
		}
	}
	return out
}

// readRecords reads ledger records, several at once (S3 round trips).
func readRecords(ctx context.Context, sink storage.Sink, paths []string) ([]*UnitRecord, error) {
	out := make([]*UnitRecord, len(paths))
	errs := make([]error, len(paths))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rc, err := sink.Open(ctx, p)
			if err != nil {
				errs[i] = fmt.Errorf("reading ledger record %s: %w", p, err)
				return
			}
			defer rc.Close()
			var u UnitRecord
			if err := json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&u); err != nil {
				errs[i] = fmt.Errorf("ledger record %s is damaged: %w", p, err)
				return
			}
			out[i] = &u
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// write writes a ledger or pending record atomically.
func (l *ledger) write(ctx context.Context, rel string, u *UnitRecord) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return storage.WriteObject(ctx, l.sink, rel, append(data, '\n'))
}

// removeFiles deletes output files; missing ones are not an error.
func (l *ledger) removeFiles(ctx context.Context, paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := l.sink.Remove(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
