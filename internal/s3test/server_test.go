package s3test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// TestStart checks that a started server takes a signed upload and gives
// the same bytes back, over http and over https with the generated
// certificate (where the SDK sends aws-chunked trailing checksums).
func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		useTLS bool
	}{{"http", false}, {"https", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, tc.useTLS)
			require.Equal(t, tc.useTLS, s.CAPEM != nil)
			require.Contains(t, s.Endpoint, "127.0.0.1:")
			s.CreateBucket(t, "bkt")
			ctx := context.Background()
			c := s.Client()
			body := bytes.Repeat([]byte("s3test "), 1000)
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/b"), Body: bytes.NewReader(body)})
			require.NoError(t, err)
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/b")})
			require.NoError(t, err)
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			require.NoError(t, err)
			require.Equal(t, body, got)
		})
	}
}

// TestRestartAndProxy checks that a restarted server keeps its address and
// data, and that a proxy forwards, or holds the connections it is told to.
func TestRestartAndProxy(t *testing.T) {
	s := Start(t, true)
	s.CreateBucket(t, "bkt")
	ctx := context.Background()
	_, err := s.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("kept")})
	require.NoError(t, err)
	endpoint := s.Endpoint

	down := make(chan struct{})
	restarted := make(chan error, 1)
	go func() {
		close(down)
		restarted <- s.Restart(500 * time.Millisecond)
	}()
	<-down
	require.NoError(t, <-restarted)
	require.Equal(t, endpoint, s.Endpoint)
	get := func(c *s3.Client) (string, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}
	got, err := get(s.Client())
	require.NoError(t, err)
	require.Equal(t, "kept", got)

	p := StartProxy(t, s)
	proxied := func(timeout time.Duration) *s3.Client {
		return s3.NewFromConfig(aws.Config{Region: s.Region, Credentials: s.Credentials()}, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(p.Endpoint)
			o.UsePathStyle = true
			o.RetryMaxAttempts = 1
			o.HTTPClient = &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: s.tlsConfig()}}
		})
	}
	got, err = get(proxied(10 * time.Second))
	require.NoError(t, err)
	require.Equal(t, "kept", got)
	p.HangNext(1)
	_, err = get(proxied(300 * time.Millisecond))
	require.Error(t, err, "held")
	require.Equal(t, 1, p.Held())
	got, err = get(proxied(10 * time.Second))
	require.NoError(t, err, "only the next connection is held")
	require.Equal(t, "kept", got)
}
