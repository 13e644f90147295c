package writer

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"

	"convert/internal/reader"
	"convert/internal/storage"
)

// RejectsDir is the folder of rejects under the output root. Athena skips
// paths that start with "_".
const RejectsDir = "_rejects"

// rejectLine is one line of a rejects file. Raw holds the line as text when it
// is valid UTF-8; otherwise RawBase64 holds its exact bytes.
type rejectLine struct {
	Object    string `json:"object"`
	Line      int64  `json:"line,omitempty"`
	Record    int64  `json:"record,omitempty"`
	Reason    string `json:"reason"`
	Raw       string `json:"raw,omitempty"`
	RawBase64 string `json:"raw_base64,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Rejects writes rejected lines to one gzip JSON-lines file, created on the
// first reject. Like Parquet files, it is visible only after Commit.
type Rejects struct {
	sink storage.Sink
	rel  string
	out  storage.File
	bw   *bufio.Writer
	gz   *gzip.Writer
	enc  *json.Encoder
}

// NewRejects prepares a rejects file at rel (relative to the output root).
func NewRejects(sink storage.Sink, rel string) *Rejects {
	return &Rejects{sink: sink, rel: rel}
}

// Add writes one reject.
func (r *Rejects) Add(ctx context.Context, rj reader.Reject) error {
	if r.out == nil {
		out, err := r.sink.Create(ctx, r.rel)
		if err != nil {
			return fmt.Errorf("creating rejects file: %w", err)
		}
		r.out = out
		r.bw = bufio.NewWriterSize(out, 64<<10)
		r.gz = gzip.NewWriter(r.bw)
		r.enc = json.NewEncoder(r.gz)
		r.enc.SetEscapeHTML(false)
	}
	line := rejectLine{Object: rj.Object, Line: rj.Line, Record: rj.Record, Reason: rj.Reason, Truncated: rj.Truncated}
	if utf8.Valid(rj.Raw) {
		line.Raw = string(rj.Raw)
	} else {
		line.RawBase64 = base64.StdEncoding.EncodeToString(rj.Raw)
	}
	if err := r.enc.Encode(line); err != nil {
		return fmt.Errorf("writing rejects file: %w", err)
	}
	return nil
}

// Path returns the file's path, or "" if there were no rejects.
func (r *Rejects) Path() string {
	if r.out == nil {
		return ""
	}
	return r.rel
}

// Commit completes and publishes the file, if there is one.
func (r *Rejects) Commit() error {
	if r.out == nil {
		return nil
	}
	if err := r.gz.Close(); err != nil {
		r.out.Abort()
		return fmt.Errorf("writing rejects file: %w", err)
	}
	if err := r.bw.Flush(); err != nil {
		r.out.Abort()
		return fmt.Errorf("writing rejects file: %w", err)
	}
	return r.out.Commit()
}

// Abort discards the file.
func (r *Rejects) Abort() {
	if r.out != nil {
		r.out.Abort()
	}
}
