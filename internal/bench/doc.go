// Package bench measures a conversion the way issue 2 states its targets: in
// MB/s of uncompressed input (10^6 bytes per second), against the speed of
// plain gzip decompression of the same files in the same run (the floor), and
// by the peak resident set size of the conversion alone.
//
// It owns the measurement, not the conversion: Measure takes the conversion
// as a callback, so the CLI (`convert bench`) and Go benchmarks can time any
// kind with the same harness. GunzipFloor, the peak-RSS meter (StartRSS) and
// ListFiles are usable on their own.
package bench
