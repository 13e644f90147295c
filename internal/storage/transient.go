package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// ErrTransient marks a storage failure that a later attempt may not meet.
// Wrap it (fmt.Errorf("…: %w", ErrTransient)) where a failure is known to be
// transient but carries none of the errors IsTransient recognises.
var ErrTransient = errors.New("storage: transient failure")

// IsTransient reports whether err is a storage or network failure that a
// later run may well not meet, after the SDK's own retries: the SDK gave up
// retrying an error it retries (throttling, 5xx, refused or reset
// connections, timeouts), or an S3 read stalled or was cut short. Bad input,
// access denied, a missing bucket or key and cancellation are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var maxAttempts *retry.MaxAttemptsError
	switch {
	case errors.Is(err, ErrTransient), errors.As(err, &maxAttempts), errors.Is(err, errReadStalled):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// A signal or a caller's deadline: the caller decides.
		return false
	}
	// A local file's error (a missing --in, say) is not a network failure,
	// although its syscall.Errno satisfies net.Error.
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	if errors.As(err, &pathErr) || errors.As(err, &linkErr) {
		return false
	}
	// As the SDK decides: the first check that knows the error answers.
	for _, r := range retry.DefaultRetryables {
		if v := r.IsErrorRetryable(err); v != aws.UnknownTernary {
			return v == aws.TrueTernary
		}
	}
	return isTransientReadError(err)
}
