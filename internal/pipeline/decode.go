package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"convert/internal/reader"
)

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
