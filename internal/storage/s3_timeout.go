package storage

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// attemptTimeoutError ends an attempt that one of the per-attempt timeouts
// gave up on. It is a timeout (Timeout() is true), so the SDK's retryer tries
// again, on a new connection: the transport closes the abandoned one.
type attemptTimeoutError struct {
	op    string
	limit time.Duration
	stall bool // no progress for limit, rather than no answer within it
	err   error
}

func (e *attemptTimeoutError) Error() string {
	what := "no answer within"
	if e.stall {
		what = "no progress sending the body for"
	}
	if e.err == nil {
		return fmt.Sprintf("S3 %s: %s %v", e.op, what, e.limit)
	}
	return fmt.Sprintf("S3 %s: %s %v: %v", e.op, what, e.limit, e.err)
}

func (e *attemptTimeoutError) Unwrap() error { return e.err }
func (e *attemptTimeoutError) Timeout() bool { return true }

// requestTimeoutKey carries a per-attempt timeout for one call that replaces
// RequestTimeout (see withRequestTimeout).
type requestTimeoutKey struct{}

// withRequestTimeout gives the attempts of the call made with ctx the time
// limit d instead of RequestTimeout: for a request whose answer takes time
// in proportion to its size.
func withRequestTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, requestTimeoutKey{}, d)
}

// timeoutClient bounds every attempt of an S3 request by what the request
// is:
//   - a request without a data body (listing, HEAD, creating, completing or
//     aborting an upload, DELETE) must be answered, body included, within
//     RequestTimeout;
//   - a PutObject or UploadPart must keep sending its body: no byte taken
//     for StallTimeout ends the attempt, however long the whole upload takes;
//     once it is sent, the transport's ResponseHeaderTimeout (StallTimeout)
//     bounds the wait for the answer;
//   - a GetObject must answer within ResponseHeaderTimeout; its body is
//     watched by s3Reader, which resumes a body that stalls.
//
// An attempt ended this way fails with an attemptTimeoutError, which the
// retryer retries; the caller's own cancellation is left as it is.
type timeoutClient struct {
	next    aws.HTTPClient
	request time.Duration // RequestTimeout
	stall   time.Duration // StallTimeout
}

func (c *timeoutClient) Do(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	op := awsmiddleware.GetOperationName(parent)
	switch op {
	case "GetObject":
		return c.next.Do(req)
	case "PutObject", "UploadPart":
		return c.doBody(req, op)
	}
	limit := c.request
	if d, ok := parent.Value(requestTimeoutKey{}).(time.Duration); ok {
		limit = d
	}
	if limit <= 0 {
		return c.next.Do(req)
	}
	timeout := &attemptTimeoutError{op: op, limit: limit}
	ctx, cancel := context.WithTimeoutCause(parent, limit, timeout)
	resp, err := c.next.Do(req.WithContext(ctx))
	return c.finish(ctx, parent, cancel, timeout, resp, err)
}

// doBody sends a request with a data body, ending the attempt when the
// transport takes no byte of the body for StallTimeout.
func (c *timeoutClient) doBody(req *http.Request, op string) (*http.Response, error) {
	if c.stall <= 0 || req.Body == nil || req.Body == http.NoBody {
		return c.next.Do(req)
	}
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	timeout := &attemptTimeoutError{op: op, limit: c.stall, stall: true}
	w := &stallWatch{timer: time.AfterFunc(c.stall, func() { cancel(timeout) }), limit: c.stall}
	defer w.stop()
	r := req.WithContext(ctx)
	r.Body = &progressBody{ReadCloser: req.Body, w: w}
	if req.GetBody != nil {
		// The transport replays a request on a fresh connection with
		// GetBody; that body must count as progress too.
		r.GetBody = func() (io.ReadCloser, error) {
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			return &progressBody{ReadCloser: b, w: w}, nil
		}
	}
	resp, err := c.next.Do(r)
	return c.finish(ctx, parent, func() { cancel(nil) }, timeout, resp, err)
}

// finish ties the attempt's context to the response body, which the SDK
// reads after Do returns, and reports an attempt that a timeout ended.
func (c *timeoutClient) finish(ctx, parent context.Context, cancel func(), timeout *attemptTimeoutError, resp *http.Response, err error) (*http.Response, error) {
	ours := func(err error) error {
		if parent.Err() == nil && context.Cause(ctx) == timeout {
			return &attemptTimeoutError{op: timeout.op, limit: timeout.limit, stall: timeout.stall, err: err}
		}
		return err
	}
	if err != nil {
		cancel()
		return resp, ours(err)
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, cancel: cancel, wrap: ours}
	return resp, nil
}

// stallWatch cancels an attempt whose body makes no progress for limit.
type stallWatch struct {
	mu      sync.Mutex
	timer   *time.Timer
	limit   time.Duration
	stopped bool
}

func (w *stallWatch) progress() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.timer.Reset(w.limit)
	}
}

func (w *stallWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}

// progressBody is a request body whose every read is progress; the end of
// the body stops the watch (the wait for the answer is the transport's
// ResponseHeaderTimeout).
type progressBody struct {
	io.ReadCloser
	w *stallWatch
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.w.stop()
	} else {
		b.w.progress()
	}
	return n, err
}

// attemptBody ends the attempt's context when the response body is closed,
// and names a timeout that cut the body short.
type attemptBody struct {
	io.ReadCloser
	cancel func()
	wrap   func(error) error
	once   sync.Once
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.wrap(err)
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}

// s3RetryBaseDelay is the backoff before the first retry of an error that is
// not throttling; it doubles with each retry, up to MaxBackoff.
const s3RetryBaseDelay = 500 * time.Millisecond

// s3Backoff is the wait before a retry: base·2^(n-1) for the n-th retry,
// capped at MaxBackoff, with "equal jitter": at least half of it, the rest
// random. The base is 1 s after throttling (as the SDK's) and
// s3RetryBaseDelay otherwise. Because every wait is at least half, the
// default five attempts span at least 3.75 s: an endpoint that refuses
// connections for a second or two while it restarts costs a few retries,
// not the run. (The SDK's default, a random time below 50 ms·2^(n-1), spends
// five attempts in well under a second.)
type s3Backoff struct {
	max      time.Duration
	throttle retry.IsErrorThrottle
}

func (b s3Backoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	base := s3RetryBaseDelay
	if b.throttle.IsErrorThrottle(err) == aws.TrueTernary {
		base = time.Second
	}
	d := base << min(max(attempt-1, 0), 16)
	if b.max > 0 {
		d = min(d, b.max)
	}
	half := d / 2
	return half + rand.N(d-half+1), nil
}
