// Package cloudtrail reads CloudTrail logs (already decompressed JSON) as
// Arrow record batches of schema.CloudTrailSchema: the documented Athena
// cloudtrail_logs table plus the lossless unmappedfields column.
//
// # Input shapes
//
// A log file as CloudTrail delivers it, {"Records":[…]}, is streamed: the
// reader walks the tokens to the Records array and decodes one record at a
// time, so memory is bounded by the batch and by Config.MaxRecordBytes, never
// by the file. Other top-level members of a log file are skipped (and named
// in Warnings). Event objects one after another (NDJSON, as test fixtures
// and log shippers write them) and a bare JSON array of events are read too,
// as is an event carried as a JSON string in a "_raw" member (Cribl). A
// CloudTrail-Digest file yields no rows and IsDigest reports it. Any other
// top-level shape fails with an error wrapping reader.ErrNotLogObject.
//
// # Mapping
//
// Record keys match columns ASCII case-insensitively (accountId, accountid).
// A string column takes a JSON string's content; a number, boolean, object
// or array becomes its JSON text ("true", "123", {"a":1}); null is NULL.
// The JSON-text columns (schema.CloudTrailJSONColumns: requestparameters,
// responseelements, additionaleventdata, serviceeventdetails,
// edgedevicedetails) keep the record's own bytes, only stripped of
// insignificant whitespace, so numbers and escapes are exactly as CloudTrail
// wrote them. A missing field is NULL; a missing eventTime is NULL too, and
// the caller partitions such a row by the object key's date.
//
// Nothing is dropped: a member without a column (managementEvent,
// eventContext, insightDetails, userIdentity.sessionContext.sourceIdentity,
// tlsDetails.keyExchange, fields added later), a second spelling of a key
// already seen, and a value whose shape cannot fill its column (a string
// where the table has a struct) go to unmappedfields, a JSON object that
// holds exactly those members at their original paths and spelling (see
// schema.CloudTrailSchema). Invalid UTF-8 becomes U+FFFD, as encoding/json
// decodes it.
//
// # Bad input
//
// A record is decoded completely, and checked, before anything is appended,
// so a bad record never leaves a partial row. A record that cannot become a
// row goes to Config.Reject with its 1-based index in the object as Line, a
// reason and its bytes (at most reader.MaxRejectRawBytes): a record that is
// not a JSON object or has no CloudTrail field, one larger than
// MaxRecordBytes (skipped without being buffered) or nested deeper than
// MaxDepth, and, between events one per line, a line that is not valid JSON.
// Inside a Records array, broken JSON breaks the framing: the reader stops
// with an error wrapping reader.ErrCorruptObject, as it does for input that
// ends inside a value (a truncated object). Stats().Records always equals
// Rows + Rejected.
//
// # Speed
//
// The JSON is scanned by a purpose-built strict scanner (scan.go) rather than
// a general decoder: it validates every byte as RFC 8259 requires, keeps the
// JSON-text columns as byte spans of the input instead of building and
// re-encoding values, and matches keys without reflection. It is tested and
// fuzzed against encoding/json. bench_test.go compares it with encoding/json
// and github.com/goccy/go-json decoding the same records into structs.
package cloudtrail
