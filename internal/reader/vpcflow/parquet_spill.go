package vpcflow

import (
	"errors"
	"fmt"
	"io"
	"os"

	"convert/internal/reader"
)

// DefaultMaxParquetBytes bounds a Parquet object that is spilled to a
// temporary file. AWS delivers flow logs every 5 minutes per flow log (the
// 2023 guide gave 75 MB as the largest log file); a larger object is someone
// else's file, and filling the task's disk with it helps no one.
const DefaultMaxParquetBytes = 1 << 30

// ErrParquetTooLarge means a Parquet object is larger than the spill bound.
var ErrParquetTooLarge = errors.New("parquet object larger than the spill bound")

// SpillConfig says where and how much of a Parquet stream may be spilled.
type SpillConfig struct {
	// Dir holds the temporary file (os.TempDir() if empty).
	Dir string
	// MaxBytes bounds the object (DefaultMaxParquetBytes if 0).
	MaxBytes int64
}

// OpenParquetStream reads a Parquet object from a stream. Parquet keeps its
// schema and row-group offsets in a footer, so the stream is first copied to
// a temporary file (a stream from S3 is read once, front to back, with the
// storage package's retries), then read from there row group by row group.
// The file is removed when the reader is released; on Unix it is unlinked at
// once, so a killed process leaves nothing behind. A stream longer than
// cfg.MaxBytes fails with ErrParquetTooLarge before the disk fills.
func OpenParquetStream(r io.Reader, spill SpillConfig, cfg ParquetConfig) (*ParquetReader, error) {
	if spill.MaxBytes <= 0 {
		spill.MaxBytes = DefaultMaxParquetBytes
	}
	f, err := os.CreateTemp(spill.Dir, ".convert-parquet-input-*")
	if err != nil {
		return nil, fmt.Errorf("%s: spilling Parquet input: %w", cfg.Object, err)
	}
	name := f.Name()
	unlinked := os.Remove(name) == nil // fails on Windows while the file is open
	closer := func() error {
		err := f.Close()
		if !unlinked {
			err = errors.Join(err, os.Remove(name))
		}
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, spill.MaxBytes+1))
	if err == nil && n > spill.MaxBytes {
		err = fmt.Errorf("%w (%d bytes)", ErrParquetTooLarge, spill.MaxBytes)
	}
	if err != nil {
		closer()
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: spilling Parquet input: %w", cfg.Object, err)
		}
		return nil, &reader.ParseError{Object: cfg.Object, Err: err}
	}
	rd, err := NewParquetReader(f, cfg)
	if err != nil {
		closer()
		return nil, err
	}
	rd.closer = closer
	return rd, nil
}
