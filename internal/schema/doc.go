// Package schema owns the Arrow schemas that convert writes, one per log kind,
// and the rules that map a source field name to a Parquet column (name and
// type). The types follow the documented Athena tables so that a table created
// with those DDLs reads convert's output unchanged.
//
// It does not parse input and does not write files: readers use it to resolve
// a header into typed columns; the pipeline's kinds use its column order
// (the writer merges and orders a file's columns with the kind's Order) and
// its documented schemas (convert ddl, convert verify). The format facts it
// follows are in docs/formats.md.
package schema
