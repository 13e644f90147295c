// Package writer turns Arrow record batches into Parquet files that Athena
// reads: every Parquet option is set in NewWriterProperties; File cuts row
// groups by size and reports what it wrote; Partitioned routes batches to one
// open file per Hive partition (a few open at once; rows of partitions beyond
// them are spilled to a temporary Arrow IPC file and written at the end, so
// interleaved days still make one file each), rolls files at a target size,
// merges column sets, and commits or aborts all of its files together;
// Rejects writes the lines that did not become rows as gzip JSON lines.
//
// A file's batches go into arrow-go's buffered row group writer column by
// column, leaf by leaf for structs, lists and maps (flat.go, nested.go):
// string columns whose values the reader numbered (reader.Indexed) as
// dictionary indices, each distinct value hashed once per batch (dict.go),
// the rest through pqarrow.WriteArrowToColumn. Pages, dictionaries, RLE,
// statistics and the footer stay arrow-go's; for batches without numbers
// the bytes are those of pqarrow's FileWriter (TestNestedBytesMatchPqarrow).
//
// Nothing is visible under its final name until Commit: files are written to
// storage.File, which the sink publishes atomically.
package writer
