package storage

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		in             string
		bucket, prefix string
		ok             bool
	}{
		{"s3://bucket/prefix/a", "bucket", "prefix/a", true},
		{"s3://bucket/prefix/", "bucket", "prefix/", true},
		{"s3://bucket", "bucket", "", true},
		{"s3://bucket/", "bucket", "", true},
		{"s3://my.bucket-1/AWSLogs/123456789012/vpcflowlogs/", "my.bucket-1", "AWSLogs/123456789012/vpcflowlogs/", true},
		{"s3://b//double", "b", "/double", true},
		{"s3://", "", "", false},
		{"s3:///prefix", "", "", false},
		{"s3://bu cket/x", "", "", false},
		{"s3://bucket/x\x00y", "", "", false},
		{"S3://bucket/x", "", "", false},
		{"https://bucket/x", "", "", false},
		{"/local/path", "", "", false},
		{"bucket/x", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			b, p, ok := ParseS3URL(tc.in)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.bucket, b)
			require.Equal(t, tc.prefix, p)
		})
	}
}

func TestS3ConfigValidation(t *testing.T) {
	tests := []struct {
		name    string
		cfg     S3Config
		wantErr string
	}{
		{"defaults", S3Config{}, ""},
		{"part too small", S3Config{PartSize: MinS3PartSize - 1}, "part size"},
		{"part too large", S3Config{PartSize: MaxS3PartSize + 1}, "part size"},
		{"min part", S3Config{PartSize: MinS3PartSize}, ""},
		{"bad sse", S3Config{SSE: "aes256"}, `server-side encryption "aes256"`},
		{"kms key without kms", S3Config{SSE: SSEAES256, SSEKMSKeyID: "k"}, "needs --sse aws:kms"},
		{"kms", S3Config{SSE: SSEKMS, SSEKMSKeyID: "arn:aws-cn:kms:cn-north-1:111122223333:key/x"}, ""},
		{"owner not 12 digits", S3Config{ExpectedBucketOwner: "12345"}, "12-digit"},
		{"owner", S3Config{ExpectedBucketOwner: "111122223333"}, ""},
		{"endpoint without scheme", S3Config{EndpointURL: "127.0.0.1:7070"}, "endpoint URL"},
		{"endpoint ftp", S3Config{EndpointURL: "ftp://host"}, "endpoint URL"},
		{"endpoint with credentials", S3Config{EndpointURL: "https://AKIAX:supersecret@host:9000"}, "credentials do not belong"},
		{"endpoint with a token", S3Config{EndpointURL: "https://supersecret@host:9000"}, "credentials do not belong"},
		{"endpoint with an access key id", S3Config{EndpointURL: "https://AKIAsupersecret:pw@host:9000"}, "credentials do not belong"},
		{"negative attempts", S3Config{MaxAttempts: -1}, "max attempts"},
		{"negative concurrency", S3Config{Concurrency: -2}, "concurrency"},
		{"negative stall timeout", S3Config{StallTimeout: -time.Second}, "negative timeout"},
		{"negative request timeout", S3Config{RequestTimeout: -time.Second}, "negative timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			err := cfg.setDefaults()
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Positive(t, cfg.PartSize)
				require.Positive(t, cfg.Concurrency)
				require.Positive(t, cfg.MaxAttempts)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), "supersecret")
		})
	}
}

// TestS3ChinaRegionEndpoints shows that the SDK itself resolves the China
// regions to the aws-cn partition's amazonaws.com.cn endpoints, both with its
// endpoint resolver and for a request sent by a client from NewS3Client
// (captured before it reaches the network).
func TestS3ChinaRegionEndpoints(t *testing.T) {
	// A configured endpoint in the environment would replace the resolved
	// one.
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	tests := []struct {
		region, host string
	}{
		{"cn-north-1", "logs.s3.cn-north-1.amazonaws.com.cn"},
		{"cn-northwest-1", "logs.s3.cn-northwest-1.amazonaws.com.cn"},
		{"eu-west-1", "logs.s3.eu-west-1.amazonaws.com"},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			ep, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), s3.EndpointParameters{
				Region: aws.String(tc.region),
				Bucket: aws.String("logs"),
			})
			require.NoError(t, err)
			require.Equal(t, "https", ep.URI.Scheme)
			require.Equal(t, tc.host, ep.URI.Host)

			capture := &captureClient{}
			c, err := NewS3Client(context.Background(), S3Config{
				Region:         tc.region,
				Credentials:    credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				MaxAttempts:    1,
				WrapHTTPClient: func(aws.HTTPClient) aws.HTTPClient { return capture },
			})
			require.NoError(t, err)
			src := &S3Source{Client: c, Bucket: "logs", Prefix: "AWSLogs/"}
			err = src.List(context.Background(), func(Object) error { return nil })
			require.ErrorIs(t, err, errCaptured)
			require.Len(t, capture.urls, 1)
			u := capture.urls[0]
			require.Equal(t, "https", u.Scheme)
			require.Equal(t, tc.host, u.Host)
			require.Equal(t, "AWSLogs/", u.Query().Get("prefix"))
			require.Contains(t, err.Error(), "region "+tc.region)
		})
	}
}

var errCaptured = errors.New("captured, not sent")

// captureClient records request URLs and sends nothing.
type captureClient struct {
	mu   sync.Mutex
	urls []*url.URL
}

func (c *captureClient) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.urls = append(c.urls, r.URL)
	return nil, errCaptured
}

// TestS3ExpectedBucketOwnerMismatch plays S3's answer to a request whose
// x-amz-expected-bucket-owner is not the bucket's owner (403 AccessDenied;
// versitygw ignores the header) and checks the error says what to look at.
func TestS3ExpectedBucketOwnerMismatch(t *testing.T) {
	const owner = "111122223333"
	fake := func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("X-Amz-Expected-Bucket-Owner") != owner {
			return xmlError(r, http.StatusForbidden, "AccessDenied", "Access Denied"), nil
		}
		return nil, errors.New("unexpected request")
	}
	c, err := NewS3Client(context.Background(), S3Config{
		Region:              "cn-north-1",
		Credentials:         credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		ExpectedBucketOwner: "444455556666",
		WrapHTTPClient:      func(aws.HTTPClient) aws.HTTPClient { return doFunc(fake) },
	})
	require.NoError(t, err)
	src := &S3Source{Client: c, Bucket: "logs", Prefix: "in/"}
	err = src.List(context.Background(), func(Object) error { return nil })
	require.ErrorContains(t, err, "AccessDenied")
	require.ErrorContains(t, err, "listing s3://logs/in/")
	require.ErrorContains(t, err, "owned by account 444455556666, the expected bucket owner")
	require.NotContains(t, err.Error(), "secret")

	_, err = src.Open(context.Background(), Object{Key: "in/a.log"})
	require.ErrorContains(t, err, "reading s3://logs/in/a.log")
	require.ErrorContains(t, err, "expected bucket owner")
}

// doFunc is an aws.HTTPClient made of a function.
type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// xmlError is an S3 error response.
func xmlError(r *http.Request, status int, code, msg string) *http.Response {
	body := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>` + code + `</Code><Message>` + msg + `</Message><RequestId>test</RequestId></Error>`
	return &http.Response{
		Status:        http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}

func TestInScope(t *testing.T) {
	tests := []struct {
		prefix, key string
		want        bool
	}{
		{"", "anything", true},
		{"logs", "logs", true},
		{"logs", "logs/a", true},
		{"logs", "logs-old/a", false},
		{"logs", "log", false},
		{"logs/", "logs/a", true},
		{"logs/", "logs", false},
		{"logs/2024/05/", "logs/2024/05/01/x", true},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, inScope(tc.prefix, tc.key), "inScope(%q, %q)", tc.prefix, tc.key)
	}
}

func TestHiddenBelow(t *testing.T) {
	tests := []struct {
		prefix, key string
		want        bool
	}{
		{"", "a/b.log", false},
		{"", ".a", true},
		{"", "a/.b/c", true},
		{"logs", "logs/x/.y.log", true},
		{"logs", "logs/.tmp/x.log", true},
		{"logs", "logs/x.y/z.log", false},
		{"logs/", "logs/.x", true},
		{"logs/.cache", "logs/.cache", false}, // named explicitly
		{"logs/.cache", "logs/.cache/x", false},
		{".logs/", ".logs/a", false},
		{"logs/", "logs/a./b", false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, hiddenBelow(tc.prefix, tc.key), "hiddenBelow(%q, %q)", tc.prefix, tc.key)
	}
}

func TestS3SourcePrefixes(t *testing.T) {
	s := &S3Source{Prefix: "logs", Prefixes: []string{"logs/2024/05/02/", "logs/2024/05/01/", "logs/2024/05/01/x", "logs/2024/05/0"}}
	got, err := s.listPrefixes()
	require.NoError(t, err)
	require.Equal(t, []string{"logs/2024/05/0"}, got)

	s.Prefixes = []string{"logs/2024/05/02/", "logs/2024/05/01/"}
	got, err = s.listPrefixes()
	require.NoError(t, err)
	require.Equal(t, []string{"logs/2024/05/01/", "logs/2024/05/02/"}, got)
	require.Equal(t, []string{"logs/2024/05/02/", "logs/2024/05/01/"}, s.Prefixes, "the caller's slice is not reordered")

	s.Prefixes = []string{"logs-old/2024/"}
	_, err = s.listPrefixes()
	require.ErrorContains(t, err, "outside the input s3:///logs")
}

func TestIsTransientReadError(t *testing.T) {
	require.True(t, isTransientReadError(io.ErrUnexpectedEOF))
	require.True(t, isTransientReadError(errConnReset()))
	require.False(t, isTransientReadError(errors.New("checksum did not match: algorithm CRC32")))
	require.False(t, isTransientReadError(context.Canceled))
}
