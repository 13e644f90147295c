package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"convert/internal/s3test"
)

// TestS3 runs the S3 source and sink against versitygw, over http and over
// https (where the SDK sends aws-chunked bodies with trailing checksums).
func TestS3(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel() // a server each
			srv := s3test.Start(t, scheme == "https")
			t.Run("ListPages", func(t *testing.T) { testS3ListPages(t, srv) })
			t.Run("HiddenKeys", func(t *testing.T) { testS3HiddenKeys(t, srv) })
			t.Run("OpenResumes", func(t *testing.T) { testS3OpenResumes(t, srv) })
			t.Run("ResumeLimit", func(t *testing.T) { testS3ResumeLimit(t, srv) })
			t.Run("StalledBody", func(t *testing.T) { testS3StalledBody(t, srv) })
			t.Run("ReadRange", func(t *testing.T) { testS3ReadRange(t, srv) })
			t.Run("ChangedObject", func(t *testing.T) { testS3ChangedObject(t, srv) })
			t.Run("Multipart", func(t *testing.T) { testS3Multipart(t, srv, scheme) })
			t.Run("SmallAndEmpty", func(t *testing.T) { testS3SmallAndEmpty(t, srv) })
			t.Run("Seal", func(t *testing.T) { testS3Seal(t, srv) })
			t.Run("Abort", func(t *testing.T) { testS3Abort(t, srv) })
			t.Run("FailedPart", func(t *testing.T) { testS3FailedPart(t, srv) })
			t.Run("FailedComplete", func(t *testing.T) { testS3FailedComplete(t, srv) })
			t.Run("LostCreateResponses", func(t *testing.T) { testS3LostCreateResponses(t, srv) })
			t.Run("SinkListOpenRemove", func(t *testing.T) { testS3SinkListOpenRemove(t, srv) })
			t.Run("Throttling", func(t *testing.T) { testS3Throttling(t, srv) })
			t.Run("OwnerAndSSEHeaders", func(t *testing.T) { testS3OwnerAndSSEHeaders(t, srv) })
		})
	}
}

const nListObjects = 1234 // more than one ListObjectsV2 page of 1000

func testS3ListPages(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "list", nil)
	want := map[string]Object{}
	var keys []string
	for i := range nListObjects {
		keys = append(keys, fmt.Sprintf("in/%04d/obj-%d.log", i%37, i))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	var mu sync.Mutex
	var wg sync.WaitGroup
	var putErr error
	slots := make(chan struct{}, 16)
	for i, k := range keys {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			body := []byte(strings.Repeat("x", i%50))
			out, err := e.plain.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(e.bucket), Key: aws.String(k), Body: bytes.NewReader(body),
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				putErr = err
				return
			}
			want[k] = Object{Key: k, Size: int64(len(body)), ETag: aws.ToString(out.ETag)}
		}()
	}
	wg.Wait()
	require.NoError(t, putErr)
	// Outside the input, or not objects: never listed.
	e.put(t, "in-old/x.log", []byte("no"))
	e.put(t, "other/y.log", []byte("no"))
	e.put(t, "in/0001/", nil) // a folder marker
	e.http.take("")

	var got []Object
	src := &S3Source{Client: e.client, Bucket: "list", Prefix: "in"}
	require.Equal(t, "s3://list/in", src.String())
	require.NoError(t, src.List(context.Background(), func(o Object) error {
		got = append(got, o)
		return nil
	}))
	slices.Sort(keys)
	require.Len(t, got, nListObjects)
	for i, o := range got {
		require.Equal(t, keys[i], o.Key, "position %d", i)
		w := want[o.Key]
		require.Equal(t, w.Size, o.Size, o.Key)
		require.Equal(t, w.ETag, o.ETag, o.Key)
		require.WithinDuration(t, time.Now(), o.ModTime, 10*time.Minute, o.Key)
	}
	lists := e.http.take("ListObjectsV2")
	require.GreaterOrEqual(t, len(lists), 2, "paged")
	require.Empty(t, lists[0].Query["continuation-token"])
	require.NotEmpty(t, lists[1].Query["continuation-token"])

	// Day prefixes: only those are listed, in order, each key once.
	src.Prefixes = []string{"in/0005/", "in/0001/", "in/0001/obj-1"}
	var dayKeys []string
	require.NoError(t, src.List(context.Background(), func(o Object) error {
		dayKeys = append(dayKeys, o.Key)
		return nil
	}))
	var wantDay []string
	for _, k := range keys {
		if strings.HasPrefix(k, "in/0001/") || strings.HasPrefix(k, "in/0005/") {
			wantDay = append(wantDay, k)
		}
	}
	require.Equal(t, wantDay, dayKeys)
	lists = e.http.take("ListObjectsV2")
	require.Len(t, lists, 2)
	require.Equal(t, []string{"in/0001/"}, lists[0].Query["prefix"])
	require.Equal(t, []string{"in/0005/"}, lists[1].Query["prefix"])

	// Exclusions, a single object, and an error from fn stop the listing.
	src = &S3Source{Client: e.client, Bucket: "list", Prefix: "in/", Exclude: []string{"in/0000", "in/0002/"}}
	n := 0
	require.NoError(t, src.List(context.Background(), func(o Object) error {
		require.False(t, strings.HasPrefix(o.Key, "in/0000/") || strings.HasPrefix(o.Key, "in/0002/"), o.Key)
		n++
		return nil
	}))
	require.Equal(t, nListObjects-34-34, n) // 0000 and 0002 hold 34 keys each
	src = &S3Source{Client: e.client, Bucket: "list", Prefix: "in/0003/obj-3.log"}
	var one []string
	require.NoError(t, src.List(context.Background(), func(o Object) error { one = append(one, o.Key); return nil }))
	require.Equal(t, []string{"in/0003/obj-3.log"}, one)
	// Directory levels, for building day prefixes without a full listing.
	src = &S3Source{Client: e.client, Bucket: "list", Prefix: "in"}
	dirs, err := src.Dirs(context.Background(), "in/")
	require.NoError(t, err)
	require.Len(t, dirs, 37)
	require.Equal(t, "in/0000/", dirs[0])
	require.Equal(t, "in/0036/", dirs[36])
	_, err = src.Dirs(context.Background(), "other/")
	require.ErrorContains(t, err, "outside the input")

	stop := fmt.Errorf("stop")
	require.ErrorIs(t, (&S3Source{Client: e.client, Bucket: "list"}).List(context.Background(), func(Object) error { return stop }), stop)
}

// testS3HiddenKeys checks that S3Source skips the keys LocalSource skips:
// the same tree, on disk and in a bucket, lists the same objects.
func testS3HiddenKeys(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "hidden", nil)
	root := t.TempDir()
	for _, rel := range []string{
		"in/a.log", "in/.a.log.swp", "in/.staging/b.log", "in/2024/.tmp-c.log",
		"in/2024/05/d.log.gz", "in/2024/05/.e/f.log", "in/g.h/i.log", ".top.log", "top.log",
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(rel), 0o644))
	}
	srv.Upload(t, e.bucket, root)
	want := []string{"in/2024/05/d.log.gz", "in/a.log", "in/g.h/i.log"}

	for _, prefix := range []string{"in", "in/"} {
		var local []string
		require.NoError(t, (&LocalSource{Root: filepath.Join(root, "in")}).List(context.Background(), func(o Object) error {
			rel, err := filepath.Rel(root, filepath.FromSlash(o.Key))
			require.NoError(t, err)
			local = append(local, filepath.ToSlash(rel))
			return nil
		}))
		require.Equal(t, want, local, "local")
		var remote []string
		src := &S3Source{Client: e.client, Bucket: e.bucket, Prefix: prefix}
		require.NoError(t, src.List(context.Background(), func(o Object) error { remote = append(remote, o.Key); return nil }))
		require.Equal(t, want, remote, "S3 with prefix %q", prefix)
		dirs, err := src.Dirs(context.Background(), "in/")
		require.NoError(t, err)
		require.Equal(t, []string{"in/2024/", "in/g.h/"}, dirs)
	}
	// The whole bucket, and day prefixes below a hidden directory.
	var all []string
	require.NoError(t, (&S3Source{Client: e.client, Bucket: e.bucket}).List(context.Background(), func(o Object) error {
		all = append(all, o.Key)
		return nil
	}))
	require.Equal(t, append(slices.Clone(want), "top.log"), all)
	src := &S3Source{Client: e.client, Bucket: e.bucket, Prefix: "in", Prefixes: []string{"in/2024/05/"}}
	var day []string
	require.NoError(t, src.List(context.Background(), func(o Object) error { day = append(day, o.Key); return nil }))
	require.Equal(t, []string{"in/2024/05/d.log.gz"}, day)
	// A hidden object named as the input itself is read, as a local file is.
	var named []string
	require.NoError(t, (&S3Source{Client: e.client, Bucket: e.bucket, Prefix: "in/.a.log.swp"}).List(context.Background(),
		func(o Object) error { named = append(named, o.Key); return nil }))
	require.Equal(t, []string{"in/.a.log.swp"}, named)
}

// getCutter cuts the bodies of the first len(cuts) GetObject responses for
// key after cuts[i] bytes, with errs[i].
func getCutter(key string, cuts []int64, errs []error, onCut func(i int)) func(*http.Request, aws.HTTPClient) (*http.Response, error, bool) {
	var mu sync.Mutex
	n := 0
	return func(r *http.Request, next aws.HTTPClient) (*http.Response, error, bool) {
		if opOf(r) != "GetObject" || keyOf(r) != key {
			return nil, nil, false
		}
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i >= len(cuts) {
			return nil, nil, false
		}
		resp, err := next.Do(r)
		if err != nil || resp.StatusCode/100 != 2 {
			return resp, err, true
		}
		cb := &cutBody{rc: resp.Body, left: cuts[i], err: errs[i]}
		if onCut != nil {
			cb.onCut = func() { onCut(i) }
		}
		resp.Body = cb
		return resp, nil, true
	}
}

func testS3OpenResumes(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "resume", nil)
	body := randomBytes(3<<20+17, 7)
	etag := e.put(t, "in/big.log", body)
	src := &S3Source{Client: e.client, Bucket: "resume", Prefix: "in/"}
	var obj Object
	require.NoError(t, src.List(context.Background(), func(o Object) error { obj = o; return nil }))
	require.Equal(t, etag, obj.ETag)

	cut1, cut2 := int64(1<<20+7), int64(1<<20)
	e.http.setIntercept(getCutter("in/big.log", []int64{cut1, cut2}, []error{errConnReset(), io.ErrUnexpectedEOF}, nil))
	e.http.take("")
	rc, err := src.Open(context.Background(), obj)
	require.NoError(t, err)
	sum, n := readAllSum(t, rc)
	require.Equal(t, int64(len(body)), n)
	require.Equal(t, sha256.Sum256(body), sum, "the resumed stream delivers the exact bytes")

	gets := e.http.take("GetObject")
	require.Len(t, gets, 3)
	require.Equal(t, "", gets[0].Header.Get("Range"))
	require.Equal(t, "bytes="+strconv.FormatInt(cut1, 10)+"-", gets[1].Header.Get("Range"))
	require.Equal(t, "bytes="+strconv.FormatInt(cut1+cut2, 10)+"-", gets[2].Header.Get("Range"))
	for _, g := range gets {
		require.Equal(t, etag, g.Header.Get("If-Match"))
	}

	// Reading after Close fails; Close twice is fine.
	rc, err = src.Open(context.Background(), obj)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.NoError(t, rc.Close())
	_, err = rc.Read(make([]byte, 1))
	require.Error(t, err)
}

func testS3ResumeLimit(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "resumelimit", func(c *S3Config) { c.MaxResumes = 2 })
	body := randomBytes(1<<20, 8)
	e.put(t, "k", body)
	cuts := []int64{1000, 1000, 1000, 1000}
	errs := []error{io.ErrUnexpectedEOF, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF}
	e.http.setIntercept(getCutter("k", cuts, errs, nil))
	sink := &S3Sink{Client: e.client, Bucket: "resumelimit"}
	rc, err := sink.Open(context.Background(), "k")
	require.NoError(t, err)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, "reading s3://resumelimit/k at byte 3000 (2 resumes)")
	require.Equal(t, body[:3000], got)
	require.Len(t, e.http.take("GetObject"), 3)
}

func testS3StalledBody(t *testing.T, srv *s3test.Server) {
	const timeout = 200 * time.Millisecond
	e := newS3Env(t, srv, "stall", func(c *S3Config) { c.StallTimeout = timeout })
	body := randomBytes(2<<20, 19)
	e.put(t, "k", body)
	var mu sync.Mutex
	stalled := 0
	e.http.setIntercept(func(r *http.Request, next aws.HTTPClient) (*http.Response, error, bool) {
		if opOf(r) != "GetObject" {
			return nil, nil, false
		}
		mu.Lock()
		first := stalled == 0
		stalled++
		mu.Unlock()
		if !first {
			return nil, nil, false
		}
		resp, err := next.Do(r)
		if err == nil {
			resp.Body = &stallBody{rc: resp.Body, left: 1 << 20, ctx: r.Context()}
		}
		return resp, err, true
	})
	start := time.Now()
	rc, err := (&S3Sink{Client: e.client, Bucket: "stall"}).Open(context.Background(), "k")
	require.NoError(t, err)
	sum, n := readAllSum(t, rc)
	require.Equal(t, int64(len(body)), n)
	require.Equal(t, sha256.Sum256(body), sum)
	require.Less(t, time.Since(start), 10*timeout)
	gets := e.http.take("GetObject")
	require.Len(t, gets, 2)
	require.Equal(t, "bytes=1048576-", gets[1].Header.Get("Range"))
}

// testS3ReadRange checks ranged reads of a committed object, and that one
// whose body breaks or stalls is resumed within its range.
func testS3ReadRange(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "readrange", func(c *S3Config) { c.StallTimeout = 200 * time.Millisecond })
	body := randomBytes(1<<20, 23)
	e.put(t, "out/k", body)
	sink := &S3Sink{Client: e.client, Bucket: "readrange", Prefix: "out"}
	for _, r := range [][2]int64{{0, 4}, {int64(len(body)) - 8, 8}, {1000, 300_000}} {
		got, err := sink.ReadRange(context.Background(), "k", r[0], r[1])
		require.NoError(t, err)
		require.Equal(t, body[r[0]:r[0]+r[1]], got)
	}
	gets := e.http.take("GetObject")
	require.Len(t, gets, 3)
	require.Equal(t, "bytes=1000-300999", gets[2].Header.Get("Range"))

	e.http.setIntercept(getCutter("out/k", []int64{5000}, []error{errConnReset()}, nil))
	got, err := sink.ReadRange(context.Background(), "k", 1000, 300_000)
	require.NoError(t, err)
	require.Equal(t, body[1000:301_000], got)
	gets = e.http.take("GetObject")
	require.Len(t, gets, 2)
	require.Equal(t, "bytes=6000-300999", gets[1].Header.Get("Range"), "resumed within the range")
	require.Equal(t, gets[0].Header.Get("If-Match"), "")
	require.NotEmpty(t, gets[1].Header.Get("If-Match"), "pinned to the first answer's ETag")

	var once sync.Once
	e.http.setIntercept(func(r *http.Request, next aws.HTTPClient) (*http.Response, error, bool) {
		stall := false
		once.Do(func() { stall = true })
		if !stall {
			return nil, nil, false
		}
		resp, err := next.Do(r)
		if err == nil {
			resp.Body = &stallBody{rc: resp.Body, left: 100, ctx: r.Context()}
		}
		return resp, err, true
	})
	got, err = sink.ReadRange(context.Background(), "k", 1000, 300_000)
	require.NoError(t, err)
	require.Equal(t, body[1000:301_000], got)
	gets = e.http.take("GetObject")
	require.Len(t, gets, 2)
	require.Equal(t, "bytes=1100-300999", gets[1].Header.Get("Range"))

	e.http.setIntercept(nil)
	_, err = sink.ReadRange(context.Background(), "k", int64(len(body))-4, 8)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "past the end")
	_, err = sink.ReadRange(context.Background(), "missing", 0, 4)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func testS3ChangedObject(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "changed", nil)
	e.put(t, "k", randomBytes(1<<20, 9))
	src := &S3Source{Client: e.client, Bucket: "changed"}
	var obj Object
	require.NoError(t, src.List(context.Background(), func(o Object) error { obj = o; return nil }))

	// Overwritten while being read: the resume must not splice two versions.
	e.http.setIntercept(getCutter("k", []int64{4096}, []error{errConnReset()}, func(int) {
		e.put(t, "k", randomBytes(1<<20, 10))
	}))
	rc, err := src.Open(context.Background(), obj)
	require.NoError(t, err)
	_, err = io.ReadAll(rc)
	rc.Close()
	require.ErrorIs(t, err, ErrObjectChanged)
	require.ErrorContains(t, err, "while it was read (at byte 4096)")

	// Overwritten since it was listed.
	e.http.setIntercept(nil)
	_, err = src.Open(context.Background(), obj)
	require.ErrorIs(t, err, ErrObjectChanged)
	require.ErrorContains(t, err, "since it was listed")

	// Missing.
	_, err = src.Open(context.Background(), Object{Key: "missing"})
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorContains(t, err, "reading s3://changed/missing at endpoint "+srv.Endpoint)
}

// writeChunks writes body to w in chunks of odd sizes.
func writeChunks(t testing.TB, w io.Writer, body []byte) error {
	t.Helper()
	for off := 0; off < len(body); {
		n := min(100_003, len(body)-off)
		k, err := w.Write(body[off : off+n])
		off += k
		if err != nil {
			return err
		}
		require.Equal(t, n, k)
	}
	return nil
}

func testS3Multipart(t *testing.T, srv *s3test.Server, scheme string) {
	e := newS3Env(t, srv, "multipart", func(c *S3Config) { c.PartSize = MinS3PartSize; c.Concurrency = 2 })
	sink := &S3Sink{Client: e.client, Bucket: "multipart", Prefix: "out"}
	require.Equal(t, "s3://multipart/out", sink.String())
	body := randomBytes(13<<20+123, 11)
	f, err := sink.Create(context.Background(), "date=2024-05-01/part-0.parquet")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, body))

	const key = "out/date=2024-05-01/part-0.parquet"
	require.False(t, e.exists(t, key), "invisible before Commit")
	require.Equal(t, []string{key}, e.pendingUploads(t))
	require.NoError(t, f.Commit())
	require.True(t, e.exists(t, key))
	require.Empty(t, e.pendingUploads(t))
	require.ErrorIs(t, f.Commit(), errFileFinished)
	require.NoError(t, f.Abort(), "Abort after Commit is a no-op")
	require.True(t, e.exists(t, key))

	parts := e.http.take("UploadPart")
	require.Len(t, parts, 3)
	for _, p := range parts {
		if scheme == "https" {
			require.Equal(t, "x-amz-checksum-crc32", p.Header.Get("X-Amz-Trailer"), "aws-chunked trailer over https")
		} else {
			require.NotEmpty(t, p.Header.Get("X-Amz-Checksum-Crc32"), "checksum header over http")
		}
	}
	rc, err := sink.Open(context.Background(), "date=2024-05-01/part-0.parquet")
	require.NoError(t, err)
	sum, n := readAllSum(t, rc)
	require.Equal(t, int64(len(body)), n)
	require.Equal(t, sha256.Sum256(body), sum, "read back byte-identical")
}

func testS3SmallAndEmpty(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "small", nil)
	sink := &S3Sink{Client: e.client, Bucket: "small", Prefix: "out/"}
	f, err := sink.Create(context.Background(), "a.json")
	require.NoError(t, err)
	_, err = f.Write([]byte(`{"small":true}`))
	require.NoError(t, err)
	require.Empty(t, e.http.take(""), "nothing is sent before Commit")
	require.False(t, e.exists(t, "out/a.json"))
	require.NoError(t, f.Commit())
	require.Equal(t, []string{"PutObject"}, opsOf(e.http.take("")))
	rc, err := sink.Open(context.Background(), "a.json")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, `{"small":true}`, string(got))

	f, err = sink.Create(context.Background(), "empty")
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	var objs []Object
	require.NoError(t, sink.List(context.Background(), "", func(o Object) error { objs = append(objs, o); return nil }))
	require.Len(t, objs, 2)
	require.Equal(t, "a.json", objs[0].Key)
	require.Equal(t, "empty", objs[1].Key)
	require.Equal(t, int64(0), objs[1].Size)
}

// A sealed multipart file sends its last part at once, so it holds no part
// buffer while it waits for Commit; a small sealed file still waits for Commit
// to become visible.
func testS3Seal(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "seal", func(c *S3Config) { c.PartSize = MinS3PartSize })
	sink := &S3Sink{Client: e.client, Bucket: "seal", Prefix: "out"}
	body := randomBytes(MinS3PartSize+1234, 5)
	f, err := sink.Create(context.Background(), "big")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, body))
	require.NoError(t, f.(Sealer).Seal())
	sf := f.(*s3File)
	require.Nil(t, sf.buf, "the last part is sent on Seal")
	_, err = f.Write([]byte("x"))
	require.ErrorIs(t, err, errFileFinished)
	require.False(t, e.exists(t, "out/big"), "invisible before Commit")
	require.NoError(t, f.Commit())
	require.Len(t, e.http.take("UploadPart"), 2)
	rc, err := sink.Open(context.Background(), "big")
	require.NoError(t, err)
	sum, n := readAllSum(t, rc)
	require.Equal(t, int64(len(body)), n)
	require.Equal(t, sha256.Sum256(body), sum)

	g, err := sink.Create(context.Background(), "small")
	require.NoError(t, err)
	_, err = g.Write([]byte("tiny"))
	require.NoError(t, err)
	require.NoError(t, g.(Sealer).Seal())
	require.False(t, e.exists(t, "out/small"))
	require.NoError(t, g.Commit())
	require.True(t, e.exists(t, "out/small"))
	require.Zero(t, e.client.held.Load())

	// Past the client's limit of held bytes, a sealed small file is sent
	// at once (one-part multipart upload) and only completed by Commit.
	e.client.heldLimit = 6
	e.http.take("")
	a, err := sink.Create(context.Background(), "held")
	require.NoError(t, err)
	_, _ = a.Write([]byte("12345"))
	require.NoError(t, a.(Sealer).Seal())
	require.Empty(t, e.http.take(""), "within the limit: held")
	b, err := sink.Create(context.Background(), "sent")
	require.NoError(t, err)
	_, _ = b.Write([]byte("67890"))
	require.NoError(t, b.(Sealer).Seal())
	require.Nil(t, b.(*s3File).buf)
	require.False(t, e.exists(t, "out/sent"), "invisible before Commit")
	require.NoError(t, b.Commit())
	require.NoError(t, a.Commit())
	require.Equal(t, []string{"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "PutObject"}, opsOf(e.http.take("")))
	require.Zero(t, e.client.held.Load())
	for key, want := range map[string]string{"held": "12345", "sent": "67890"} {
		rc, err := sink.Open(context.Background(), key)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		require.Equal(t, want, string(got))
	}

	// Abort gives the held bytes back too.
	c, err := sink.Create(context.Background(), "aborted")
	require.NoError(t, err)
	_, _ = c.Write([]byte("abc"))
	require.NoError(t, c.(Sealer).Seal())
	require.Equal(t, int64(3), e.client.held.Load())
	require.NoError(t, c.Abort())
	require.Zero(t, e.client.held.Load())
	require.False(t, e.exists(t, "out/aborted"))
}

func opsOf(reqs []seenRequest) []string {
	var ops []string
	for _, r := range reqs {
		ops = append(ops, r.Op)
	}
	return ops
}

func testS3Abort(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "abort", func(c *S3Config) { c.PartSize = MinS3PartSize })
	sink := &S3Sink{Client: e.client, Bucket: "abort"}
	f, err := sink.Create(context.Background(), "x.parquet")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(11<<20, 12)))
	require.Equal(t, []string{"x.parquet"}, e.pendingUploads(t))
	require.NoError(t, f.Abort())
	require.NoError(t, f.Abort())
	require.ErrorIs(t, f.Commit(), errFileFinished)
	_, err = f.Write([]byte("x"))
	require.ErrorIs(t, err, errFileFinished)
	require.False(t, e.exists(t, "x.parquet"))
	require.Empty(t, e.pendingUploads(t))
	require.Len(t, e.http.take("AbortMultipartUpload"), 1)

	// An abort that a late part survived (played by not sending the first
	// abort) is found by ListParts and repeated.
	var mu sync.Mutex
	skipped := false
	e.http.setIntercept(func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
		mu.Lock()
		defer mu.Unlock()
		if opOf(r) != "AbortMultipartUpload" || skipped {
			return nil, nil, false
		}
		skipped = true
		resp := xmlError(r, http.StatusNoContent, "", "")
		resp.Body, resp.ContentLength = http.NoBody, 0
		return resp, nil, true
	})
	f, err = sink.Create(context.Background(), "late.parquet")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(6<<20, 13)))
	require.NoError(t, f.Abort())
	require.Empty(t, e.pendingUploads(t))
	require.Equal(t, []string{"CreateMultipartUpload", "UploadPart", "AbortMultipartUpload", "ListParts", "AbortMultipartUpload", "ListParts"},
		opsOf(e.http.take("")))
	e.http.setIntercept(nil)

	// A small file that was never sent: Abort sends nothing.
	f, err = sink.Create(context.Background(), "y")
	require.NoError(t, err)
	_, err = f.Write([]byte("y"))
	require.NoError(t, err)
	require.NoError(t, f.Abort())
	require.Empty(t, e.http.take(""))
	require.False(t, e.exists(t, "y"))
}

// failPart fails every attempt to upload part number part with a reset
// connection, and counts them.
func failPart(part int, attempts *int) func(*http.Request, aws.HTTPClient) (*http.Response, error, bool) {
	var mu sync.Mutex
	return func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
		if opOf(r) != "UploadPart" || r.URL.Query().Get("partNumber") != strconv.Itoa(part) {
			return nil, nil, false
		}
		mu.Lock()
		*attempts++
		mu.Unlock()
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errConnReset(), true
	}
}

func testS3FailedPart(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "failpart", func(c *S3Config) { c.PartSize = MinS3PartSize; c.MaxAttempts = 3 })
	attempts := 0
	e.http.setIntercept(failPart(2, &attempts))
	sink := &S3Sink{Client: e.client, Bucket: "failpart"}
	f, err := sink.Create(context.Background(), "x.parquet")
	require.NoError(t, err)
	err = writeChunks(t, f, randomBytes(16<<20, 13))
	if err == nil {
		err = f.Commit()
	}
	require.ErrorContains(t, err, "uploading part 2 of s3://failpart/x.parquet at endpoint "+srv.Endpoint)
	require.ErrorContains(t, err, "connection reset")
	require.NoError(t, f.Abort())
	require.Equal(t, 3, attempts, "retried up to MaxAttempts")
	require.False(t, e.exists(t, "x.parquet"), "no partial object")
	require.Empty(t, e.pendingUploads(t), "no pending upload")
	require.Empty(t, e.http.take("CompleteMultipartUpload"))

	// The same failure on the last part, which Commit sends: Commit aborts.
	attempts = 0
	e.http.setIntercept(failPart(3, &attempts))
	f, err = sink.Create(context.Background(), "y.parquet")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(11<<20, 14)))
	err = f.Commit()
	require.ErrorContains(t, err, "uploading part 3")
	require.False(t, e.exists(t, "y.parquet"))
	require.Empty(t, e.pendingUploads(t))
}

func testS3FailedComplete(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "failcomplete", func(c *S3Config) { c.PartSize = MinS3PartSize })
	e.http.setIntercept(func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
		if opOf(r) != "CompleteMultipartUpload" {
			return nil, nil, false
		}
		return xmlError(r, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found."), nil, true
	})
	sink := &S3Sink{Client: e.client, Bucket: "failcomplete"}
	f, err := sink.Create(context.Background(), "z")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(6<<20, 15)))
	err = f.Commit()
	require.ErrorContains(t, err, "completing upload of s3://failcomplete/z")
	require.ErrorContains(t, err, "InvalidPart")
	require.False(t, e.exists(t, "z"))
	require.Empty(t, e.pendingUploads(t))

	// A cancelled context fails the file and still aborts its upload.
	e.http.setIntercept(nil)
	ctx, cancel := context.WithCancel(context.Background())
	f, err = sink.Create(ctx, "w")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(6<<20, 16)))
	cancel()
	require.ErrorIs(t, f.Commit(), context.Canceled)
	require.False(t, e.exists(t, "w"))
	require.Empty(t, e.pendingUploads(t))
}

// loseResponses lets the first n requests of op reach the server and then
// loses their answers: cut short (truncated) or, with reset, replaced by a
// reset connection. It counts the requests of op.
func loseResponses(op string, n int, reset bool, seen *int) func(*http.Request, aws.HTTPClient) (*http.Response, error, bool) {
	var mu sync.Mutex
	return func(r *http.Request, next aws.HTTPClient) (*http.Response, error, bool) {
		if opOf(r) != op {
			return nil, nil, false
		}
		mu.Lock()
		*seen++
		lose := *seen <= n
		mu.Unlock()
		if !lose {
			return nil, nil, false
		}
		resp, err := next.Do(r)
		if err != nil {
			return resp, err, true
		}
		if reset {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil, errConnReset(), true
		}
		resp.Body = &cutBody{rc: resp.Body, left: max(resp.ContentLength/2, 1), err: io.ErrUnexpectedEOF}
		return resp, nil, true
	}
}

// testS3LostCreateResponses checks that no multipart upload outlives its
// file when CreateMultipartUpload answers are lost after S3 started the
// upload: the SDK's retry starts another, and the first must be aborted too,
// whether the file is then committed, sealed or aborted, or the upload never
// starts.
func testS3LostCreateResponses(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "lostcreate", func(c *S3Config) { c.PartSize = MinS3PartSize; c.MaxAttempts = 3 })
	sink := &S3Sink{Client: e.client, Bucket: "lostcreate"}
	body := randomBytes(6<<20, 21)
	creates := 0

	// Written and committed, after two truncated answers.
	e.http.setIntercept(loseResponses("CreateMultipartUpload", 2, false, &creates))
	f, err := sink.Create(context.Background(), "committed")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, body))
	require.NoError(t, f.Commit())
	require.Equal(t, 3, creates, "two lost answers, one kept")
	require.True(t, e.exists(t, "committed"))
	require.Empty(t, e.pendingUploads(t), "the uploads of the lost answers are aborted")

	// Sealed past the held-bytes limit (a one-part upload), after a reset.
	creates = 0
	e.http.setIntercept(loseResponses("CreateMultipartUpload", 1, true, &creates))
	e.client.heldLimit = 0
	f, err = sink.Create(context.Background(), "sealed")
	require.NoError(t, err)
	_, err = f.Write([]byte("small"))
	require.NoError(t, err)
	require.NoError(t, f.(Sealer).Seal())
	require.Equal(t, 2, creates)
	require.Len(t, e.pendingUploads(t), 1, "only the file's own upload")
	require.NoError(t, f.Commit())
	require.Empty(t, e.pendingUploads(t))
	e.client.heldLimit = DefaultS3HeldBytes

	// Aborted after a truncated answer.
	creates = 0
	e.http.setIntercept(loseResponses("CreateMultipartUpload", 1, false, &creates))
	f, err = sink.Create(context.Background(), "aborted")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, body))
	require.NoError(t, f.Abort())
	require.Equal(t, 2, creates)
	require.Empty(t, e.pendingUploads(t))

	// Every answer lost: the upload never starts for the file, and none of
	// the three S3 started stays.
	creates = 0
	e.http.setIntercept(loseResponses("CreateMultipartUpload", 100, false, &creates))
	f, err = sink.Create(context.Background(), "failed")
	require.NoError(t, err)
	err = writeChunks(t, f, body)
	require.ErrorContains(t, err, "starting upload of s3://lostcreate/failed")
	require.NoError(t, f.Abort())
	require.Equal(t, 3, creates)
	require.Empty(t, e.pendingUploads(t))
	require.False(t, e.exists(t, "failed"))

	// An upload of another key is left alone.
	other, err := e.plain.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{
		Bucket: aws.String("lostcreate"), Key: aws.String("failed-other")})
	require.NoError(t, err)
	creates = 0
	e.http.setIntercept(loseResponses("CreateMultipartUpload", 1, true, &creates))
	f, err = sink.Create(context.Background(), "failed")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, body))
	require.NoError(t, f.Commit())
	require.Equal(t, []string{"failed-other"}, e.pendingUploads(t))
	_, err = e.plain.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{
		Bucket: aws.String("lostcreate"), Key: aws.String("failed-other"), UploadId: other.UploadId})
	require.NoError(t, err)
}

func testS3SinkListOpenRemove(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "sink", nil)
	sink := &S3Sink{Client: e.client, Bucket: "sink", Prefix: "out"}
	for _, rel := range []string{"a/b/c.txt", "a/d.txt", "e.txt", "./f/./g.txt"} {
		f, err := sink.Create(context.Background(), rel)
		require.NoError(t, err)
		_, err = f.Write([]byte("content of " + rel))
		require.NoError(t, err)
		require.NoError(t, f.Commit())
	}
	e.put(t, "out-other/x", []byte("not the sink's"))
	e.put(t, "outside", []byte("not the sink's"))

	list := func(rel string) []string {
		var keys []string
		require.NoError(t, sink.List(context.Background(), rel, func(o Object) error {
			keys = append(keys, o.Key)
			return nil
		}))
		return keys
	}
	require.Equal(t, []string{"a/b/c.txt", "a/d.txt", "e.txt", "f/g.txt"}, list(""))
	require.Equal(t, []string{"a/b/c.txt", "a/d.txt"}, list("a"))
	require.Equal(t, []string{"a/b/c.txt"}, list("a/b/c.txt"))
	require.Empty(t, list("nothing"))

	rc, err := sink.Open(context.Background(), "a/d.txt")
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.Equal(t, "content of a/d.txt", string(got))
	_, err = sink.Open(context.Background(), "a/missing")
	require.ErrorIs(t, err, fs.ErrNotExist)

	require.NoError(t, sink.Remove(context.Background(), "a/d.txt"))
	require.NoError(t, sink.Remove(context.Background(), "a/d.txt"), "missing is not an error")
	require.Equal(t, []string{"a/b/c.txt", "e.txt", "f/g.txt"}, list(""))

	for _, bad := range []string{"../outside", "/abs", "a/../../x", "", "a\\b"} {
		_, err := sink.Create(context.Background(), bad)
		require.ErrorIs(t, err, ErrUnsafePath, bad)
		_, err = sink.Open(context.Background(), bad)
		require.ErrorIs(t, err, ErrUnsafePath, bad)
		require.ErrorIs(t, sink.Remove(context.Background(), bad), ErrUnsafePath, bad)
	}
	require.ErrorIs(t, sink.List(context.Background(), "../", func(Object) error { return nil }), ErrUnsafePath)
	require.True(t, e.exists(t, "outside"))
}

func testS3Throttling(t *testing.T, srv *s3test.Server) {
	e := newS3Env(t, srv, "throttle", nil)
	e.put(t, "k", []byte("v"))
	throttled := 0
	var mu sync.Mutex
	slowDown := func(times int) func(*http.Request, aws.HTTPClient) (*http.Response, error, bool) {
		return func(r *http.Request, _ aws.HTTPClient) (*http.Response, error, bool) {
			mu.Lock()
			defer mu.Unlock()
			if opOf(r) != "ListObjectsV2" || throttled >= times {
				return nil, nil, false
			}
			throttled++
			return xmlError(r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."), nil, true
		}
	}
	e.http.setIntercept(slowDown(DefaultS3MaxAttempts - 1))
	src := &S3Source{Client: e.client, Bucket: "throttle"}
	var keys []string
	require.NoError(t, src.List(context.Background(), func(o Object) error { keys = append(keys, o.Key); return nil }))
	require.Equal(t, []string{"k"}, keys)
	require.Len(t, e.http.take("ListObjectsV2"), DefaultS3MaxAttempts)

	throttled = 0
	e.http.setIntercept(slowDown(100))
	err := src.List(context.Background(), func(Object) error { return nil })
	require.ErrorContains(t, err, "SlowDown")
	require.ErrorContains(t, err, "exceeded maximum number of attempts, 5")
	require.Len(t, e.http.take("ListObjectsV2"), DefaultS3MaxAttempts, "bounded")
}

// testS3OwnerAndSSEHeaders checks that every request carries the expected
// bucket owner, which versitygw checks as S3 does, and the requests that
// create objects the encryption settings; and that a wrong owner fails
// clearly.
func testS3OwnerAndSSEHeaders(t *testing.T, srv *s3test.Server) {
	const owner = s3test.AccessKey // versitygw's bucket owner
	e := newS3Env(t, srv, "headers", func(c *S3Config) {
		c.ExpectedBucketOwner = owner
		c.SSE = SSEAES256
		c.PartSize = MinS3PartSize
	})
	sink := &S3Sink{Client: e.client, Bucket: "headers", Prefix: "out"}
	f, err := sink.Create(context.Background(), "big")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(6<<20, 17)))
	require.NoError(t, f.Commit())
	f, err = sink.Create(context.Background(), "small")
	require.NoError(t, err)
	_, err = f.Write([]byte("s"))
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	f, err = sink.Create(context.Background(), "aborted")
	require.NoError(t, err)
	require.NoError(t, writeChunks(t, f, randomBytes(6<<20, 18)))
	require.NoError(t, f.Abort())
	require.NoError(t, sink.List(context.Background(), "", func(Object) error { return nil }))
	rc, err := sink.Open(context.Background(), "small")
	require.NoError(t, err)
	readAllSum(t, rc)
	require.NoError(t, sink.Remove(context.Background(), "small"))

	seen := e.http.take("")
	ops := map[string]bool{}
	for _, r := range seen {
		ops[r.Op] = true
		require.Equal(t, owner, r.Header.Get("X-Amz-Expected-Bucket-Owner"), r.Op)
		switch r.Op {
		case "PutObject", "CreateMultipartUpload":
			require.Equal(t, SSEAES256, r.Header.Get("X-Amz-Server-Side-Encryption"), r.Op)
		default:
			require.Empty(t, r.Header.Get("X-Amz-Server-Side-Encryption"), r.Op)
		}
	}
	for _, op := range []string{"ListObjectsV2", "GetObject", "PutObject", "CreateMultipartUpload", "UploadPart",
		"CompleteMultipartUpload", "AbortMultipartUpload", "DeleteObject"} {
		require.True(t, ops[op], "%s seen", op)
	}

	// Another owner: every operation is refused, with a hint.
	e.put(t, "in/k", []byte("v"))
	other := newTestS3Client(t, srv, &testHTTP{}, func(c *S3Config) { c.ExpectedBucketOwner = "111122223333" })
	hint := "(is the bucket owned by account 111122223333, the expected bucket owner?)"
	err = (&S3Source{Client: other, Bucket: "headers"}).List(context.Background(), func(Object) error { return nil })
	require.ErrorContains(t, err, "AccessDenied")
	require.ErrorContains(t, err, hint)
	_, err = (&S3Source{Client: other, Bucket: "headers"}).Open(context.Background(), Object{Key: "in/k"})
	require.ErrorContains(t, err, hint)
	f, err = (&S3Sink{Client: other, Bucket: "headers"}).Create(context.Background(), "refused")
	require.NoError(t, err)
	_, err = f.Write([]byte("v"))
	require.NoError(t, err)
	require.ErrorContains(t, f.Commit(), hint)
	require.False(t, e.exists(t, "refused"))
}

// TestS3KMSHeaders checks the aws:kms settings reach the requests that create
// objects (answered here without a server: versitygw has no KMS).
func TestS3KMSHeaders(t *testing.T) {
	const keyID = "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	h := &testHTTP{next: doFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		resp := xmlError(r, http.StatusOK, "", "")
		resp.Body = http.NoBody
		resp.ContentLength = 0
		resp.Header.Set("ETag", `"abc"`)
		return resp, nil
	})}
	c, err := NewS3Client(context.Background(), S3Config{
		Region:         "cn-northwest-1",
		Credentials:    credentialsForTest(),
		SSE:            SSEKMS,
		SSEKMSKeyID:    keyID,
		WrapHTTPClient: func(aws.HTTPClient) aws.HTTPClient { return h },
	})
	require.NoError(t, err)
	sink := &S3Sink{Client: c, Bucket: "b"}
	f, err := sink.Create(context.Background(), "k")
	require.NoError(t, err)
	_, err = f.Write([]byte("v"))
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	puts := h.take("PutObject")
	require.Len(t, puts, 1)
	require.Equal(t, SSEKMS, puts[0].Header.Get("X-Amz-Server-Side-Encryption"))
	require.Equal(t, keyID, puts[0].Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"))
}

// TestS3UnreachableEndpoint checks that a dead endpoint, and one that accepts
// connections but never answers, fail in bounded time with a message naming
// the endpoint; a refused connection is retried for long enough to outlast a
// restart.
func TestS3UnreachableEndpoint(t *testing.T) {
	creds := credentialsForTest()
	t.Run("refused", func(t *testing.T) {
		c, err := NewS3Client(context.Background(), S3Config{EndpointURL: "http://127.0.0.1:1", PathStyle: true, Credentials: creds})
		require.NoError(t, err)
		start := time.Now()
		err = (&S3Source{Client: c, Bucket: "b", Prefix: "in/"}).List(context.Background(), func(Object) error { return nil })
		// The four waits are at least 250 ms, 500 ms, 1 s and 2 s, at most
		// twice that.
		require.GreaterOrEqual(t, time.Since(start), 3750*time.Millisecond, "the retries span a restart")
		require.Less(t, time.Since(start), 30*time.Second, "error: %v", err)
		require.ErrorContains(t, err, "listing s3://b/in/ at endpoint http://127.0.0.1:1")
		require.ErrorContains(t, err, "connection refused")
		require.ErrorContains(t, err, "exceeded maximum number of attempts, 5")
	})
	t.Run("silent", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		go func() { // accept and hold connections without answering
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		endpoint := "http://" + l.Addr().String()
		c, err := NewS3Client(context.Background(), S3Config{
			EndpointURL: endpoint, PathStyle: true, Credentials: creds,
			RequestTimeout: 300 * time.Millisecond, StallTimeout: 300 * time.Millisecond, MaxAttempts: 2,
		})
		require.NoError(t, err)
		start := time.Now()
		_, err = (&S3Sink{Client: c, Bucket: "b"}).Open(context.Background(), "k")
		require.Less(t, time.Since(start), 5*time.Second, "error: %v", err)
		require.ErrorContains(t, err, "reading s3://b/k at endpoint "+endpoint)
		require.ErrorContains(t, err, "timeout")
	})
}

// tLog writes to the test's log.
type tLog struct{ t testing.TB }

func (w tLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func credentialsForTest() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "not-a-secret", Source: "test"}, nil
	})
}

// TestS3CABundleEnv checks the way a convert process under test trusts the
// test server: AWS_CA_BUNDLE (from s3test.Server.Env), read by the SDK's
// default config into the BuildableClient, with no CACertsPEM.
func TestS3CABundleEnv(t *testing.T) {
	srv := s3test.Start(t, true)
	srv.CreateBucket(t, "bundle")
	t.Setenv("AWS_CA_BUNDLE", srv.CAFile)
	c, err := NewS3Client(context.Background(), S3Config{
		EndpointURL: srv.Endpoint, PathStyle: true, Credentials: srv.Credentials(),
	})
	require.NoError(t, err)
	sink := &S3Sink{Client: c, Bucket: "bundle"}
	f, err := sink.Create(context.Background(), "k")
	require.NoError(t, err)
	_, err = f.Write([]byte("trusted"))
	require.NoError(t, err)
	require.NoError(t, f.Commit())

	t.Setenv("AWS_CA_BUNDLE", "")
	c, err = NewS3Client(context.Background(), S3Config{
		EndpointURL: srv.Endpoint, PathStyle: true, Credentials: srv.Credentials(), MaxAttempts: 1,
	})
	require.NoError(t, err)
	_, err = (&S3Sink{Client: c, Bucket: "bundle"}).Open(context.Background(), "k")
	require.ErrorContains(t, err, "certificate", "the test certificate is not trusted without the bundle")
}

// TestS3FaultsLeaveNoUploads writes files (small and multipart; sealed,
// committed or aborted) through a transport that injects faults, answers
// lost after the server acted on the request included: whatever succeeds
// reads back whole, and no multipart upload stays open.
func TestS3FaultsLeaveNoUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	srv := s3test.Start(t, true)
	for i, rate := range []float64{0.1, 0.3, 0.5} {
		t.Run(fmt.Sprintf("rate=%.1f", rate), func(t *testing.T) {
			t.Parallel() // a bucket each
			bucket := fmt.Sprintf("faults%d", i)
			faults := s3test.NewFaults(rate, uint64(i))
			srv.CreateBucket(t, bucket)
			c := newTestS3Client(t, srv, &testHTTP{}, func(c *S3Config) {
				c.PartSize = MinS3PartSize
				c.WrapHTTPClient = func(next aws.HTTPClient) aws.HTTPClient { faults.Next = next; return faults }
				c.Log = slog.New(slog.NewTextHandler(tLog{t}, nil))
			})
			c.heldLimit = 8 << 10 // past two small sealed files, one-part uploads
			sink := &S3Sink{Client: c, Bucket: bucket}
			committed := map[string][]byte{}
			failed := 0
			fail := func(rel string, err error) {
				failed++
				t.Logf("%s failed: %v", rel, err)
			}
			// Batches of files sealed together and then committed (or
			// aborted) together, as a unit's files are.
			for batch := range 8 {
				type file struct {
					rel  string
					f    File
					data []byte
				}
				var files []file
				for n := range 6 {
					rel := fmt.Sprintf("b%d/f%d", batch, n)
					size := 3 << 10
					if n == 1 && batch%2 == 0 {
						size = 6<<20 + batch
					}
					data := randomBytes(size, uint64(100*i+10*batch+n))
					f, err := sink.Create(context.Background(), rel)
					require.NoError(t, err)
					err = writeChunks(t, f, data)
					if err == nil {
						err = f.(Sealer).Seal()
					}
					if err != nil {
						_ = f.Abort()
						fail(rel, err)
						continue
					}
					files = append(files, file{rel, f, data})
				}
				for k, f := range files {
					if (batch+k)%5 == 4 {
						require.NoError(t, f.f.Abort())
						continue
					}
					if err := f.f.Commit(); err != nil {
						fail(f.rel, err)
						continue
					}
					committed[f.rel] = f.data
				}
			}
			plain := srv.Client()
			for rel, data := range committed {
				out, err := plain.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(rel)})
				require.NoError(t, err)
				sum, n := readAllSum(t, out.Body)
				require.Equal(t, int64(len(data)), n, rel)
				require.Equal(t, sha256.Sum256(data), sum, rel)
			}
			ups, err := plain.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
			require.NoError(t, err)
			var open []string
			for _, u := range ups.Uploads {
				open = append(open, aws.ToString(u.Key))
			}
			require.Empty(t, open, "open multipart uploads after %d faults (%d lost answers to CreateMultipartUpload or others)",
				faults.Total(), faults.Injected(s3test.ResetAfter)+faults.Injected(s3test.Truncate))
			t.Logf("%d faults; %d files committed, %d failed", faults.Total(), len(committed), failed)
		})
	}
}
