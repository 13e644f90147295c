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
// # Exactly once
//
// The ledger under LedgerDir records, per committed unit, the source objects
// it converted (key, size, ETag) and the files holding their rows. A local
// object's key is its resolved absolute path, so the spelling of --in does
// not change identity. A unit commits through a pending record, its files
// and its ledger record (the commit point); the record also names the
// earlier units it supersedes (those holding rows of the same objects), and
// they are removed afterwards. Whoever finds a pending record without a
// ledger record, or a superseded unit still present, finishes the job before
// converting anything: after any crash, the next run, full or incremental,
// ends with every record once. Verify reports units that hold the same
// objects without one superseding the other.
//
// # Runs side by side
//
// Two runs must not change the same part of an output at once: one could
// undo the other's pending commit, or both could commit the same objects
// under different units. Each run therefore holds a lease on its Scope (key
// days and work-item key ranges) in LedgerDir/<kind>/leases/. It writes its
// lease, then lists the others, and withdraws with ErrOutputBusy when a live
// one overlaps. With a listing that shows every write completed before it
// began (S3, file systems), of two overlapping runs the later to announce
// sees the earlier, so they never both go on; no conditional write is
// needed. Leases are renewed every leaseRenew and die after LeaseTTL without
// renewal, or at once when their process is gone on the same host. A run
// commits nothing once its lease may have expired. Runs of disjoint days and
// the items of one plan run side by side.
//
// # Concurrency and memory
//
// A dispatcher lists the input and cuts it into units, in listing order;
// Config.Workers units run at once. A running unit has two goroutines: one
// decodes its objects strictly one after the other and streams their
// batches and rejects through a small channel (unitQueue messages) to the
// other, which partitions and writes them, so decoding overlaps with
// encoding and the rows of every file are in a deterministic order however
// the units were scheduled. Nothing is shared between units but the
// run-wide byte gate (inFlightBytes of decoded batches waiting to be
// written, counted at their buffers' capacity), the readers' buffer pools
// and the counters. Memory is bounded by the gate, the batch size, the
// pools, the open-file cap and the row-group Budget (each running unit has
// its own share, so that the bytes of its files do not depend on other
// units' timing), never by the size of the input.
//
// The code follows these seams: units.go (selection, listing, units),
// decode.go (an object's reader to messages), unitwriter.go (messages to a
// unit's partitioned files), commit.go and ledger.go (the commit protocol and
// the ledger), lease.go, progress.go and summary.go, and run.go, which ties
// them together; kind.go and one file per kind (flowlogs.go, cloudtrail.go,
// s3access.go) hold what differs between kinds; plan.go, prune.go and
// verify.go serve the plan and verify commands.
//
// # Bad objects
//
// A corrupt or truncated object fails the run, naming it. With
// Config.SkipBadObjects the unit that held it is discarded and redone without
// it, so none of its rows are written; it is listed in the summary.
//
// # Compaction
//
// Compact (compact.go, compact_read.go) rewrites the files of a key day's
// committed units into as few files as its target size allows and commits
// them through commitUnit as one unit marked Compaction, holding every object
// of those units: its Supersedes retires them, so the protocol above keeps
// every row once through any crash. Files are read by range and streamed row
// group by row group. Flow logs that AWS delivered as Parquet are read by
// flowlogs_parquet.go (vpcflow.ParquetReader over a spilled temporary file).
package pipeline
