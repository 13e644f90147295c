package writer_test

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/storage"
	"convert/internal/writer"
)

// Batches go to one file per Hive partition; nothing is visible until
// Commit.
func ExamplePartitioned() {
	root, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(root)
	sc := arrow.NewSchema([]arrow.Field{{Name: "action", Type: arrow.BinaryTypes.String}}, nil)
	batch := func(vals ...string) arrow.RecordBatch {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues(vals, nil)
		col := b.NewArray()
		defer col.Release()
		return array.NewRecordBatch(sc, []arrow.Array{col}, int64(len(vals)))
	}

	p := writer.NewPartitioned(writer.PartitionedConfig{
		Sink:  &storage.LocalSink{Root: root},
		Stem:  "unit1", // the unit's id: the same input makes the same names
		Order: func(f []arrow.Field) []arrow.Field { return f },
	})
	ctx := context.Background()
	for _, w := range []struct {
		partition string
		vals      []string
	}{{"year=2024/month=05/day=01", []string{"ACCEPT", "REJECT"}}, {"year=2024/month=05/day=02", []string{"ACCEPT"}}} {
		rec := batch(w.vals...)
		if err := p.Write(ctx, w.partition, rec); err != nil {
			fmt.Println(err)
		}
		rec.Release()
	}
	files, err := p.Finish()
	if err == nil {
		err = p.Commit()
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Println(f.Path, f.Rows, "rows")
	}
	// Output:
	// year=2024/month=05/day=01/part-unit1-00000.snappy.parquet 2 rows
	// year=2024/month=05/day=02/part-unit1-00000.snappy.parquet 1 rows
}
