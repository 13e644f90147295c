package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"convert/internal/pipeline"
	"convert/internal/storage"
)

// A conversion of a local tree of flow logs: the records of each day go to
// that day's partition, and the summary balances.
func ExampleRun() {
	in, _ := os.MkdirTemp("", "example-in-")
	out, _ := os.MkdirTemp("", "example-out-")
	defer os.RemoveAll(in)
	defer os.RemoveAll(out)
	logs := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1638575990 1638576050 ACCEPT OK\n" +
		"2 123456789012 eni-0a1b2c3d 10.0.0.2 10.0.0.1 49152 443 6 12 1020 1638662400 1638662460 ACCEPT OK\n" +
		"not a flow log line\n"
	_ = os.WriteFile(filepath.Join(in, "flows.log"), []byte(logs), 0o644)

	s, err := pipeline.Run(context.Background(), pipeline.Config{
		Kind:           &pipeline.FlowLogs{},
		Source:         &storage.LocalSource{Root: in},
		Sink:           &storage.LocalSink{Root: out},
		MaxRejectRatio: -1, // the example has a bad line among three
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Status, "read", s.RecordsRead, "written", s.RecordsWritten, "rejected", s.RecordsRejected, "balanced", s.Balanced)
	fmt.Println(s.Partitions)
	// Output:
	// ok read 3 written 2 rejected 1 balanced true
	// [year=2021/month=12/day=03 year=2021/month=12/day=05]
}

// The registered kinds, as the commands and verify see them.
func ExampleKinds() {
	for _, k := range pipeline.Kinds() {
		d := k.Describe()
		fmt.Printf("%s: %s, table %s, partitioned by %v\n", d.Name, d.Title, d.Table, d.Partitions)
	}
	// Output:
	// flowlogs: VPC Flow Logs, table flow_logs_parquet, partitioned by [year month day]
	// cloudtrail: CloudTrail logs, table cloudtrail_logs_parquet, partitioned by [account region year month day]
	// s3access: S3 server access logs, table s3_access_logs_parquet, partitioned by [year month day]
}
