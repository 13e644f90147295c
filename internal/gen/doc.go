// Package gen writes realistic, deterministic AWS log data sets for tests and
// benchmarks: the same configuration always gives byte-identical files, on
// any number of cores.
//
// Each log kind has its own file: flowlogs.go (VPC Flow Logs, identifiers
// prefixed fl), cloudtrail.go (ct) and s3access.go (s3a). common.go holds the
// small pieces they share: seeded random streams (NewRand), AWS-style hex
// suffixes (AppendHex, RandomHex), a deterministic gzip file writer
// (FileWriter) and a parallel loop over file indexes (ForEach).
//
// Generators stream: a file is written as it is generated, through a small
// buffer, so memory stays bounded whatever the data set size. Files are laid
// out under AWSLogs/ the way AWS delivers them to S3, so that the converter
// can be pointed at the directory unchanged.
package gen
