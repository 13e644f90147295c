package storage

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"convert/internal/s3test"
)

// benchObjectSize is the size of the object each benchmark iteration writes
// or reads.
const benchObjectSize = 256 << 20

// BenchmarkS3 measures S3Sink writes (multipart, default part size and
// concurrency) and S3Source reads against versitygw on loopback:
//
//	go test -run '^$' -bench BenchmarkS3 -benchtime 3x ./internal/storage/
func BenchmarkS3(b *testing.B) {
	for _, scheme := range []string{"http", "https"} {
		b.Run(scheme, func(b *testing.B) {
			srv := s3test.Start(b, scheme == "https")
			e := newS3Env(b, srv, "bench", nil)
			sink := &S3Sink{Client: e.client, Bucket: "bench", Prefix: "out"}
			chunk := randomBytes(1<<20, 42)
			write := func(b *testing.B) {
				f, err := sink.Create(context.Background(), "big.bin")
				require.NoError(b, err)
				for range benchObjectSize / len(chunk) {
					_, err := f.Write(chunk)
					require.NoError(b, err)
				}
				require.NoError(b, f.Commit())
			}
			b.Run("write", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(benchObjectSize)
				for b.Loop() {
					write(b)
				}
			})
			b.Run("read", func(b *testing.B) {
				write(b)
				src := &S3Source{Client: e.client, Bucket: "bench", Prefix: "out/big.bin"}
				var obj Object
				require.NoError(b, src.List(context.Background(), func(o Object) error { obj = o; return nil }))
				require.Equal(b, int64(benchObjectSize), obj.Size)
				b.ReportAllocs()
				b.SetBytes(benchObjectSize)
				b.ResetTimer()
				for b.Loop() {
					rc, err := src.Open(context.Background(), obj)
					require.NoError(b, err)
					n, err := io.Copy(io.Discard, rc)
					require.NoError(b, err)
					require.Equal(b, int64(benchObjectSize), n)
					require.NoError(b, rc.Close())
				}
			})
		})
	}
}
