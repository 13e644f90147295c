package storage

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

// S3Sink writes objects under s3://Bucket/Prefix. Prefix is a directory: the
// object for rel "a/b" is Prefix + "/a/b". Every rel goes through CleanRel.
//
// A File streams through a multipart upload that Commit completes and Abort
// aborts, so an object becomes visible only at Commit, whole; a file no
// larger than PartSize is sent with one PutObject at Commit instead. Any
// failure before the upload completes aborts it. A process killed mid-upload
// leaves an incomplete upload, invisible but billed: give output buckets a
// lifecycle rule with AbortIncompleteMultipartUpload.
type S3Sink struct {
	Client *S3Client
	Bucket string
	Prefix string
}

var _ Sink = (*S3Sink)(nil)

var errFileFinished = errors.New("storage: use of a committed or aborted file")

// root is the key prefix of the sink's objects: "" or ending in "/".
func (s *S3Sink) root() string {
	if s.Prefix == "" || strings.HasSuffix(s.Prefix, "/") {
		return s.Prefix
	}
	return s.Prefix + "/"
}

func (s *S3Sink) key(rel string) (string, error) {
	c, err := CleanRel(rel)
	if err != nil {
		return "", err
	}
	return s.root() + c, nil
}

// Create starts an object at rel. It makes no request: the multipart upload
// starts when the first part is full. ctx bounds every request of the file,
// Commit's included.
func (s *S3Sink) Create(ctx context.Context, rel string) (File, error) {
	key, err := s.key(rel)
	if err != nil {
		return nil, err
	}
	return &s3File{c: s.Client, ctx: ctx, bucket: s.Bucket, key: key}, nil
}

// List calls fn for each object under rel ("" for all), in key order, with
// keys relative to the sink's prefix.
func (s *S3Sink) List(ctx context.Context, rel string, fn func(Object) error) error {
	root := s.root()
	start := root
	if rel != "" {
		c, err := CleanRel(rel)
		if err != nil {
			return err
		}
		start = root + c
	}
	keep := func(key string) bool { return inScope(start, key) }
	return s.Client.list(ctx, s.Bucket, start, keep, func(o Object) error {
		o.Key = strings.TrimPrefix(o.Key, root)
		return fn(o)
	})
}

// Open reads a committed object, resuming a broken body as S3Source.Open
// does. A missing object gives an error matching fs.ErrNotExist.
func (s *S3Sink) Open(ctx context.Context, rel string) (io.ReadCloser, error) {
	key, err := s.key(rel)
	if err != nil {
		return nil, err
	}
	return s.Client.open(ctx, s.Bucket, key, "")
}

// Remove deletes a committed object; a missing one is not an error.
func (s *S3Sink) Remove(ctx context.Context, rel string) error {
	key, err := s.key(rel)
	if err != nil {
		return err
	}
	_, err = s.Client.api.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:              aws.String(s.Bucket),
		Key:                 aws.String(key),
		ExpectedBucketOwner: s.Client.expectedOwner(),
	})
	if err != nil && apiErrorCode(err) != "NoSuchKey" {
		return s.Client.wrapErr("removing", s3URL(s.Bucket, key), err)
	}
	return nil
}

// String returns the sink's s3:// URL.
func (s *S3Sink) String() string { return s3URL(s.Bucket, s.Prefix) }

// s3File is an object being written. Write and Commit/Abort are called from
// one goroutine; parts upload on others, at most Concurrency at once per
// client.
type s3File struct {
	c           *S3Client
	ctx         context.Context // Create's
	bucket, key string

	buf      []byte // the part being filled, at most PartSize bytes
	uploadID string // set once the multipart upload exists
	lastPart int32  // number of the last part sent
	sealed   bool   // no more writes
	held     int64  // bytes of buf counted in the client's held total
	done     bool   // committed or aborted
	uploads  sync.WaitGroup

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // the first failure of an upload request
}

func (f *s3File) url() string { return s3URL(f.bucket, f.key) }

func (f *s3File) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// fail records the first failure. Parts already uploading are let finish
// rather than cancelled: S3 may still store a part whose request the client
// gave up on after the upload was aborted.
func (f *s3File) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// Write buffers p, sending each full part; it blocks while the client has
// Concurrency parts uploading. After a failed upload it returns that failure.
func (f *s3File) Write(p []byte) (int, error) {
	if f.done || f.sealed {
		return 0, errFileFinished
	}
	if err := f.failure(); err != nil {
		return 0, err
	}
	partSize := int(f.c.cfg.PartSize)
	written := 0
	for len(p) > 0 {
		// A full part is sent only once more data comes, so that a file of
		// exactly PartSize bytes is still one PutObject.
		if len(f.buf) == partSize {
			if err := f.sendPart(); err != nil {
				return written, err
			}
		}
		k := min(len(p), partSize-len(f.buf))
		f.reserve(k)
		f.buf = append(f.buf, p[:k]...)
		p = p[k:]
		written += k
	}
	return written, nil
}

// minPartBuffer is the first allocation of a small file's buffer.
const minPartBuffer = 64 << 10

// reserve makes room for n more bytes in f.buf. A file's first buffer grows
// by doubling, so that small files (most partitions, the rejects) do not
// each hold PartSize bytes; once a multipart upload runs, buffers are full
// parts from the client's pool.
func (f *s3File) reserve(n int) {
	if cap(f.buf)-len(f.buf) >= n {
		return
	}
	partSize := int(f.c.cfg.PartSize)
	if f.uploadID != "" && len(f.buf) == 0 {
		f.buf = f.c.partBuffer()
		return
	}
	nb := make([]byte, len(f.buf), min(max(2*cap(f.buf), len(f.buf)+n, minPartBuffer), partSize))
	copy(nb, f.buf)
	f.buf = nb
}

func (c *S3Client) partBuffer() []byte {
	if b, ok := c.parts.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, c.cfg.PartSize)
}

func (c *S3Client) recycle(b []byte) {
	if int64(cap(b)) == c.cfg.PartSize {
		c.parts.Put(&b)
	}
}

// sendPart starts the multipart upload if needed and uploads f.buf as the
// next part in the background, once a slot is free.
func (f *s3File) sendPart() error {
	if f.uploadID == "" {
		if err := f.createUpload(); err != nil {
			f.fail(err)
			return err
		}
	}
	if f.lastPart == s3MaxParts {
		err := fmt.Errorf("writing %s: more than %d parts of %d bytes; raise the part size", f.url(), s3MaxParts, f.c.cfg.PartSize)
		f.fail(err)
		return err
	}
	select {
	case f.c.slots <- struct{}{}:
	case <-f.ctx.Done():
		return context.Cause(f.ctx)
	}
	if err := f.failure(); err != nil { // an upload failed while we waited
		<-f.c.slots
		return err
	}
	f.lastPart++
	num, body := f.lastPart, f.buf
	f.buf = nil
	f.uploads.Add(1)
	go func() {
		defer f.uploads.Done()
		defer func() { <-f.c.slots }()
		if err := f.uploadPart(num, body); err != nil {
			f.fail(err)
			return
		}
		// Recycled only after success: after a failure the HTTP transport
		// may still be reading the body.
		f.c.recycle(body)
	}()
	return nil
}

func (f *s3File) createUpload() error {
	in := &s3.CreateMultipartUploadInput{
		Bucket:              aws.String(f.bucket),
		Key:                 aws.String(f.key),
		ExpectedBucketOwner: f.c.expectedOwner(),
	}
	f.c.applySSE(&in.ServerSideEncryption, &in.SSEKMSKeyId)
	if f.c.checksums {
		// As manager.Uploader does: the parts carry CRC32s, and S3 then
		// wants them declared here and listed at completion.
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	attempts := 0
	start := time.Now()
	out, err := f.c.api.CreateMultipartUpload(f.ctx, in, countAttempts(&attempts))
	if err == nil {
		f.uploadID = aws.ToString(out.UploadId)
	}
	// An attempt whose answer was lost (a reset, a timeout, a body cut
	// short) may still have started an upload that nobody knows the ID of;
	// a retry then starts another. A single attempt that S3 answered with an
	// error started nothing.
	if attempts > 1 || (err != nil && apiErrorCode(err) == "") {
		f.abortLostUploads(time.Since(start))
	}
	if err != nil {
		return f.c.wrapErr("starting upload of", f.url(), err)
	}
	return nil
}

// lostUploadMargin widens the window in which abortLostUploads looks for
// uploads: S3 reports times to the second at best.
const lostUploadMargin = 2 * time.Second

// abortLostUploads aborts the multipart uploads of f's key, other than
// f.uploadID, that the CreateMultipartUpload just made may have started: those
// initiated during its elapsed time, by the server's clock (ending at our own
// upload's start, or at the listing's Date). Another writer of the very same
// key at the very same seconds would see its upload fail, not vanish: the
// commit protocol never has two.
func (f *s3File) abortLostUploads(elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), s3CleanupTimeout)
	defer cancel()
	var found []types.MultipartUpload
	var end time.Time
	pages := s3.NewListMultipartUploadsPaginator(f.c.api, &s3.ListMultipartUploadsInput{
		Bucket:              aws.String(f.bucket),
		Prefix:              aws.String(f.key),
		ExpectedBucketOwner: f.c.expectedOwner(),
	})
	for pages.HasMorePages() {
		var page *s3.ListMultipartUploadsOutput
		err := f.c.persist(ctx, func() (err error) {
			page, err = pages.NextPage(ctx)
			return err
		})
		if err != nil {
			f.c.warn("listing S3 multipart uploads to abort those of lost requests failed; a lifecycle rule AbortIncompleteMultipartUpload removes them later",
				"object", f.url(), "error", err.Error())
			return
		}
		if t, ok := awsmiddleware.GetServerTime(page.ResultMetadata); ok && end.IsZero() {
			end = t
		}
		for _, u := range page.Uploads {
			if aws.ToString(u.Key) != f.key {
				continue
			}
			if aws.ToString(u.UploadId) == f.uploadID {
				end = aws.ToTime(u.Initiated)
				continue
			}
			found = append(found, u)
		}
	}
	if end.IsZero() {
		end = time.Now()
	}
	from, to := end.Add(-elapsed-lostUploadMargin), end.Add(lostUploadMargin)
	for _, u := range found {
		at := aws.ToTime(u.Initiated)
		if at.Before(from) || at.After(to) {
			continue
		}
		id := aws.ToString(u.UploadId)
		if err := f.c.persist(ctx, func() error { return f.c.abortMultipart(ctx, f.bucket, f.key, id) }); err != nil {
			f.c.warn("aborting the S3 multipart upload of a lost request failed; a lifecycle rule AbortIncompleteMultipartUpload removes it later",
				"object", f.url(), "upload_id", id, "error", err.Error())
		}
	}
}

// countAttempts counts the attempts the SDK's retryer makes of one call.
func countAttempts(n *int) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("convert.countAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					*n++ // attempts run one after another
					return next.HandleFinalize(ctx, in)
				}), "Retry", middleware.After)
		})
	}
}

func (f *s3File) uploadPart(num int32, body []byte) error {
	in := &s3.UploadPartInput{
		Bucket:              aws.String(f.bucket),
		Key:                 aws.String(f.key),
		UploadId:            aws.String(f.uploadID),
		PartNumber:          aws.Int32(num),
		Body:                bytes.NewReader(body), // seekable: retried, and checksummed over http
		ContentLength:       aws.Int64(int64(len(body))),
		ExpectedBucketOwner: f.c.expectedOwner(),
	}
	if f.c.checksums {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	out, err := f.c.api.UploadPart(f.ctx, in)
	if err != nil {
		return f.c.wrapErr(fmt.Sprintf("uploading part %d of", num), f.url(), err)
	}
	f.mu.Lock()
	f.parts = append(f.parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	f.mu.Unlock()
	return nil
}

// Commit sends what is left and completes the upload (or puts the small
// object), making the object visible. On failure nothing is visible and the
// upload is aborted.
func (f *s3File) Commit() error {
	if f.done {
		return errFileFinished
	}
	f.done = true
	if err := f.failure(); err != nil {
		return f.abort(err)
	}
	if f.uploadID == "" {
		err := f.putObject()
		if err == nil {
			f.c.recycle(f.buf)
		}
		f.buf = nil
		f.releaseHeld()
		return err
	}
	if len(f.buf) > 0 {
		if err := f.sendPart(); err != nil {
			return f.abort(err)
		}
	}
	f.uploads.Wait()
	if err := f.failure(); err != nil {
		return f.abort(err)
	}
	slices.SortFunc(f.parts, func(a, b types.CompletedPart) int {
		return cmp.Compare(aws.ToInt32(a.PartNumber), aws.ToInt32(b.PartNumber))
	})
	_, err := f.c.api.CompleteMultipartUpload(withRequestTimeout(f.ctx, f.completeTimeout()), &s3.CompleteMultipartUploadInput{
		Bucket:              aws.String(f.bucket),
		Key:                 aws.String(f.key),
		UploadId:            aws.String(f.uploadID),
		MultipartUpload:     &types.CompletedMultipartUpload{Parts: f.parts},
		ExpectedBucketOwner: f.c.expectedOwner(),
	})
	if err != nil {
		return f.abort(f.c.wrapErr("completing upload of", f.url(), err))
	}
	return nil
}

// s3CompleteRate is the slowest rate at which a store is expected to
// assemble a completed upload: S3 answers at once (and keeps the connection
// alive while it works), but a file-backed store may copy every part.
const s3CompleteRate = 50 << 20 // bytes per second

// completeTimeout bounds an attempt of CompleteMultipartUpload: RequestTimeout
// plus the object's size at s3CompleteRate.
func (f *s3File) completeTimeout() time.Duration {
	size := int64(f.lastPart) * f.c.cfg.PartSize // at most: the last part may be short
	return f.c.cfg.RequestTimeout + time.Duration(size/s3CompleteRate+1)*time.Second
}

func (f *s3File) putObject() error {
	in := &s3.PutObjectInput{
		Bucket:              aws.String(f.bucket),
		Key:                 aws.String(f.key),
		Body:                bytes.NewReader(f.buf),
		ContentLength:       aws.Int64(int64(len(f.buf))),
		ExpectedBucketOwner: f.c.expectedOwner(),
	}
	f.c.applySSE(&in.ServerSideEncryption, &in.SSEKMSKeyId)
	if _, err := f.c.api.PutObject(f.ctx, in); err != nil {
		return f.c.wrapErr("writing", f.url(), err)
	}
	return nil
}

// Seal implements Sealer: a multipart upload sends its last part now, so
// that a finished file awaiting Commit holds no part buffer. A file small
// enough for one PutObject keeps its bytes until Commit, which makes it
// visible, as long as the client holds less than its limit of such bytes;
// past it, the file is sent now as a one-part multipart upload that Commit
// completes, so many small files awaiting one commit stay bounded.
func (f *s3File) Seal() error {
	if f.done || f.sealed {
		return nil
	}
	f.sealed = true
	if len(f.buf) == 0 {
		return nil
	}
	if f.uploadID == "" {
		n := int64(len(f.buf))
		if f.c.held.Add(n) <= f.c.heldLimit {
			f.held = n
			return nil
		}
		f.c.held.Add(-n)
	}
	return f.sendPart()
}

// releaseHeld gives back the bytes this file counted as held.
func (f *s3File) releaseHeld() {
	if f.held > 0 {
		f.c.held.Add(-f.held)
		f.held = 0
	}
}

// Abort discards the file: it stops its uploads and aborts the multipart
// upload. It is a no-op after Commit or Abort.
func (f *s3File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	return f.abort(nil)
}

// abort waits for the part uploads in flight, aborts the multipart upload,
// if any, and returns cause (nil for Abort) joined with an abort failure.
func (f *s3File) abort(cause error) error {
	f.uploads.Wait()
	f.buf = nil
	f.releaseHeld()
	if f.uploadID == "" {
		return cause
	}
	if err := f.abortUpload(); err != nil {
		f.c.warn("aborting S3 multipart upload failed; a lifecycle rule AbortIncompleteMultipartUpload removes it later",
			"object", f.url(), "upload_id", f.uploadID, "error", err.Error())
		return errors.Join(cause, err)
	}
	return cause
}

// s3AbortChecks bounds the AbortMultipartUpload calls for one upload.
const s3AbortChecks = 4

// abortUpload aborts the multipart upload and checks with ListParts that it
// is gone: S3 documents that a part whose upload was still in progress (a
// request the client cancelled) can outlive an abort, and that the abort
// then has to be repeated.
func (f *s3File) abortUpload() error {
	// The file's context may be cancelled by now; the abort must still run.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), s3CleanupTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := f.c.persist(ctx, func() error {
			return f.c.abortMultipart(ctx, f.bucket, f.key, f.uploadID)
		})
		if err != nil {
			return f.c.wrapErr("aborting upload of", f.url(), err)
		}
		err = f.c.persist(ctx, func() error {
			_, err := f.c.api.ListParts(ctx, &s3.ListPartsInput{
				Bucket:              aws.String(f.bucket),
				Key:                 aws.String(f.key),
				UploadId:            aws.String(f.uploadID),
				MaxParts:            aws.Int32(1),
				ExpectedBucketOwner: f.c.expectedOwner(),
			})
			return err
		})
		switch {
		case apiErrorCode(err) == "NoSuchUpload":
			return nil
		case err != nil:
			return f.c.wrapErr("checking the aborted upload of", f.url(), err)
		case attempt == s3AbortChecks:
			return fmt.Errorf("aborting upload of %s at %s: still there after %d aborts", f.url(), f.c.where, attempt)
		}
		t := time.NewTimer(resumeBaseDelay << (attempt - 1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return f.c.wrapErr("aborting upload of", f.url(), ctx.Err())
		}
	}
}

// abortMultipart aborts one multipart upload; one already gone is not an
// error.
func (c *S3Client) abortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	_, err := c.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:              aws.String(bucket),
		Key:                 aws.String(key),
		UploadId:            aws.String(uploadID),
		ExpectedBucketOwner: c.expectedOwner(),
	})
	if apiErrorCode(err) == "NoSuchUpload" {
		return nil
	}
	return err
}

// s3CleanupRounds bounds how often persist repeats a cleanup request.
const s3CleanupRounds = 3

// persist runs a cleanup request (aborting an upload, checking it is gone)
// again, up to s3CleanupRounds times, while it fails only because the
// retryer ran out of attempts on transient errors. Cleanup happens once, when
// a file ends, and nothing retries it later: it is worth more patience than
// a request whose failure fails its unit, which the run reports.
func (c *S3Client) persist(ctx context.Context, req func() error) error {
	for round := 1; ; round++ {
		err := req()
		var exhausted *retry.MaxAttemptsError
		if err == nil || round == s3CleanupRounds || !errors.As(err, &exhausted) {
			return err
		}
		t := time.NewTimer(s3RetryBaseDelay << round)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		}
	}
}

// applySSE sets the server-side encryption parameters of a request that
// creates an object.
func (c *S3Client) applySSE(sse *types.ServerSideEncryption, kmsKeyID **string) {
	if c.cfg.SSE == SSENone {
		return
	}
	*sse = types.ServerSideEncryption(c.cfg.SSE)
	if c.cfg.SSEKMSKeyID != "" {
		*kmsKeyID = aws.String(c.cfg.SSEKMSKeyID)
	}
}

// ReadRange reads n bytes at off of a committed object: a ranged GET,
// resumed as Open's reads are if its body breaks or stalls.
func (s *S3Sink) ReadRange(ctx context.Context, rel string, off, n int64) ([]byte, error) {
	key, err := s.key(rel)
	if err != nil {
		return nil, err
	}
	if n <= 0 || off < 0 {
		return nil, fmt.Errorf("reading %s: bad range of %d bytes at %d", s3URL(s.Bucket, key), n, off)
	}
	r := &s3Reader{c: s.Client, ctx: ctx, bucket: s.Bucket, key: key, off: off, end: off + n, size: -1}
	if err := r.get(); err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading %d bytes at %d of %s: %w", n, off, s3URL(s.Bucket, key), err)
	}
	return buf, nil
}
