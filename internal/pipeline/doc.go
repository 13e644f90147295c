// Package pipeline runs a conversion: it lists the input, groups objects into
// units, decodes objects on a pool of workers, writes each unit's rows through
// its own partitioned Parquet writer, and commits a unit's files only when all
// of its objects were read to the end. It produces the run Summary.
//
// # Units
//
// A unit is a run of consecutive objects (in listing order) that share an
// account, region and key date, holding about Config.UnitBytes of compressed
// input. A unit's output files are named after a hash of its objects' keys and
// sizes, so the same input always produces the same file names: running the
// same command twice overwrites rather than duplicates. A unit's files and
// rejects file are committed together after its last object ended cleanly;
// a run that fails leaves no file of an unfinished unit visible.
//
// # Concurrency and memory
//
// Objects are decoded by Config.Workers goroutines. Each object streams its
// batches through a small channel to the unit that owns it, and a unit reads
// its objects strictly in order, so the rows of every file are deterministic
// however the decoding was scheduled. Units run Config.Workers at a time; the
// first unfinished units are always the active ones, which rules out deadlock
// between decoders waiting on full channels and units waiting on objects.
// Memory is bounded by the channel capacities, the batch size, the open-file
// cap and the row-group Budget (each running unit has its own share, so that
// the bytes of its files do not depend on other units' timing), never by the
// size of the input.
//
// # Bad objects
//
// A corrupt or truncated object fails the run, naming it. With
// Config.SkipBadObjects the unit that held it is discarded and redone without
// it, so none of its rows are written; it is listed in the summary.
package pipeline
