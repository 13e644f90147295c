// Package report answers "who is using our traffic" from convert's Parquet
// output (convert report): the top source/destination pairs, internet
// traffic by internal address, remote address and remote AWS service, the
// NAT gateways' top contributors counted once, bytes per day and traffic
// class (flow logs); top download and copy IPs (S3 access logs); S3
// GetObject requests by identity and source IP (CloudTrail).
//
// Every table equals an Athena query over the same files, which the table
// carries (Table.SQL, and the README): the same rows, the same NULLs (a
// column a file lacks is NULL, as Athena reads it; sum() of no non-NULL
// value is NULL), and the same order, ties included: the first value
// descending, NULLs last, then the keys ascending by their bytes, NULLs
// last (Trino's order for varchar).
//
// Run lists only the partition folders of the day range (year=/month=/day=
// first: one listing per day; CloudTrail's account=/region=/ first: one
// listing, filtered by the day in the key), skips "_" and "." folders as
// Athena does, and reads only the columns it needs of each file with
// arrow-go's pqarrow (local files directly, S3 objects by ranged reads).
// Its group-bys are exact: each keeps at most Config.GroupBudget groups in
// memory, writes them sorted to a run file when there are more, and merges
// the runs at the end, so memory is bounded by the budget and not by the
// number of distinct addresses. Top-N selection keeps only N rows.
//
// WriteJSON, WriteTSV and WriteHTML print a Report; the HTML page is one
// self-contained file with SVG charts drawn here (no script, no external
// asset, a Content-Security-Policy that forbids loading any).
package report
