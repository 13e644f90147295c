package storage

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Source reads the objects under s3://Bucket/Prefix.
//
// Prefix is a directory, or one object: it selects the key equal to Prefix
// and the keys under Prefix + "/" (or under Prefix if it ends in "/"), so
// "logs" does not select "logs-old/…". An empty Prefix selects the bucket.
// Keys ending in "/" (folder markers) are skipped, and so are hidden keys: a
// key with a segment below Prefix that starts with "." (".tmp-x",
// ".staging/x"), the rule LocalSource applies to names below its Root.
type S3Source struct {
	Client *S3Client
	Bucket string
	Prefix string
	// Prefixes, if set, restricts the listing to these key prefixes, so a
	// run over a date range lists only its days: e.g.
	// "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/". Each is a
	// full key prefix that must lie within Prefix. They are listed in
	// lexical order (sorted here; a prefix covered by another is dropped),
	// so List still yields keys in lexical order, each once.
	Prefixes []string
	// Exclude lists key prefixes not to read (the output, if it lies under
	// the input); each is treated as a directory.
	Exclude []string
}

var _ Source = (*S3Source)(nil)

// List calls fn for each selected object, in lexical key order, paging
// through ListObjectsV2. Object.Key is the full key, ETag the S3 entity tag
// as S3 returns it (quoted).
func (s *S3Source) List(ctx context.Context, fn func(Object) error) error {
	prefixes, err := s.listPrefixes()
	if err != nil {
		return err
	}
	excluded := make([]string, 0, len(s.Exclude))
	for _, e := range s.Exclude {
		if e != "" {
			excluded = append(excluded, strings.TrimSuffix(e, "/")+"/")
		}
	}
	keep := func(key string) bool {
		if !inScope(s.Prefix, key) || hiddenBelow(s.Prefix, key) {
			return false
		}
		for _, e := range excluded {
			if strings.HasPrefix(key, e) {
				return false
			}
		}
		return true
	}
	for _, p := range prefixes {
		if err := s.Client.list(ctx, s.Bucket, p, keep, fn); err != nil {
			return err
		}
	}
	return nil
}

// listPrefixes returns the key prefixes to list: sorted, within Prefix, none
// a prefix of another.
func (s *S3Source) listPrefixes() ([]string, error) {
	if len(s.Prefixes) == 0 {
		return []string{s.Prefix}, nil
	}
	ps := slices.Clone(s.Prefixes)
	slices.Sort(ps)
	out := ps[:0]
	for _, p := range ps {
		if !inScope(s.Prefix, p) {
			return nil, fmt.Errorf("listing prefix %q: outside the input %s", p, s.String())
		}
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue // covered by the previous prefix
		}
		out = append(out, p)
	}
	return out, nil
}

// inScope reports whether key, or every key under the listing prefix key, is
// selected by the directory-or-object prefix.
func inScope(prefix, key string) bool {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(key, prefix)
	}
	return key == prefix || strings.HasPrefix(key, prefix+"/")
}

// hiddenBelow reports whether a segment of key below the directory-or-object
// prefix starts with ".". The prefix itself may name hidden segments: an input
// given explicitly is read.
func hiddenBelow(prefix, key string) bool {
	rest := key
	switch {
	case prefix == "" || strings.HasSuffix(prefix, "/"):
		rest = strings.TrimPrefix(key, prefix)
	case key == prefix:
		return false
	default:
		rest = strings.TrimPrefix(key, prefix+"/")
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// list pages through the keys under prefix, calling fn for those keep
// accepts, with keys as stored.
func (c *S3Client) list(ctx context.Context, bucket, prefix string, keep func(string) bool, fn func(Object) error) error {
	pages := s3.NewListObjectsV2Paginator(c.api, &s3.ListObjectsV2Input{
		Bucket:              aws.String(bucket),
		Prefix:              aws.String(prefix),
		ExpectedBucketOwner: c.expectedOwner(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return c.wrapErr("listing", s3URL(bucket, prefix), err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") || !keep(key) {
				continue
			}
			if err := fn(Object{
				Key:     key,
				Size:    aws.ToInt64(o.Size),
				ETag:    aws.ToString(o.ETag),
				ModTime: aws.ToTime(o.LastModified),
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dirs returns the "directories" directly under the key prefix dir (which
// should end in "/", and lie within Prefix): the distinct key prefixes up to
// the next "/", in lexical order, from ListObjectsV2 with a delimiter, less
// hidden ones (a segment starting with "."), which List would skip. It
// lets a caller find the account and region levels of a log layout, such as
// AWSLogs/<account>/vpcflowlogs/<region>/, and build the day Prefixes under
// each without listing every object.
func (s *S3Source) Dirs(ctx context.Context, dir string) ([]string, error) {
	if !inScope(s.Prefix, dir) {
		return nil, fmt.Errorf("listing prefix %q: outside the input %s", dir, s.String())
	}
	pages := s3.NewListObjectsV2Paginator(s.Client.api, &s3.ListObjectsV2Input{
		Bucket:              aws.String(s.Bucket),
		Prefix:              aws.String(dir),
		Delimiter:           aws.String("/"),
		ExpectedBucketOwner: s.Client.expectedOwner(),
	})
	var dirs []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.Client.wrapErr("listing", s3URL(s.Bucket, dir), err)
		}
		for _, p := range page.CommonPrefixes {
			if d := aws.ToString(p.Prefix); !hiddenBelow(s.Prefix, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, nil
}

// Open streams the object with GetObject. If obj.ETag is set, the object
// must still have it (If-Match), so the bytes are those that were listed. A
// body that breaks mid-way is resumed with a Range request from the byte
// reached, up to MaxResumes times, so the caller reads one continuous
// stream.
func (s *S3Source) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	return s.Client.open(ctx, s.Bucket, obj.Key, obj.ETag)
}

// String returns the source's s3:// URL.
func (s *S3Source) String() string { return s3URL(s.Bucket, s.Prefix) }
