package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrObjectChanged is returned when an object being read no longer has the
// ETag it was listed or first opened with: it was overwritten, and its bytes
// would not be the ones expected.
var ErrObjectChanged = errors.New("storage: object changed")

// resumeBaseDelay is the wait before the first resume of a broken read;
// it doubles with each further resume, up to MaxBackoff.
const resumeBaseDelay = 100 * time.Millisecond

// errReadStalled cancels a GetObject whose body delivered nothing for
// StallTimeout; the read then resumes.
var errReadStalled = errors.New("storage: S3 read stalled")

// s3Reader is one GetObject stream that resumes with a ranged GetObject,
// pinned to the object's ETag with If-Match, when its body breaks.
type s3Reader struct {
	c           *S3Client
	ctx         context.Context
	bucket, key string
	etag        string // required ETag; from the first response if not given
	off         int64  // offset of the next byte to deliver
	end         int64  // offset after the last byte wanted; 0 for the object's end
	size        int64  // end offset from the first response; -1 if unknown
	body        io.ReadCloser
	cancelGet   context.CancelCauseFunc // cancels the current GetObject
	getCtx      context.Context         // the current GetObject's context
	stall       *time.Timer             // armed during a body Read
	resumes     int
	err         error // sticky: io.EOF, a failure, or errReaderClosed
}

var errReaderClosed = errors.New("storage: read of a closed S3 object")

// open starts reading bucket/key. A non-empty etag must match the object's.
func (c *S3Client) open(ctx context.Context, bucket, key, etag string) (io.ReadCloser, error) {
	r := &s3Reader{c: c, ctx: ctx, bucket: bucket, key: key, etag: etag, size: -1}
	if err := r.get(); err != nil {
		return nil, err
	}
	return r, nil
}

// get issues the GetObject for the bytes from r.off on.
func (r *s3Reader) get() error {
	in := &s3.GetObjectInput{
		Bucket:              aws.String(r.bucket),
		Key:                 aws.String(r.key),
		ExpectedBucketOwner: r.c.expectedOwner(),
	}
	if r.etag != "" {
		in.IfMatch = aws.String(r.etag)
	}
	switch {
	case r.end > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-" + strconv.FormatInt(r.end-1, 10))
	case r.off > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-")
	}
	ctx, cancel := context.WithCancelCause(r.ctx)
	out, err := r.c.api.GetObject(ctx, in)
	if err != nil {
		cancel(nil)
		if isPreconditionFailed(err) {
			return r.changed(err)
		}
		return r.c.wrapErr("reading", s3URL(r.bucket, r.key), err)
	}
	got := aws.ToString(out.ETag)
	switch {
	case r.etag == "":
		r.etag = got
	case got != "" && got != r.etag: // a server that ignores If-Match
		out.Body.Close()
		cancel(nil)
		return r.changed(fmt.Errorf("ETag is now %s", got))
	}
	if out.ContentLength != nil {
		n := r.off + *out.ContentLength
		if r.size < 0 {
			r.size = n
		} else if n != r.size {
			out.Body.Close()
			cancel(nil)
			return r.changed(fmt.Errorf("size is now %d, was %d", n, r.size))
		}
	}
	r.body, r.getCtx, r.cancelGet = out.Body, ctx, cancel
	r.stall = time.AfterFunc(time.Hour, func() { cancel(errReadStalled) })
	r.stall.Stop()
	return nil
}

// closeBody ends the current GetObject.
func (r *s3Reader) closeBody() error {
	if r.body == nil {
		return nil
	}
	r.stall.Stop()
	err := r.body.Close()
	r.cancelGet(nil)
	r.body = nil
	return err
}

// readBody reads the current body, cancelling the request if no byte comes
// for StallTimeout: nothing else bounds a body read on a live connection.
func (r *s3Reader) readBody(p []byte) (int, error) {
	r.stall.Reset(r.c.cfg.StallTimeout)
	n, err := r.body.Read(p)
	r.stall.Stop()
	if err != nil && err != io.EOF && context.Cause(r.getCtx) == errReadStalled {
		err = fmt.Errorf("%w: no data for %v: %w", errReadStalled, r.c.cfg.StallTimeout, err)
	}
	return n, err
}

func (r *s3Reader) changed(cause error) error {
	when := "since it was listed"
	if r.off > 0 || r.resumes > 0 {
		when = fmt.Sprintf("while it was read (at byte %d)", r.off)
	}
	return fmt.Errorf("reading %s: %w %s (ETag %s): %w", s3URL(r.bucket, r.key), ErrObjectChanged, when, r.etag, cause)
}

func isPreconditionFailed(err error) bool {
	var re *awshttp.ResponseError
	return apiErrorCode(err) == "PreconditionFailed" ||
		(errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed)
}

// Read reads the object's bytes in order, resuming a broken body.
func (r *s3Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.body == nil {
			if err := r.get(); err != nil {
				r.err = err
				return 0, err
			}
		}
		n, err := r.readBody(p)
		r.off += int64(n)
		if err == nil {
			return n, nil
		}
		if err == io.EOF {
			if r.size < 0 || r.off == r.size {
				r.err = io.EOF
				return n, io.EOF
			}
			if r.off > r.size {
				r.err = fmt.Errorf("reading %s: got %d bytes, more than its size %d", s3URL(r.bucket, r.key), r.off, r.size)
				return n, r.err
			}
			err = io.ErrUnexpectedEOF // the body ended before the object did
		}
		if r.ctx.Err() != nil || !isTransientReadError(err) || r.resumes >= r.c.cfg.MaxResumes {
			r.err = fmt.Errorf("reading %s at byte %d (%d resumes) at %s: %w", s3URL(r.bucket, r.key), r.off, r.resumes, r.c.where, err)
			return n, r.err
		}
		r.closeBody()
		r.resumes++
		r.c.warn("resuming S3 read", "object", s3URL(r.bucket, r.key), "offset", r.off, "resume", r.resumes, "error", err.Error())
		if n > 0 {
			return n, nil // the next Read resumes
		}
		if err := r.wait(); err != nil {
			r.err = err
			return 0, err
		}
	}
}

// wait backs off before a resume.
func (r *s3Reader) wait() error {
	d := min(resumeBaseDelay<<min(r.resumes-1, 16), r.c.cfg.MaxBackoff)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.ctx.Done():
		return context.Cause(r.ctx)
	}
}

// isTransientReadError reports whether a body read failed for a reason a new
// request may not have: a dropped or reset connection, a stalled one, a short
// body. A checksum mismatch, or anything else, is not resumed.
func isTransientReadError(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errReadStalled) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var timeout interface{ Timeout() bool } // e.g. awshttp.ResponseTimeoutError
	return errors.As(err, &timeout) && timeout.Timeout()
}

// Close releases the stream.
func (r *s3Reader) Close() error {
	r.err = errReaderClosed
	return r.closeBody()
}
