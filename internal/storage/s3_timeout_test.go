package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"convert/internal/s3test"
)

// opRequest is a request of the S3 operation op, as the SDK sends it (the
// operation name in its context), with body.
func opRequest(ctx context.Context, op string, body io.Reader) *http.Request {
	r, _ := http.NewRequestWithContext(awsmiddleware.SetOperationName(ctx, op), http.MethodPut, "http://127.0.0.1/b/k", body)
	return r
}

// TestTimeoutClient checks the per-attempt rules without a server: a request
// without a data body must be answered within RequestTimeout; an upload must
// keep taking bytes, however long it takes in all; the caller's own
// cancellation is not turned into a (retried) timeout.
func TestTimeoutClient(t *testing.T) {
	const limit = 200 * time.Millisecond
	answer := func(r *http.Request) *http.Response {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: r}
	}
	// hang waits for the attempt's end.
	hang := doFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	c := &timeoutClient{next: hang, request: limit, stall: limit}

	t.Run("metadata", func(t *testing.T) {
		_, err := c.Do(opRequest(context.Background(), "ListObjectsV2", nil))
		var te *attemptTimeoutError
		require.ErrorAs(t, err, &te)
		require.ErrorContains(t, err, "S3 ListObjectsV2: no answer within 200ms")
		require.True(t, retry.RetryableConnectionError{}.IsErrorRetryable(err).Bool(), "retried")

		// The limit covers the answer's body, read after Do returns.
		body := doFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Request: r, Body: &stallBody{rc: io.NopCloser(strings.NewReader("<a>")), left: 1, ctx: r.Context()}}, nil
		})
		resp, err := (&timeoutClient{next: body, request: limit}).Do(opRequest(context.Background(), "HeadObject", nil))
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		require.ErrorAs(t, err, &te)
		require.NoError(t, resp.Body.Close())

		// A longer limit given for one call.
		start := time.Now()
		_, err = c.Do(opRequest(withRequestTimeout(context.Background(), 2*limit), "CompleteMultipartUpload", nil))
		require.ErrorContains(t, err, "no answer within 400ms")
		require.GreaterOrEqual(t, time.Since(start), 2*limit)
	})

	t.Run("stalled upload", func(t *testing.T) {
		// The transport takes 1 KiB, then nothing.
		taken := doFunc(func(r *http.Request) (*http.Response, error) {
			if _, err := io.ReadFull(r.Body, make([]byte, 1024)); err != nil {
				return nil, err
			}
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		_, err := (&timeoutClient{next: taken, stall: limit}).Do(opRequest(context.Background(), "UploadPart", bytes.NewReader(make([]byte, 1<<20))))
		var te *attemptTimeoutError
		require.ErrorAs(t, err, &te)
		require.ErrorContains(t, err, "S3 UploadPart: no progress sending the body for 200ms")
	})

	t.Run("slow upload", func(t *testing.T) {
		// A byte every quarter of the limit, for three limits: slow, never
		// stalled.
		trickle := doFunc(func(r *http.Request) (*http.Response, error) {
			b := make([]byte, 1)
			for {
				if _, err := r.Body.Read(b); err == io.EOF {
					return answer(r), nil
				} else if err != nil {
					return nil, err
				}
				select {
				case <-time.After(limit / 4):
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
		})
		resp, err := (&timeoutClient{next: trickle, request: limit, stall: limit}).Do(opRequest(context.Background(), "PutObject", bytes.NewReader(make([]byte, 12))))
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	})

	t.Run("caller cancels", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(limit/4, cancel)
		_, err := c.Do(opRequest(ctx, "ListObjectsV2", nil))
		require.ErrorIs(t, err, context.Canceled)
		var te *attemptTimeoutError
		require.False(t, errors.As(err, &te))
	})

	t.Run("GetObject", func(t *testing.T) {
		// Not bounded here: the transport bounds its headers, s3Reader its
		// body.
		var seen context.Context
		pass := doFunc(func(r *http.Request) (*http.Response, error) { seen = r.Context(); return answer(r), nil })
		_, err := (&timeoutClient{next: pass, request: limit, stall: limit}).Do(opRequest(context.Background(), "GetObject", nil))
		require.NoError(t, err)
		_, hasDeadline := seen.Deadline()
		require.False(t, hasDeadline)
	})
}

// TestS3Backoff checks the waits between attempts: at least half of
// 500 ms·2^(n-1) (1 s·2^(n-1) after throttling), at most all of it, capped.
func TestS3Backoff(t *testing.T) {
	b := s3Backoff{max: 20 * time.Second, throttle: retry.IsErrorThrottles(retry.DefaultThrottles)}
	slowDown := &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}
	for range 200 {
		for attempt, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 4: 4 * time.Second, 9: 20 * time.Second} {
			d, err := b.BackoffDelay(attempt, errConnReset())
			require.NoError(t, err)
			require.True(t, d >= want/2 && d <= want, "attempt %d: %v", attempt, d)
		}
		d, err := b.BackoffDelay(1, slowDown)
		require.NoError(t, err)
		require.True(t, d >= 500*time.Millisecond && d <= time.Second, "throttled: %v", d)
	}
}

func s3PutInput(bucket, key string, body []byte) *s3.PutObjectInput {
	return &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
}

func s3ListUploadsInput(bucket string) *s3.ListMultipartUploadsInput {
	return &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}
}

// blipBound bounds an operation whose first attempt is lost: about 10 s with
// the default timeouts, 60 s and more before them (the transport's old
// response-header timeout; an upload that stopped taking its body waited
// for ever). Three times what it takes, for a loaded machine.
const blipBound = 30 * time.Second

// TestS3HangingServer checks, with the default timeouts, that a request to a
// server that accepts the connection and never answers is retried within
// seconds, for each kind of request: a listing, a read, a small and a
// multipart upload, a part upload that stops taking its body, a completion.
func TestS3HangingServer(t *testing.T) {
	srv := s3test.Start(t, false)
	srv.CreateBucket(t, "hang")
	body := randomBytes(6<<20, 31)
	plain := srv.Client()
	_, err := plain.PutObject(context.Background(), s3PutInput("hang", "in/obj", body))
	require.NoError(t, err)

	// client is a client with the default timeouts through a proxy whose
	// next connection hangs.
	client := func(t *testing.T, h *testHTTP) (*S3Client, *s3test.Proxy) {
		p := s3test.StartProxy(t, srv)
		c := newTestS3Client(t, srv, h, func(c *S3Config) {
			c.EndpointURL = p.Endpoint
			c.MaxBackoff = 0 // the default
			c.PartSize = MinS3PartSize
		})
		return c, p
	}
	timed := func(t *testing.T, f func() error) {
		t.Helper()
		start := time.Now()
		require.NoError(t, f())
		require.Less(t, time.Since(start), blipBound)
	}
	write := func(c *S3Client, rel string, data []byte) error {
		f, err := (&S3Sink{Client: c, Bucket: "hang", Prefix: "out"}).Create(context.Background(), rel)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Abort()
			return err
		}
		return f.Commit()
	}
	checkOut := func(t *testing.T, rel string, data []byte) {
		t.Helper()
		rc, err := (&S3Sink{Client: newTestS3Client(t, srv, &testHTTP{}, nil), Bucket: "hang", Prefix: "out"}).Open(context.Background(), rel)
		require.NoError(t, err)
		sum, n := readAllSum(t, rc)
		require.Equal(t, int64(len(data)), n)
		require.Equal(t, sha256.Sum256(data), sum)
	}

	// The cases wait for timeouts, not for the CPU: all run at once,
	// whatever -parallel says.
	var wg sync.WaitGroup
	defer wg.Wait()
	goRun := func(name string, f func(t *testing.T)) {
		wg.Add(1)
		go func() { defer wg.Done(); t.Run(name, f) }()
	}
	goRun("list", func(t *testing.T) {
		c, p := client(t, &testHTTP{})
		p.HangNext(1)
		var keys []string
		timed(t, func() error {
			return (&S3Source{Client: c, Bucket: "hang", Prefix: "in"}).List(context.Background(), func(o Object) error {
				keys = append(keys, o.Key)
				return nil
			})
		})
		require.Equal(t, []string{"in/obj"}, keys)
		require.Equal(t, 1, p.Held())
	})
	goRun("get", func(t *testing.T) {
		c, p := client(t, &testHTTP{})
		p.HangNext(1)
		timed(t, func() error {
			rc, err := (&S3Source{Client: c, Bucket: "hang"}).Open(context.Background(), Object{Key: "in/obj"})
			if err != nil {
				return err
			}
			sum, n := readAllSum(t, rc)
			if n != int64(len(body)) || sum != sha256.Sum256(body) {
				return fmt.Errorf("read %d bytes, not the object", n)
			}
			return nil
		})
		require.Equal(t, 1, p.Held())
	})
	goRun("put", func(t *testing.T) {
		c, p := client(t, &testHTTP{})
		p.HangNext(1)
		timed(t, func() error { return write(c, "small", []byte("small")) })
		require.Equal(t, 1, p.Held())
		checkOut(t, "small", []byte("small"))
	})
	goRun("multipart", func(t *testing.T) {
		c, p := client(t, &testHTTP{})
		p.HangNext(1) // the CreateMultipartUpload
		timed(t, func() error { return write(c, "multipart", body) })
		require.Equal(t, 1, p.Held())
		checkOut(t, "multipart", body)
	})
	goRun("part stops", func(t *testing.T) {
		h := &testHTTP{}
		var tries atomic.Int32
		h.setIntercept(func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
			if opOf(r) != "UploadPart" || r.URL.Query().Get("partNumber") != "1" || tries.Add(1) > 1 {
				return nil, nil, false
			}
			// Take 64 KiB of the first part's body, then nothing.
			_, _ = io.ReadFull(r.Body, make([]byte, 64<<10))
			<-r.Context().Done()
			return nil, r.Context().Err(), true
		})
		c, _ := client(t, h)
		timed(t, func() error { return write(c, "stalled", body) })
		require.Equal(t, int32(2), tries.Load(), "the stalled part is sent again")
		checkOut(t, "stalled", body)
	})
	goRun("complete", func(t *testing.T) {
		h := &testHTTP{}
		var once sync.Once
		h.setIntercept(func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
			hung := false
			if opOf(r) == "CompleteMultipartUpload" {
				once.Do(func() { hung = true })
			}
			if !hung {
				return nil, nil, false
			}
			<-r.Context().Done()
			return nil, r.Context().Err(), true
		})
		c, _ := client(t, h)
		timed(t, func() error { return write(c, "completed", body) })
		require.Len(t, h.take("CompleteMultipartUpload"), 2)
		checkOut(t, "completed", body)
	})
}

// TestS3ServerRestart converts objects (list, read, multipart write, commit)
// again and again, with the default retry settings, while the server is
// killed and started again 1.5 s later: every step succeeds and every output
// is whole.
func TestS3ServerRestart(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel() // a server each
			srv := s3test.Start(t, scheme == "https")
			srv.CreateBucket(t, "restart")
			plain := srv.Client()
			inputs := map[string][]byte{}
			for i := range 4 {
				key := fmt.Sprintf("in/%d.log", i)
				inputs[key] = randomBytes(3<<20+i, uint64(40+i))
				_, err := plain.PutObject(context.Background(), s3PutInput("restart", key, inputs[key]))
				require.NoError(t, err)
			}
			h := &testHTTP{}
			c := newTestS3Client(t, srv, h, func(c *S3Config) {
				c.MaxBackoff = 0 // the default
				c.PartSize = MinS3PartSize
			})
			src := &S3Source{Client: c, Bucket: "restart", Prefix: "in"}
			sink := &S3Sink{Client: c, Bucket: "restart", Prefix: "out"}

			// convert copies each input twice over into one output file
			// (two parts).
			convert := func(round int) error {
				var objs []Object
				if err := src.List(context.Background(), func(o Object) error { objs = append(objs, o); return nil }); err != nil {
					return err
				}
				if len(objs) != len(inputs) {
					return fmt.Errorf("listed %d objects", len(objs))
				}
				for _, o := range objs {
					f, err := sink.Create(context.Background(), fmt.Sprintf("%d/%s", round, o.Key))
					if err != nil {
						return err
					}
					for range 2 {
						rc, err := src.Open(context.Background(), o)
						if err == nil {
							_, err = io.Copy(f, rc)
							rc.Close()
						}
						if err != nil {
							f.Abort()
							return err
						}
					}
					if err := f.Commit(); err != nil {
						return err
					}
				}
				return nil
			}

			restarted := make(chan error, 1)
			var started atomic.Bool
			h.setIntercept(func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
				// The server goes down while the first round uploads.
				if opOf(r) == "UploadPart" && started.CompareAndSwap(false, true) {
					go func() { restarted <- srv.Restart(1500 * time.Millisecond) }()
				}
				return nil, nil, false
			})
			done := false
			for round := 0; !done; round++ {
				require.NoError(t, convert(round), "round %d", round)
				select {
				case err := <-restarted:
					require.NoError(t, err)
					require.NoError(t, convert(round+1), "after the restart")
					done = true
				default:
					require.Less(t, round, 100, "the restart never ended")
				}
			}
			var outs []Object
			require.NoError(t, sink.List(context.Background(), "", func(o Object) error { outs = append(outs, o); return nil }))
			for _, o := range outs {
				in := inputs[o.Key[strings.Index(o.Key, "/")+1:]]
				rc, err := sink.Open(context.Background(), o.Key)
				require.NoError(t, err)
				sum, n := readAllSum(t, rc)
				require.Equal(t, int64(2*len(in)), n, o.Key)
				require.Equal(t, sha256.Sum256(append(append([]byte(nil), in...), in...)), sum, o.Key)
			}
			require.GreaterOrEqual(t, len(outs), 2*len(inputs))
			ups, err := plain.ListMultipartUploads(context.Background(), s3ListUploadsInput("restart"))
			require.NoError(t, err)
			require.Empty(t, ups.Uploads, "no upload left open")
		})
	}
}
