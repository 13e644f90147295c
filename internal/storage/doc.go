// Package storage is the small interface between convert and where objects
// live: a Source lists and opens input objects, a Sink writes output objects
// so that nothing is visible under its final name until it is complete. The
// local file system implements both here; S3 implements the same interfaces.
//
// Every output name goes through CleanRel, which refuses absolute paths and
// "..", so an object key can never make convert write outside its output.
package storage
