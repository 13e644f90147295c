package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/stretchr/testify/require"
)

func TestIsTransient(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"marked", fmt.Errorf("listing: %w", ErrTransient), true},
		{"the SDK gave up retrying", fmt.Errorf("listing s3://b/p: %w", &retry.MaxAttemptsError{Attempt: 5, Err: errors.New("api error SlowDown")}), true},
		{"read stalled", fmt.Errorf("%w: no data for 1m0s", errReadStalled), true},
		{"body cut short", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{"connection refused", fmt.Errorf("get: %w", refused), true},
		{"no such host", &net.DNSError{Err: "no such host", Name: "bucket.s3.example", IsNotFound: true}, false},
		{"cancelled", fmt.Errorf("listing: %w", context.Canceled), false},
		{"cancelled while the SDK retried", fmt.Errorf("listing: %w: %w", context.Canceled, refused), false},
		{"missing object", notExistError{errors.New("NoSuchKey")}, false},
		{"changed object", fmt.Errorf("%w: etag", ErrObjectChanged), false},
		{"not found", fs.ErrNotExist, false},
		{"a missing local file", fmt.Errorf("--in: %w", &fs.PathError{Op: "stat", Path: "/nosuch", Err: syscall.ENOENT}), false},
		{"anything else", errors.New("corrupt object"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, IsTransient(tc.err))
		})
	}
}
