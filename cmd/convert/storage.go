package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"convert/internal/pipeline"
	"convert/internal/storage"
)

// s3Flags configure S3 access for --in/--out/--summary-out/--plan URLs.
type s3Flags struct {
	region, endpointURL, expectedBucketOwner, sse, sseKMSKeyID string
	pathStyle                                                  bool
}

func (s *s3Flags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.region, "region", "", "AWS region of the buckets, e.g. cn-north-1 (default: AWS_REGION or the shared config); the SDK resolves its endpoint, .amazonaws.com.cn in China")
	fs.StringVar(&s.endpointURL, "endpoint-url", "", "S3 endpoint for S3-compatible stores (https://host:port)")
	fs.BoolVar(&s.pathStyle, "path-style", false, "path-style bucket addressing (most S3-compatible stores need it)")
	fs.StringVar(&s.expectedBucketOwner, "expected-bucket-owner", "", "12-digit account id that must own every bucket accessed")
	fs.StringVar(&s.sse, "sse", "", "server-side encryption of written objects: AES256 or aws:kms (default: the bucket's)")
	fs.StringVar(&s.sseKMSKeyID, "sse-kms-key-id", "", "KMS key for --sse aws:kms (default: the AWS managed key)")
}

func isS3(u string) bool { return strings.HasPrefix(u, "s3://") }

// stores opens sources and sinks for paths and s3:// URLs, with one S3
// client for all of them (its concurrency limit is then one limit).
type stores struct {
	flags  s3Flags
	log    *slog.Logger
	client *storage.S3Client
}

func (st *stores) s3(ctx context.Context) (*storage.S3Client, error) {
	if st.client != nil {
		return st.client, nil
	}
	c, err := storage.NewS3Client(ctx, storage.S3Config{
		Region:              st.flags.region,
		EndpointURL:         st.flags.endpointURL,
		PathStyle:           st.flags.pathStyle,
		ExpectedBucketOwner: st.flags.expectedBucketOwner,
		SSE:                 st.flags.sse,
		SSEKMSKeyID:         st.flags.sseKMSKeyID,
		Log:                 st.log,
	})
	if err != nil {
		return nil, err
	}
	st.client = c
	return c, nil
}

// open returns the source of in and the sink of out. An output inside the
// input is not read as input.
func (st *stores) open(ctx context.Context, in, out string) (storage.Source, storage.Sink, error) {
	var src storage.Source
	var sink storage.Sink
	switch {
	case isS3(in):
		bucket, prefix, ok := storage.ParseS3URL(in)
		if !ok {
			return nil, nil, fmt.Errorf("--in: not an s3://bucket/prefix URL: %q", in)
		}
		c, err := st.s3(ctx)
		if err != nil {
			return nil, nil, err
		}
		s := &storage.S3Source{Client: c, Bucket: bucket, Prefix: prefix}
		if ob, op, ok := storage.ParseS3URL(out); ok && ob == bucket {
			s.Exclude = []string{op}
		}
		src = s
	default:
		if _, err := os.Stat(in); err != nil {
			return nil, nil, fmt.Errorf("--in: %w", err)
		}
		ls := &storage.LocalSource{Root: in}
		if !isS3(out) {
			absIn, err1 := filepath.Abs(in)
			absOut, err2 := filepath.Abs(out)
			if err := errors.Join(err1, err2); err != nil {
				return nil, nil, err
			}
			if absIn == absOut {
				return nil, nil, errors.New("--in and --out are the same directory")
			}
			ls.Exclude = []string{out}
		}
		src = ls
	}
	switch {
	case isS3(out):
		bucket, prefix, ok := storage.ParseS3URL(out)
		if !ok {
			return nil, nil, fmt.Errorf("--out: not an s3://bucket/prefix URL: %q", out)
		}
		c, err := st.s3(ctx)
		if err != nil {
			return nil, nil, err
		}
		sink = &storage.S3Sink{Client: c, Bucket: bucket, Prefix: prefix}
	default:
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, nil, fmt.Errorf("--out: %w", err)
		}
		sink = &storage.LocalSink{Root: out}
	}
	return src, sink, nil
}

// prune restricts an S3 source to the day prefixes of --from/--to, or to a
// work item's prefixes, so that it does not list everything. It returns the
// prefixes listed (for planning). When no day of the range has objects, it
// replaces cfg.Source by one that lists nothing.
func prune(ctx context.Context, src storage.Source, kind kindName, cfg *pipeline.Config, itemPrefixes []string) ([]string, error) {
	s, ok := src.(*storage.S3Source)
	if !ok {
		return nil, nil
	}
	if len(itemPrefixes) > 0 {
		s.Prefixes = itemPrefixes
		return itemPrefixes, nil
	}
	base := s.Prefix
	if base != "" && !strings.HasSuffix(base, "/") {
		base += "/"
	}
	prefixes, ok, err := pipeline.DayPrefixes(ctx, s.Dirs, base, cfg.From, cfg.To, skipDir(kind), kind.command().DatedNames)
	if err != nil || !ok {
		return []string{base}, err
	}
	if len(prefixes) == 0 {
		// Nothing in range: list nothing (an empty Prefixes would list
		// everything, and no key prefix is sure to match nothing).
		cfg.Source = noObjects{s}
		return nil, nil
	}
	s.Prefixes = prefixes
	return prefixes, nil
}

// noObjects is a source with no object in the run's range: it lists
// nothing and is named as the input it restricts.
type noObjects struct{ storage.Source }

func (noObjects) List(context.Context, func(storage.Object) error) error { return nil }

// skipDir tells DayPrefixes which directories of an AWSLogs tree hold other
// services' logs.
func skipDir(kind kindName) func(string) bool {
	return func(dir string) bool {
		name := path.Base(strings.TrimSuffix(dir, "/"))
		name = strings.TrimPrefix(name, "aws-service=")
		service := kind.command().Service
		return service != "" && isServiceDir(name) && name != service
	}
}

func isServiceDir(name string) bool {
	switch name {
	case "vpcflowlogs", "CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight", "CloudTrail-NetworkActivity",
		"CloudTrail-Aggregated", "elasticloadbalancing", "vpcdnsquerylogs", "networkfirewall":
		return true
	}
	return false
}

// writeTo writes data to a local path or an s3:// URL.
func (st *stores) writeTo(ctx context.Context, dest string, data []byte) error {
	if !isS3(dest) {
		return os.WriteFile(dest, data, 0o644)
	}
	bucket, key, ok := storage.ParseS3URL(dest)
	if !ok || key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("not an s3://bucket/key URL: %q", dest)
	}
	c, err := st.s3(ctx)
	if err != nil {
		return err
	}
	sink := &storage.S3Sink{Client: c, Bucket: bucket, Prefix: path.Dir(key)}
	if path.Dir(key) == "." {
		sink.Prefix = ""
	}
	return storage.WriteObject(ctx, sink, path.Base(key), data)
}

// readFrom reads a local path or an s3:// URL.
func (st *stores) readFrom(ctx context.Context, src string) ([]byte, error) {
	if !isS3(src) {
		return os.ReadFile(src)
	}
	bucket, key, ok := storage.ParseS3URL(src)
	if !ok || key == "" {
		return nil, fmt.Errorf("not an s3://bucket/key URL: %q", src)
	}
	c, err := st.s3(ctx)
	if err != nil {
		return nil, err
	}
	s := &storage.S3Source{Client: c, Bucket: bucket, Prefix: key}
	var obj *storage.Object
	if err := s.List(ctx, func(o storage.Object) error {
		if o.Key == key {
			obj = &o
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("%s: %w", src, os.ErrNotExist)
	}
	rc, err := s.Open(ctx, *obj)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}
