package pipeline

import "convert/internal/writer"

// The tests write what convert writes (and as fast).
func init() { writer.UseFastSnappy() }
