package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
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

func unitPath(kind, group, id string) string { return path.Join(unitsDir(kind), group, id+".json") }
func pendingPath(kind, id string) string     { return path.Join(pendingDir(kind), id+".json") }

// ledger is the part of the output's ledger a run can touch.
type ledger struct {
	sink    storage.Sink
	kind    string
	units   map[string]*UnitRecord // committed units in scope, by id
	byKey   map[string]*UnitRecord // object key → its committed unit
	pending map[string]*UnitRecord // pending records in scope, by id
}

// loadLedger reads the committed units of the days from..to (all days when
// both are zero) and every pending record.
func loadLedger(ctx context.Context, sink storage.Sink, kind string, from, to time.Time) (*ledger, error) {
	l := &ledger{sink: sink, kind: kind, units: map[string]*UnitRecord{}, byKey: map[string]*UnitRecord{}, pending: map[string]*UnitRecord{}}
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
		l.units[u.ID] = u
		for _, o := range u.Objects {
			l.byKey[o.Key] = u
		}
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

// writeRecord writes a ledger or pending record atomically.
func writeRecord(ctx context.Context, sink storage.Sink, rel string, u *UnitRecord) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	f, err := sink.Create(ctx, rel)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// removeAll deletes output files; missing ones are not an error.
func removeAll(ctx context.Context, sink storage.Sink, paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := sink.Remove(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
