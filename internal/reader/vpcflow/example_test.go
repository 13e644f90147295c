package vpcflow_test

import (
	"fmt"
	"strings"

	"convert/internal/reader"
	"convert/internal/reader/vpcflow"
)

// A reader takes its columns from the header line and hands out Arrow
// batches; a line that does not parse is a reject with its line number.
func ExampleNewReader() {
	in := "version srcaddr dstport action\n" +
		"2 10.0.0.1 443 ACCEPT\n" +
		"2 10.0.0.2 - REJECT\n" +
		"2 10.0.0.3 https ACCEPT\n"
	rd, err := vpcflow.NewReader(strings.NewReader(in), vpcflow.Config{
		Object: "example.log",
		Reject: func(r reader.Reject) { fmt.Printf("rejected %s line %d: %s\n", r.Object, r.Line, r.Reason) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rd.Release()
	for rd.Next() {
		rec := rd.RecordBatch()
		fmt.Println(rec.Schema().Field(2).Name, rec.Schema().Field(2).Type, rec.NumRows(), "rows")
		fmt.Println(rec.Column(2))
	}
	if err := rd.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// rejected example.log line 4: column dstport: not an integer: "https"
	// dstport int32 2 rows
	// [443 (null)]
}
