package writer

// The tests write what convert writes.
func init() { UseFastSnappy() }
