package s3test

import (
	"bytes"
	"context"
	"io"
	"testing"

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
