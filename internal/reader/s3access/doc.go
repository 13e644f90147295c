// Package s3access reads Amazon S3 server access logs (AWS's text format: one
// request per line, space-separated fields, a bracketed time and quoted
// request-URI, referrer and user agent) as Arrow record batches with the
// schema of schema.S3AccessSchema.
//
// It owns the tokenizer of an access-log line and the parsing of the request
// time (RequestTime), which the pipeline uses to partition rows by day. It
// does not decompress, list or partition anything. A Reader has the methods
// the pipeline's per-kind reader needs besides array.RecordReader: Counts and
// Warnings.
//
// Rules, from docs/formats.md §3:
//   - "-" is NULL in every column, quoted ("-") or not, bigint columns too.
//   - The time is kept exactly as written inside the brackets.
//   - Surrounding quotes are removed; quotes inside a value are kept. AWS does
//     not escape them, so a quoted field ends at the '"' after which the rest
//     of the line still has the shape of an access-log line (see splitLine).
//   - A line needs the 18 fields AWS's own Athena regex requires (through
//     versionid); the 9 later fields are optional and NULL when absent, and
//     fields after the 27th (sourceregion) are ignored and counted.
//   - A line with too few fields, a bytessent or objectsize that is not a
//     non-negative integer, or a time that is not dd/Mon/yyyy:hh:mm:ss ±hhmm
//     is rejected whole through Config.Reject; it never yields a partial row.
package s3access
