// Package schema owns the Arrow schemas that convert writes, one per log kind,
// and the rules that map a source field name to a Parquet column (name and
// type). The types follow the documented Athena tables so that a table created
// with those DDLs reads convert's output unchanged.
//
// It does not parse input and does not write files: readers use it to resolve
// a header into typed columns, and the writer uses it to order and merge the
// columns of one output file.
package schema
