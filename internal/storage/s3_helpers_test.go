package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"convert/internal/s3test"
)

// seenRequest is what a test keeps of a request the code under test sent.
type seenRequest struct {
	Op     string
	Key    string // URL path after the bucket
	Header http.Header
	Query  map[string][]string
}

// testHTTP sits between the SDK and the network: it records every request
// and lets a test answer or alter one (intercept returns handled=false to
// send the request on).
type testHTTP struct {
	next      aws.HTTPClient
	mu        sync.Mutex
	seen      []seenRequest
	intercept func(r *http.Request, next aws.HTTPClient) (resp *http.Response, err error, handled bool)
}

func (h *testHTTP) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, seenRequest{Op: opOf(r), Key: keyOf(r), Header: r.Header.Clone(), Query: r.URL.Query()})
	intercept := h.intercept
	h.mu.Unlock()
	if intercept != nil {
		if resp, err, handled := intercept(r, h.next); handled {
			return resp, err
		}
	}
	return h.next.Do(r)
}

func (h *testHTTP) setIntercept(f func(r *http.Request, next aws.HTTPClient) (*http.Response, error, bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.intercept = f
}

// requests returns the requests seen for op ("" for all) and forgets all.
func (h *testHTTP) take(op string) []seenRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []seenRequest
	for _, s := range h.seen {
		if op == "" || s.Op == op {
			out = append(out, s)
		}
	}
	h.seen = nil
	return out
}

// opOf names the S3 operation of a path-style request.
func opOf(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("x-id"); id != "" {
		return id
	}
	switch {
	case q.Has("list-type"):
		return "ListObjectsV2"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodHead:
		return "HeadObject"
	}
	return r.Method
}

// keyOf returns the object key of a path-style request (/bucket/key).
func keyOf(r *http.Request) string {
	p := r.URL.Path
	if len(p) > 0 {
		p = p[1:]
	}
	for i := range len(p) {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return ""
}

// cutBody delivers n bytes of a response body and then fails with err,
// as a connection that breaks mid-transfer does.
type cutBody struct {
	rc     io.ReadCloser
	left   int64
	err    error
	onCut  func()
	cutted bool
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		if !c.cutted && c.onCut != nil {
			c.onCut()
		}
		c.cutted = true
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.rc.Close() }

// stallBody delivers n bytes of a response body and then blocks until its
// request is cancelled, as a connection that goes silent does.
type stallBody struct {
	rc   io.ReadCloser
	left int64
	ctx  context.Context
}

func (s *stallBody) Read(p []byte) (int, error) {
	if s.left <= 0 {
		<-s.ctx.Done()
		return 0, s.ctx.Err()
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.rc.Read(p)
	s.left -= int64(n)
	return n, err
}

func (s *stallBody) Close() error { return s.rc.Close() }

func errConnReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// s3Env is a running server and a client of the code under test for it.
type s3Env struct {
	srv    *s3test.Server
	plain  *s3.Client // the SDK without our code, to set up and inspect
	client *S3Client
	http   *testHTTP
	bucket string
}

// newS3Env builds a client for srv (with a recording testHTTP) after mod
// adjusts its config, and a fresh bucket.
func newS3Env(t testing.TB, srv *s3test.Server, bucket string, mod func(*S3Config)) *s3Env {
	t.Helper()
	srv.CreateBucket(t, bucket)
	e := &s3Env{srv: srv, plain: srv.Client(), bucket: bucket, http: &testHTTP{}}
	e.client = newTestS3Client(t, srv, e.http, mod)
	return e
}

func newTestS3Client(t testing.TB, srv *s3test.Server, h *testHTTP, mod func(*S3Config)) *S3Client {
	t.Helper()
	cfg := S3Config{
		Region:      srv.Region,
		EndpointURL: srv.Endpoint,
		PathStyle:   true,
		Credentials: srv.Credentials(),
		CACertsPEM:  srv.CAPEM,
		MaxBackoff:  50 * time.Millisecond, // keep retry tests fast
		WrapHTTPClient: func(next aws.HTTPClient) aws.HTTPClient {
			h.next = next
			return h
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewS3Client(context.Background(), cfg)
	require.NoError(t, err)
	return c
}

// put stores an object with the plain client and returns its ETag.
func (e *s3Env) put(t testing.TB, key string, body []byte) string {
	t.Helper()
	out, err := e.plain.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	require.NoError(t, err)
	return aws.ToString(out.ETag)
}

// exists reports whether key is visible, with the plain client.
func (e *s3Env) exists(t testing.TB, key string) bool {
	t.Helper()
	_, err := e.plain.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	var nf interface{ ErrorCode() string }
	require.True(t, errors.As(err, &nf), "HeadObject %s: %v", key, err)
	require.Contains(t, []string{"NotFound", "NoSuchKey"}, nf.ErrorCode(), "HeadObject %s: %v", key, err)
	return false
}

// pendingUploads returns the keys of incomplete multipart uploads.
func (e *s3Env) pendingUploads(t testing.TB) []string {
	t.Helper()
	out, err := e.plain.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(e.bucket)})
	require.NoError(t, err)
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readAllSum reads rc to the end and returns the bytes' SHA-256 and count.
func readAllSum(t testing.TB, rc io.ReadCloser) ([32]byte, int64) {
	t.Helper()
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	require.NoError(t, err)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}
