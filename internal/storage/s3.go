package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// Defaults and limits for S3Config.
const (
	// DefaultS3MaxAttempts is the number of tries of one request, the first
	// included, before a throttling or transient network error is returned.
	DefaultS3MaxAttempts = 5
	// DefaultS3MaxBackoff caps the wait between two tries (see s3Backoff:
	// 0.5 s·2^n after transient errors, 1 s·2^n after throttling, at least
	// half of it).
	DefaultS3MaxBackoff = 20 * time.Second
	// DefaultS3PartSize is the multipart upload part size: a 10,000-part
	// object can then reach 80 GiB, and a part costs 8 MiB of memory.
	DefaultS3PartSize = 8 << 20
	// MinS3PartSize and MaxS3PartSize are S3's limits for every part but
	// the last.
	MinS3PartSize = 5 << 20
	MaxS3PartSize = 5 << 30
	// DefaultS3Concurrency is the number of parts uploading at once, across
	// all files written through one S3Client.
	DefaultS3Concurrency = 8
	// DefaultS3MaxResumes is how many times one GetObject stream is resumed
	// after its body broke.
	DefaultS3MaxResumes = 5
	// DefaultS3ConnectTimeout bounds a TCP connect, so that an unreachable
	// endpoint fails in bounded time.
	DefaultS3ConnectTimeout = 5 * time.Second
	// DefaultS3TLSHandshakeTimeout bounds a TLS handshake.
	DefaultS3TLSHandshakeTimeout = 10 * time.Second
	// DefaultS3RequestTimeout bounds one attempt of a request without a
	// data body (ListObjectsV2, HeadObject, Create/Abort multipart upload,
	// ListParts, DeleteObject), its answer included; the attempt is then
	// retried. Such requests take tens of milliseconds (AWS advises retrying
	// small requests after 2 s), so 10 s only ends a request that is lost.
	// CompleteMultipartUpload gets more in proportion to the object's size.
	DefaultS3RequestTimeout = 10 * time.Second
	// DefaultS3StallTimeout is the longest a transfer may make no progress:
	// no byte of a PutObject or UploadPart body taken, no answer once it is
	// sent, no response headers of a GetObject, no byte of a GetObject body
	// while it is read. The attempt is then retried (a read resumed). It is
	// not a deadline: a slow but progressing transfer never times out.
	DefaultS3StallTimeout = 10 * time.Second

	// s3MaxParts is S3's limit of parts per multipart upload.
	s3MaxParts = 10000
	// s3MaxIdleConnsPerHost keeps enough connections alive for the decoders
	// and part uploads that run at once (the SDK's default is 10).
	s3MaxIdleConnsPerHost = 64
	// s3CleanupTimeout bounds an AbortMultipartUpload, which runs even when
	// the run's context is cancelled.
	s3CleanupTimeout = time.Minute
)

// Server-side encryption values for S3Config.SSE.
const (
	SSENone   = ""
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// S3Config configures S3 access. The zero value uses the default credential
// chain, the region from the environment or shared config, and the defaults
// above.
type S3Config struct {
	// Region of the buckets, e.g. "eu-west-1" or "cn-north-1". Empty takes
	// AWS_REGION or the shared config; the endpoint, including the
	// .amazonaws.com.cn endpoints of the aws-cn partition, is resolved by
	// the SDK from it.
	Region string
	// EndpointURL replaces the resolved endpoint, for S3-compatible stores
	// ("https://host:port"). Empty uses AWS.
	EndpointURL string
	// PathStyle addresses buckets as https://host/bucket/key instead of
	// https://bucket.host/key, as many S3-compatible stores need.
	PathStyle bool
	// ExpectedBucketOwner is the 12-digit account ID that must own every
	// bucket accessed; S3 refuses requests to a bucket owned by another
	// account. Empty does not check.
	ExpectedBucketOwner string
	// SSE is the server-side encryption of written objects: "" (the bucket's
	// default), "AES256" or "aws:kms".
	SSE string
	// SSEKMSKeyID is the KMS key for SSE "aws:kms"; empty uses the AWS
	// managed key.
	SSEKMSKeyID string

	// MaxAttempts is the number of tries of a request (DefaultS3MaxAttempts
	// if 0). MaxBackoff caps the wait between tries (DefaultS3MaxBackoff if
	// 0).
	MaxAttempts int
	MaxBackoff  time.Duration
	// PartSize is the multipart part size in bytes (DefaultS3PartSize if 0;
	// at least MinS3PartSize). Files up to PartSize are written with one
	// PutObject at Commit.
	PartSize int64
	// Concurrency bounds the parts uploading at once through this client,
	// across all its files (DefaultS3Concurrency if 0). Output memory is
	// about (Concurrency + open files) × PartSize.
	Concurrency int
	// MaxResumes bounds how often a read stream resumes after a broken body
	// (DefaultS3MaxResumes if 0; negative never resumes).
	MaxResumes int

	// ConnectTimeout, TLSHandshakeTimeout, RequestTimeout and StallTimeout
	// bound network waits (the DefaultS3… values if 0).
	ConnectTimeout      time.Duration
	TLSHandshakeTimeout time.Duration
	RequestTimeout      time.Duration
	StallTimeout        time.Duration

	// Credentials replaces the default credential chain (environment,
	// shared profile, web identity, ECS task role, EC2 instance role) if
	// set; tests use static keys.
	Credentials aws.CredentialsProvider
	// CACertsPEM are extra PEM certificates to trust besides the system
	// roots (and AWS_CA_BUNDLE), for a private endpoint or a test server.
	CACertsPEM []byte
	// WrapHTTPClient, if set, wraps the HTTP client every request goes
	// through. Tests use it to observe requests and inject faults.
	WrapHTTPClient func(aws.HTTPClient) aws.HTTPClient
	// Log receives warnings (a resumed read, a failed abort) and the SDK's
	// own warnings. Nothing logged carries credentials or signatures. Nil
	// logs nothing.
	Log *slog.Logger
}

// S3Client is a configured S3 API client shared by S3Sources and S3Sinks. It
// is safe for concurrent use.
type S3Client struct {
	api   *s3.Client
	cfg   S3Config
	where string // "endpoint URL" or "region R", for error messages
	// checksums sends CRC32 checksums with multipart uploads, as the SDK
	// does for single requests unless configured "when_required".
	checksums bool
	// slots holds one token per part upload in flight.
	slots chan struct{}
	// parts recycles part buffers of PartSize capacity.
	parts sync.Pool
	// held counts the bytes of sealed single-request files waiting for
	// their commit; past heldLimit (DefaultS3HeldBytes) Seal uploads them.
	held      atomic.Int64
	heldLimit int64
}

// DefaultS3HeldBytes bounds the bytes of finished small files a client keeps
// in memory until their commit makes them visible with one PutObject.
const DefaultS3HeldBytes = 64 << 20

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// NewS3Client checks cfg, loads the AWS configuration (credentials, region,
// AWS_CA_BUNDLE) with the SDK's default chain and returns a client. It makes
// no request: credentials are fetched on first use.
func NewS3Client(ctx context.Context, cfg S3Config) (*S3Client, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	httpClient, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	opts := []func(*config.LoadOptions) error{
		// A BuildableClient, not an *http.Client, so that the SDK can add
		// AWS_CA_BUNDLE to its RootCAs.
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.MaxAttempts
				o.MaxBackoff = cfg.MaxBackoff
				o.Backoff = s3Backoff{max: cfg.MaxBackoff, throttle: retry.IsErrorThrottles(retry.DefaultThrottles)}
				// No client-side retry quota: a batch job under sustained
				// throttling should keep backing off per request rather
				// than fail every request once the quota is spent.
				o.RateLimiter = ratelimit.None
				// A response body cut short (a dropped connection while
				// a listing is read) is transient too; the SDK does not
				// count it as retryable by itself.
				o.Retryables = append(append([]retry.IsErrorRetryable(nil), o.Retryables...),
					retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
						if errors.Is(err, io.ErrUnexpectedEOF) {
							return aws.TrueTernary
						}
						return aws.UnknownTernary
					}))
			})
		}),
		config.WithLogger(sdkLogger(cfg.Log)),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.EndpointURL == "" {
			return nil, errors.New("no AWS region: give --region or set AWS_REGION")
		}
		// S3-compatible stores mostly ignore the region, but SigV4 signs it.
		awsCfg.Region = "us-east-1"
	}
	c := &S3Client{
		cfg:       cfg,
		where:     "region " + awsCfg.Region,
		checksums: awsCfg.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired,
		slots:     make(chan struct{}, cfg.Concurrency),
		heldLimit: DefaultS3HeldBytes,
	}
	if cfg.EndpointURL != "" {
		c.where = "endpoint " + cfg.EndpointURL
	}
	c.api = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(cfg.EndpointURL)
		}
		o.UsePathStyle = cfg.PathStyle
		// The retryer above carries MaxAttempts; AWS_MAX_ATTEMPTS would
		// otherwise override it.
		o.RetryMaxAttempts = 0
		// Ranged and multipart GETs have no whole-object checksum; that is
		// expected, not worth a warning per object.
		o.DisableLogOutputChecksumValidationSkipped = true
		if cfg.WrapHTTPClient != nil {
			o.HTTPClient = cfg.WrapHTTPClient(o.HTTPClient)
		}
		// Outermost, so that a test's wrapper that holds a request is
		// timed out like a server that does.
		o.HTTPClient = &timeoutClient{next: o.HTTPClient, request: cfg.RequestTimeout, stall: cfg.StallTimeout}
	})
	return c, nil
}

func (cfg *S3Config) setDefaults() error {
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultS3MaxAttempts
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultS3MaxBackoff
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultS3PartSize
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultS3Concurrency
	}
	if cfg.MaxResumes == 0 {
		cfg.MaxResumes = DefaultS3MaxResumes
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultS3ConnectTimeout
	}
	if cfg.TLSHandshakeTimeout == 0 {
		cfg.TLSHandshakeTimeout = DefaultS3TLSHandshakeTimeout
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultS3RequestTimeout
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultS3StallTimeout
	}
	switch {
	case cfg.MaxAttempts < 1:
		return fmt.Errorf("s3: max attempts %d: must be at least 1", cfg.MaxAttempts)
	case cfg.PartSize < MinS3PartSize || cfg.PartSize > MaxS3PartSize:
		return fmt.Errorf("s3: part size %d: must be between %d (5 MiB) and %d (5 GiB)", cfg.PartSize, MinS3PartSize, int64(MaxS3PartSize))
	case cfg.Concurrency < 1:
		return fmt.Errorf("s3: concurrency %d: must be at least 1", cfg.Concurrency)
	case cfg.MaxBackoff < 0 || cfg.ConnectTimeout < 0 || cfg.TLSHandshakeTimeout < 0 ||
		cfg.RequestTimeout < 0 || cfg.StallTimeout < 0:
		return errors.New("s3: negative timeout")
	}
	switch cfg.SSE {
	case SSENone, SSEAES256:
		if cfg.SSEKMSKeyID != "" {
			return fmt.Errorf("s3: an SSE KMS key ID needs --sse %s", SSEKMS)
		}
	case SSEKMS:
	default:
		return fmt.Errorf("s3: server-side encryption %q: want %s or %s", cfg.SSE, SSEAES256, SSEKMS)
	}
	if cfg.ExpectedBucketOwner != "" && !accountIDPattern.MatchString(cfg.ExpectedBucketOwner) {
		return fmt.Errorf("s3: expected bucket owner %q: want a 12-digit AWS account ID", cfg.ExpectedBucketOwner)
	}
	if cfg.EndpointURL != "" {
		u, err := url.Parse(cfg.EndpointURL)
		if err != nil {
			// The text may hold a secret: never echo it.
			return errors.New("s3: endpoint URL does not parse: want http(s)://host[:port]")
		}
		// Only scheme and host are ever shown: user info may be a token
		// with or without a password.
		shown := u.Scheme + "://" + u.Host
		if u.User != nil {
			return fmt.Errorf("s3: endpoint URL %s: credentials do not belong in the URL; use the AWS credential chain", shown)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("s3: endpoint URL %s: want http(s)://host[:port]", shown)
		}
	}
	return nil
}

// httpClient builds the SDK's BuildableClient with bounded network waits and
// the extra trusted certificates.
func (cfg *S3Config) httpClient() (*awshttp.BuildableClient, error) {
	var roots *x509.CertPool
	if len(cfg.CACertsPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cfg.CACertsPEM) {
			return nil, errors.New("s3: no PEM certificate in the extra CA certificates")
		}
		roots = pool
	}
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = cfg.ConnectTimeout
		}).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = cfg.TLSHandshakeTimeout
			tr.ResponseHeaderTimeout = cfg.StallTimeout
			tr.MaxIdleConnsPerHost = s3MaxIdleConnsPerHost
			if roots != nil {
				if tr.TLSClientConfig == nil {
					tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				}
				tr.TLSClientConfig.RootCAs = roots
			}
		}).
		// Not the SDK's per-connection read timeout: it also runs while a
		// request body is being sent, so it would fail a part upload that
		// takes longer than the timeout. ResponseHeaderTimeout starts once
		// the request is sent, timeoutClient bounds each attempt by its
		// kind, and s3Reader watches GetObject bodies.
		WithReadTimeout(0), nil
}

// sdkLogger passes the SDK's messages (warnings only: request logging is
// off) to log.
func sdkLogger(log *slog.Logger) logging.Logger {
	if log == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk")
	})
}

// ParseS3URL splits "s3://bucket/prefix" into its bucket and key prefix
// (possibly empty). ok is false for anything else, including a URL without a
// bucket.
func ParseS3URL(s string) (bucket, prefix string, ok bool) {
	rest, found := strings.CutPrefix(s, "s3://")
	if !found {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" || strings.ContainsFunc(bucket, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", "", false
	}
	if strings.ContainsAny(prefix, "\x00") {
		return "", "", false
	}
	return bucket, prefix, true
}

// s3URL names an object or prefix for messages.
func s3URL(bucket, key string) string { return "s3://" + bucket + "/" + key }

// wrapErr adds what was done, to what, and where, to an SDK error, plus a
// hint where the cause is likely one of our settings. The SDK's error already
// names the request URL; it never contains credentials or signatures.
func (c *S3Client) wrapErr(op, target string, err error) error {
	hint := ""
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "Forbidden":
			if c.cfg.ExpectedBucketOwner != "" {
				hint = fmt.Sprintf(" (is the bucket owned by account %s, the expected bucket owner?)", c.cfg.ExpectedBucketOwner)
			}
		case "NoSuchKey", "NotFound":
			err = notExistError{err}
		}
	}
	return fmt.Errorf("%s %s at %s: %w%s", op, target, c.where, err, hint)
}

// notExistError makes a missing object match fs.ErrNotExist, as a missing
// local file does.
type notExistError struct{ error }

func (e notExistError) Unwrap() error        { return e.error }
func (e notExistError) Is(target error) bool { return target == fs.ErrNotExist }

// apiErrorCode returns the S3 error code in err, or "".
func apiErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// expectedOwner returns the ExpectedBucketOwner parameter for a request.
func (c *S3Client) expectedOwner() *string {
	if c.cfg.ExpectedBucketOwner == "" {
		return nil
	}
	return aws.String(c.cfg.ExpectedBucketOwner)
}

func (c *S3Client) warn(msg string, args ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log.Warn(msg, args...)
	}
}
