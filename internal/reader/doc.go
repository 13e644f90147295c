// Package reader holds what every log-kind reader shares: opening an object's
// bytes (gzip detected by magic bytes), splitting them into bounded lines,
// positioned parse errors with sentinels, and the Reject record that carries a
// bad line to the rejects file.
//
// The kind-specific readers live in sub-packages (vpcflow, ...). Each is an
// array.RecordReader: a pull iterator of Arrow record batches over one object.
// They start no goroutines, append a row only after it parsed fully, and report
// every line they do not turn into a row through a RejectFunc, so that the
// caller can keep records read = written + rejected.
package reader
