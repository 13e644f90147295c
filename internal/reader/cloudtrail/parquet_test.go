package cloudtrail

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/schema"
	"convert/internal/writer"
)

// TestParquetRoundTrip writes the testdata log's batches with the project's
// writer properties, reads the file back with pqarrow and with parquet-go (an
// independent reader), and compares values and the Parquet schema: resources
// is a 3-level LIST and the attributes a MAP.
func TestParquetRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const src = "111122223333_CloudTrail_us-east-1_20240501T1205Z_k9Xw2LpQmR4tZs7A.json"
	f, err := os.Open(filepath.Join(testdataDir, filepath.FromSlash(testdataFiles[src])))
	require.NoError(t, err)
	dec, err := reader.Decode(f)
	require.NoError(t, err)
	defer dec.Close()

	sc := schema.CloudTrailSchema()
	props, err := writer.NewWriterProperties(sc, writer.Options{Mem: mem})
	require.NoError(t, err)
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	require.NoError(t, err)
	rd, err := NewReader(dec, Config{Object: src, ChunkRows: 3, Mem: mem})
	require.NoError(t, err)
	var want []map[string]any
	for rd.Next() {
		want = append(want, recordRows(rd.RecordBatch())...)
		require.NoError(t, fw.Write(rd.RecordBatch()))
	}
	require.NoError(t, rd.Err())
	rd.Release()
	require.NoError(t, fw.Close())
	require.Len(t, want, 8)

	// pqarrow gives back every value.
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(buf.Bytes()), parquet.NewReaderProperties(mem),
		pqarrow.ArrowReadProperties{}, mem)
	require.NoError(t, err)
	defer tbl.Release()
	require.Equal(t, sc.NumFields(), tbl.Schema().NumFields())
	for i, f := range sc.Fields() {
		back := tbl.Schema().Field(i)
		require.Equal(t, f.Name, back.Name)
		require.True(t, arrow.TypeEqual(f.Type, back.Type), "%s: %s read back as %s", f.Name, f.Type, back.Type)
	}
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	var got []map[string]any
	for tr.Next() {
		got = append(got, recordRows(tr.RecordBatch())...)
	}
	require.Equal(t, want, got)

	// parquet-go sees the structure Athena expects.
	pf, err := pq.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.EqualValues(t, 8, pf.NumRows())
	root := pf.Schema()
	resources := fieldNamed(t, root, "resources")
	require.IsType(t, &format.ListType{}, resources.Type().LogicalType().Value)
	require.True(t, resources.Optional())
	require.Len(t, resources.Fields(), 1)
	list := resources.Fields()[0]
	require.Equal(t, "list", list.Name())
	require.True(t, list.Repeated())
	require.Len(t, list.Fields(), 1)
	element := list.Fields()[0]
	require.Equal(t, "element", element.Name())
	require.Equal(t, []string{"arn", "accountid", "type"}, fieldNames(element))
	attrs := fieldNamed(t, fieldNamed(t, fieldNamed(t, fieldNamed(t, root, "useridentity"), "sessioncontext"), "webidfederationdata"), "attributes")
	require.IsType(t, &format.MapType{}, attrs.Type().LogicalType().Value)
	require.Equal(t, "key_value", attrs.Fields()[0].Name())
	require.True(t, attrs.Fields()[0].Repeated())
	for _, f := range root.Fields() {
		require.Equal(t, strings.ToLower(f.Name()), f.Name())
	}

	// Its values, by leaf column path, match.
	rows := readParquetGo(t, pf)
	require.Len(t, rows, 8)
	for i, r := range rows {
		require.Equal(t, []string{want[i]["eventid"].(string)}, r["eventid"])
		var arns []string
		if res, ok := want[i]["resources"].([]any); ok {
			for _, e := range res {
				arns = append(arns, e.(map[string]any)["arn"].(string))
			}
		}
		require.Equal(t, arns, r["resources.list.element.arn"], "row %d", i)
		if u, ok := want[i]["unmappedfields"].(string); ok {
			require.Equal(t, []string{u}, r["unmappedfields"])
		}
	}
	require.Equal(t, []string{"token.actions.githubusercontent.com:aud", "token.actions.githubusercontent.com:sub"},
		rows[6]["useridentity.sessioncontext.webidfederationdata.attributes.key_value.key"])
	require.Equal(t, []string{"arn:aws:iam::111122223333:role/DataScientist"}, rows[2]["useridentity.sessioncontext.sessionissuer.arn"])
}

func fieldNamed(t *testing.T, n pq.Node, name string) pq.Field {
	t.Helper()
	for _, f := range n.Fields() {
		if f.Name() == name {
			return f
		}
	}
	t.Fatalf("no field %q in %v", name, fieldNames(n))
	return nil
}

func fieldNames(n pq.Node) []string {
	var out []string
	for _, f := range n.Fields() {
		out = append(out, f.Name())
	}
	return out
}

// readParquetGo reads every row with parquet-go: leaf column path → its
// non-null values in the row.
func readParquetGo(t *testing.T, f *pq.File) []map[string][]string {
	t.Helper()
	paths := f.Schema().Columns()
	var out []map[string][]string
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]pq.Row, 16)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				m := map[string][]string{}
				for _, v := range row {
					if !v.IsNull() {
						p := strings.Join(paths[v.Column()], ".")
						m[p] = append(m[p], v.String())
					}
				}
				out = append(out, m)
			}
			if err != nil {
				break
			}
		}
		require.NoError(t, rows.Close())
	}
	return out
}
