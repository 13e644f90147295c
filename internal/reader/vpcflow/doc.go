// Package vpcflow reads VPC Flow Logs in AWS's text format (space-separated
// fields, optionally gzip-compressed, with or without a header line) as Arrow
// record batches.
//
// The columns of an object come from its header line, in the order and subset
// the flow log was configured with; a headerless object takes its field list
// from Config.Fields. A header line repeated mid-object (concatenated files) is
// recognised and skipped; one with a different field list starts a new layout.
// "-" is NULL in every column. A line whose field count does not match its
// header, or whose numeric field is not an integer of the column's width, is
// rejected whole through Config.Reject; it never yields a partial row.
package vpcflow
