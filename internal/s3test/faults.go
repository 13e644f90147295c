package s3test

import (
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Fault is a kind of fault a Faults client injects.
type Fault int

const (
	// SlowDown answers 503 SlowDown without sending the request.
	SlowDown Fault = iota
	// ResetBefore fails with a reset connection without sending the request.
	ResetBefore
	// ResetAfter sends the request, so that the server acts on it, and then
	// fails with a reset connection: the answer is lost.
	ResetAfter
	// Truncate sends the request and cuts the answer's body in half (any
	// answer with a body of two bytes or more, whatever the method).
	Truncate
	numFaults
)

func (f Fault) String() string {
	return [...]string{"SlowDown", "ResetBefore", "ResetAfter", "Truncate"}[f]
}

// Faults is an aws.HTTPClient that injects faults into a fraction Rate of
// requests, each of a kind drawn from Kinds (all kinds if empty). It is
// seeded: the same seed injects the same faults in the same request order.
type Faults struct {
	Next  aws.HTTPClient
	Rate  float64
	Kinds []Fault

	mu       sync.Mutex
	rng      *rand.Rand
	injected [numFaults]atomic.Int64
}

// NewFaults returns a Faults client with the given seed; set Next (for
// example in S3Config.WrapHTTPClient) before use.
func NewFaults(rate float64, seed uint64, kinds ...Fault) *Faults {
	return &Faults{Rate: rate, Kinds: kinds, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// Injected returns how many faults of kind k were injected.
func (f *Faults) Injected(k Fault) int64 { return f.injected[k].Load() }

// Total returns how many faults were injected.
func (f *Faults) Total() int64 {
	var n int64
	for k := range f.injected {
		n += f.injected[k].Load()
	}
	return n
}

func (f *Faults) roll() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.rng.Float64()
	var k Fault
	if len(f.Kinds) > 0 {
		k = f.Kinds[f.rng.IntN(len(f.Kinds))]
	} else {
		k = Fault(f.rng.IntN(int(numFaults)))
	}
	return k, p < f.Rate
}

func resetErr() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// Do sends req, or not, as the next roll says.
func (f *Faults) Do(req *http.Request) (*http.Response, error) {
	kind, inject := f.roll()
	if !inject {
		return f.Next.Do(req)
	}
	switch kind {
	case SlowDown:
		f.injected[kind].Add(1)
		closeBody(req)
		body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Slow Down", Request: req,
			Header:        http.Header{"Content-Type": {"application/xml"}},
			ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}, nil
	case ResetBefore:
		f.injected[kind].Add(1)
		closeBody(req)
		return nil, resetErr()
	}
	resp, err := f.Next.Do(req)
	if err != nil {
		return resp, err
	}
	if kind == ResetAfter {
		f.injected[kind].Add(1)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, resetErr()
	}
	if resp.ContentLength < 2 {
		return resp, nil // nothing to cut: no fault
	}
	f.injected[kind].Add(1)
	resp.Body = &halfBody{ReadCloser: resp.Body, left: resp.ContentLength / 2}
	return resp, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// halfBody ends a body early, as a dropped connection does.
type halfBody struct {
	io.ReadCloser
	left int64
}

func (b *halfBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
