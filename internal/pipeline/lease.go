package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"convert/internal/storage"
)

// ErrOutputBusy is returned by Run when another live run holds a lease on an
// overlapping part of the same output: the run did nothing and may be
// retried once the other has finished.
var ErrOutputBusy = errors.New("another run is converting into the same output")

// ErrLeaseLost is returned when a run could not renew its lease in time: it
// stops committing, since another run may by now have taken over.
var ErrLeaseLost = errors.New("lost the output lease")

// Lease timing. A run renews its lease every leaseRenew; a lease not renewed
// for LeaseTTL is dead. A run stops committing once leaseMargin before its
// lease could have expired, to allow for clock differences between hosts.
const (
	LeaseTTL    = 2 * time.Minute
	leaseRenew  = 20 * time.Second
	leaseMargin = 30 * time.Second
)

// Scope is the part of an output a run may change: the key days From..To
// (zero: unbounded) and, for a work item, its key ranges (none: every key).
type Scope struct {
	From   time.Time  `json:"from,omitzero"`
	To     time.Time  `json:"to,omitzero"`
	Ranges []KeyRange `json:"ranges,omitempty"`
}

// overlaps reports whether two scopes may touch the same source object. Key
// ranges are compared as intervals, ignoring prefixes: it may see overlap
// where there is none, never the reverse.
func (s Scope) overlaps(o Scope) bool {
	if !s.To.IsZero() && !o.From.IsZero() && s.To.Before(o.From) ||
		!o.To.IsZero() && !s.From.IsZero() && o.To.Before(s.From) {
		return false
	}
	if len(s.Ranges) == 0 || len(o.Ranges) == 0 {
		return true
	}
	for _, a := range s.Ranges {
		for _, b := range o.Ranges {
			if a.After < b.Last && b.After < a.Last {
				return true
			}
		}
	}
	return false
}

// leaseRecord is a lease as stored under LedgerDir/<kind>/leases/.
type leaseRecord struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Process string    `json:"process"` // random per process: tells leases of this process apart
	Input   string    `json:"input"`
	Scope   Scope     `json:"scope"`
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires"`
}

func (l *leaseRecord) String() string {
	return fmt.Sprintf("run %s on host %s (pid %d) converting %s, started %s, lease valid until %s",
		l.ID, l.Host, l.PID, l.Input, l.Started.Format(time.RFC3339), l.Expires.Format(time.RFC3339))
}

func leasesDir(kind string) string          { return path.Join(LedgerDir, kind, "leases") }
func leasePath(kind, id string) string      { return path.Join(leasesDir(kind), id+".json") }
func newRunID() string                      { var b [8]byte; _, _ = rand.Read(b[:]); return hex.EncodeToString(b[:]) }
func (l *leaseRecord) path(k string) string { return leasePath(k, l.ID) }

var (
	thisHost, _ = os.Hostname()
	thisProcess = newRunID()
	// heldLeases are the leases this process holds now, by id: a lease of
	// this process that is not here belongs to a run that ended without
	// removing it (a test's simulated crash).
	heldLeases sync.Map
)

// alive reports whether the run that wrote the lease may still be running.
func (l *leaseRecord) alive(now time.Time) bool {
	if !now.Before(l.Expires) {
		return false
	}
	if l.Host != thisHost {
		return true // cannot check another host's processes: trust the expiry
	}
	if l.Process == thisProcess {
		_, held := heldLeases.Load(l.ID)
		return held
	}
	return l.PID != os.Getpid() && storage.ProcessAlive(l.PID)
}

// lease is a lease this run holds.
type lease struct {
	sink storage.Sink
	kind string
	rec  leaseRecord

	mu         sync.Mutex
	validUntil time.Time // the lease is ours until then, at the latest
	lost       error

	stop     chan struct{}
	done     chan struct{}
	renewing bool
}

// acquireLease announces the run in the output and then looks for other live
// runs whose scope overlaps: if there is one, it withdraws and returns
// ErrOutputBusy naming it. Both steps are plain writes and listings, so the
// rule needs no conditional writes, only that a listing shows every object
// written before it began (S3's and a file system's consistency): of two runs
// that overlap, the later to announce always sees the earlier; when both see
// each other, both withdraw.
func acquireLease(ctx context.Context, sink storage.Sink, kind, input string, scope Scope) (*lease, error) {
	now := time.Now().UTC()
	l := &lease{sink: sink, kind: kind, stop: make(chan struct{}), done: make(chan struct{}),
		rec: leaseRecord{ID: newRunID(), Host: thisHost, PID: os.Getpid(), Process: thisProcess,
			Input: input, Scope: scope, Started: now, Expires: now.Add(LeaseTTL)}}
	heldLeases.Store(l.rec.ID, true)
	if err := l.write(ctx); err != nil {
		heldLeases.Delete(l.rec.ID)
		return nil, fmt.Errorf("writing the run's lease: %w", err)
	}
	others, err := readLeases(ctx, sink, kind)
	if err == nil {
		for _, o := range others {
			if o.ID == l.rec.ID {
				continue
			}
			if !o.alive(time.Now()) {
				if time.Since(o.Expires) > LeaseTTL {
					_ = sink.Remove(ctx, o.path(kind)) // long dead: tidy up
				}
				continue
			}
			if o.Scope.overlaps(scope) {
				err = fmt.Errorf("%w (%s): %v; retry when it has finished, or after %s if it was killed",
					ErrOutputBusy, sink, o, o.Expires.Format(time.RFC3339))
				break
			}
		}
	}
	if err != nil {
		l.release(context.WithoutCancel(ctx))
		return nil, err
	}
	l.renewing = true
	go l.renew()
	return l, nil
}

func (l *lease) write(ctx context.Context) error {
	start := time.Now()
	data, err := json.Marshal(&l.rec)
	if err != nil {
		return err
	}
	if err := storage.WriteObject(ctx, l.sink, l.rec.path(l.kind), append(data, '\n')); err != nil {
		return err
	}
	l.mu.Lock()
	l.validUntil = start.Add(LeaseTTL)
	l.mu.Unlock()
	return nil
}

// renew rewrites the lease with a later expiry until release. A renewal that
// would come after the lease could have expired is not tried: the lease is
// lost, and check says so from then on.
func (l *lease) renew() {
	defer close(l.done)
	tick := time.NewTicker(leaseRenew)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		if err := l.check(); err != nil {
			return
		}
		now := time.Now().UTC()
		l.rec.Expires = now.Add(LeaseTTL)
		ctx, cancel := context.WithTimeout(context.Background(), leaseRenew)
		err := l.write(ctx)
		cancel()
		if err != nil && l.check() == nil {
			continue // try again at the next tick, while the lease still holds
		}
	}
}

// check returns ErrLeaseLost once the lease may have expired: the run must
// not commit anything after that.
func (l *lease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil && time.Now().After(l.validUntil.Add(-leaseMargin)) {
		l.lost = fmt.Errorf("%w: it could not be renewed for %s (storage unreachable?); another run may have taken over, so this one stops before committing more",
			ErrLeaseLost, LeaseTTL-leaseMargin)
	}
	return l.lost
}

// release ends the lease: renewal stops (a renewal in flight finishes
// first, so that it cannot write the record again) and the record is removed.
func (l *lease) release(ctx context.Context) {
	close(l.stop)
	if l.renewing {
		<-l.done
	}
	heldLeases.Delete(l.rec.ID)
	_ = l.sink.Remove(ctx, l.rec.path(l.kind))
}

// readLeases reads every lease record of the kind. A record that cannot be
// read (removed while listed, or half written by a killed run on a file
// system) is not a live run's and is ignored.
func readLeases(ctx context.Context, sink storage.Sink, kind string) ([]*leaseRecord, error) {
	var out []*leaseRecord
	err := sink.List(ctx, leasesDir(kind)+"/", func(o storage.Object) error {
		if !strings.HasSuffix(o.Key, ".json") {
			return nil
		}
		rc, err := sink.Open(ctx, o.Key)
		if err != nil {
			return nil
		}
		defer rc.Close()
		var l leaseRecord
		if json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&l) == nil && l.ID != "" {
			out = append(out, &l)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the output's leases: %w", err)
	}
	return out, nil
}
