package s3test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Environment variables read by Start.
const (
	// EnvRequire set to "1" makes a missing versitygw fail the test instead
	// of skipping it; CI sets it so that S3 tests cannot silently vanish.
	EnvRequire = "CONVERT_REQUIRE_S3"
	// EnvBinary names the versitygw binary to run, overriding the search.
	EnvBinary = "CONVERT_VERSITYGW"
)

// Fixed test identity; the server only listens on loopback.
const (
	Region = "us-east-1"
	// AccessKey is also the owner of every bucket the server creates, as
	// versitygw reports it: it compares x-amz-expected-bucket-owner with
	// the creator's access key. It is 12 digits so that it can pass as the
	// AWS account ID that the header carries on AWS.
	AccessKey = "123456789012"
	SecretKey = "convert-test-secret"
)

const (
	installHint = "CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	// readyTimeout bounds the wait for a started server to answer; it is
	// ready in about 0.2 s on the project's machines.
	readyTimeout = 15 * time.Second
	// stopTimeout is how long a server gets to exit after SIGINT.
	stopTimeout = 5 * time.Second
	// startAttempts retries a start that lost the race for its free port.
	startAttempts = 3
	// maxServerOutput bounds the server output kept for failure messages.
	maxServerOutput = 64 << 10
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT or https://….
	Endpoint string
	// Region, AccessKey and SecretKey are the credentials it accepts.
	Region, AccessKey, SecretKey string
	// CAPEM is the PEM certificate to trust for an https server, and CAFile
	// the same in a file (for AWS_CA_BUNDLE); both are empty over http.
	CAPEM  []byte
	CAFile string
	// DataDir is the posix backend's directory: every sub-directory is a
	// bucket.
	DataDir string

	bin, certFile, keyFile string
	mu                     sync.Mutex // held while the process is swapped (Restart)
	cmd                    *exec.Cmd
	done                   chan struct{}
	out                    *cappedBuffer
}

// Binary returns the path of the versitygw binary to use, or an error saying
// how to install it.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var gopaths []string
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopaths = filepath.SplitList(strings.TrimSpace(string(out)))
	}
	if home, err := os.UserHomeDir(); err == nil {
		gopaths = append(gopaths, filepath.Join(home, "go"))
	}
	for _, gp := range gopaths {
		p := filepath.Join(gp, "bin", "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found on PATH, in $(go env GOPATH)/bin or in $%s; install it with: %s", EnvBinary, installHint)
}

// Start runs versitygw on a free loopback port with a fresh data directory,
// over https with a self-signed certificate if useTLS, and stops it when the
// test ends. Without the binary the test is skipped, or fails if
// CONVERT_REQUIRE_S3=1.
func Start(t testing.TB, useTLS bool) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("s3test: %v (%s=1 requires it)", err, EnvRequire)
		}
		t.Skipf("s3test: %v; set %s=1 to fail instead of skipping", err, EnvRequire)
	}
	dir := t.TempDir()
	s := &Server{Region: Region, AccessKey: AccessKey, SecretKey: SecretKey, DataDir: filepath.Join(dir, "data")}
	if err := os.Mkdir(s.DataDir, 0o755); err != nil {
		t.Fatalf("s3test: %v", err)
	}
	s.bin = bin
	if useTLS {
		s.certFile, s.keyFile, s.CAPEM, err = selfSignedCert(dir)
		if err != nil {
			t.Fatalf("s3test: %v", err)
		}
		s.CAFile = s.certFile
	}
	for attempt := 1; ; attempt++ {
		var addr string
		if addr, err = freePort(); err == nil {
			err = s.start(addr)
		}
		if err == nil {
			break
		}
		if attempt == startAttempts {
			t.Fatalf("s3test: starting %s: %v", bin, err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// start runs the server on addr (host:port).
func (s *Server) start(addr string) error {
	scheme := "http"
	args := []string{"--port", addr, "--quiet", "--keep-alive"}
	if s.certFile != "" {
		scheme = "https"
		args = append(args, "--cert", s.certFile, "--key", s.keyFile)
	}
	args = append(args, "posix", s.DataDir)
	s.Endpoint = scheme + "://" + addr
	s.out = &cappedBuffer{max: maxServerOutput}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Env = append(serverEnv(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.halt()
		return fmt.Errorf("%w; server output:\n%s", err, s.out.String())
	}
	return nil
}

// serverEnv is this process's environment without versitygw's own settings,
// so that a developer's VGW_* or ROOT_* variables cannot change the server.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// waitReady polls until the server answers any HTTP request.
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: s.tlsConfig()}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			return errors.New("versitygw exited before it was ready")
		default:
		}
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw at %s not ready after %v: %w", s.Endpoint, readyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart kills the server, as a crash or a host restart does (connections
// in flight are reset, new ones refused), waits down, and starts it again
// on the same address with the same data. It may run while clients use the
// server; it returns once the server answers again.
func (s *Server) Restart(down time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("s3test: restart of a server that is not running")
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	time.Sleep(down)
	addr := strings.TrimPrefix(strings.TrimPrefix(s.Endpoint, "https://"), "http://")
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err = s.start(addr); err == nil {
			return nil
		}
	}
	return fmt.Errorf("s3test: restarting versitygw on %s: %w", addr, err)
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halt()
}

// halt stops the process: SIGINT, then SIGKILL after stopTimeout.
func (s *Server) halt() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// tlsConfig trusts the server's certificate; nil over http.
func (s *Server) tlsConfig() *tls.Config {
	if s.CAPEM == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
}

// CertPool returns a pool holding only the server's certificate, or nil over
// http.
func (s *Server) CertPool() *x509.CertPool {
	if s.CAPEM == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	return pool
}

// Credentials returns a provider of the server's static credentials.
func (s *Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")
}

// Env returns the environment variables that point the AWS default
// credential chain of a child process (a convert binary under test) at this
// server: static keys, the region and, over https, AWS_CA_BUNDLE. The
// endpoint itself still has to be passed (--endpoint-url).
func (s *Server) Env() []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if s.CAFile != "" {
		env = append(env, "AWS_CA_BUNDLE="+s.CAFile)
	}
	return env
}

// Client returns a plain SDK client for the server, with the SDK's default
// checksum behaviour, for setting up and inspecting test state
// independently of the code under test.
func (s *Server) Client() *s3.Client {
	hc := awshttp.NewBuildableClient()
	if pool := s.CertPool(); pool != nil {
		hc = hc.WithTransportOptions(func(tr *http.Transport) {
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			tr.TLSClientConfig.RootCAs = pool
		})
	}
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  s.Credentials(),
		HTTPClient:   hc,
	})
}

// CreateBucket creates a bucket, failing the test on error.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: creating bucket %s: %v", name, err)
	}
}

// Output returns what the server printed so far (bounded), for failure
// messages.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// cappedBuffer keeps the first max bytes written to it.
type cappedBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}

// Upload puts every file under root into bucket, keyed by its path relative
// to root (slash-separated), and returns how many it put.
func (s *Server) Upload(t testing.TB, bucket, root string) int {
	t.Helper()
	c := s.Client()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		_, err = c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String(filepath.ToSlash(rel)), Body: bytes.NewReader(data)})
		return err
	})
	if err != nil {
		t.Fatalf("s3test: uploading %s: %v", root, err)
	}
	return n
}

// Download writes every object of bucket under prefix to dir (keys relative
// to prefix become paths) and returns those relative keys.
func (s *Server) Download(t testing.TB, bucket, prefix, dir string) []string {
	t.Helper()
	c := s.Client()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("s3test: listing %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatalf("s3test: getting %s: %v", aws.ToString(o.Key), err)
			}
			data, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatalf("s3test: reading %s: %v", aws.ToString(o.Key), err)
			}
			dest := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dest, data, 0o644); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, rel)
		}
	}
	return keys
}
