package vpcflow

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/reader"
)

// v5Fields is a custom format with every field of versions 2-5.
var v5Fields = []string{"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status", "vpc-id", "subnet-id",
	"instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr", "region", "az-id",
	"sublocation-type", "sublocation-id", "pkt-src-aws-service", "pkt-dst-aws-service",
	"flow-direction", "traffic-path"}

// generatedText is one generated flow-log file's text (header included).
func generatedText(t *testing.T, fields []string) []byte {
	t.Helper()
	dir := t.TempDir()
	st, err := gen.GenerateFlowLogs(gen.FlowLogsConfig{Dir: dir, Bytes: 600 << 10, Files: 1, Fields: fields, Seed: 7})
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, st.Paths[0]))
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	text, err := io.ReadAll(zr)
	require.NoError(t, err)
	return text
}

// columns reads every batch of rd into Go values by column name, and the
// column types by name.
func columns(t *testing.T, rd array.RecordReader) (map[string][]any, map[string]arrow.DataType) {
	t.Helper()
	vals := map[string][]any{}
	types := map[string]arrow.DataType{}
	for rd.Next() {
		rec := rd.RecordBatch()
		for i, f := range rec.Schema().Fields() {
			types[f.Name] = f.Type
			for r := 0; r < int(rec.NumRows()); r++ {
				vals[f.Name] = append(vals[f.Name], parquettest.Value(rec.Column(i), r))
			}
		}
	}
	return vals, types
}

// The same records as AWS-shaped Parquet (parquet-go, GZIP, INT_32 protocol,
// underscore names in name order, several row groups) and as text make the
// same rows with the same Arrow types.
func TestParquetMatchesText(t *testing.T) {
	for _, fields := range [][]string{nil, v5Fields} {
		text := generatedText(t, fields)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		tr, err := NewReader(bytes.NewReader(text), Config{Object: "text", Mem: mem})
		require.NoError(t, err)
		want, wantTypes := columns(t, tr)
		require.NoError(t, tr.Err())
		tr.Release()
		require.NotEmpty(t, want["srcaddr"])

		pqBytes := parquettest.AWSFlowLogParquet(t, text, 500)
		require.True(t, IsParquet(pqBytes))
		fixture := filepath.Join(t.TempDir(), "f.parquet")
		require.NoError(t, os.WriteFile(fixture, pqBytes, 0o644))
		meta := parquettest.Read(t, fixture)
		require.Contains(t, meta.Columns, parquettest.Column{Name: "protocol", Physical: "INT32", Logical: "Int(bitWidth=32, isSigned=true)"})
		require.Contains(t, meta.Columns, parquettest.Column{Name: "log_status", Physical: "BYTE_ARRAY", Logical: "String"})
		require.Equal(t, "GZIP", meta.Codecs[0])
		var rejects []reader.Reject
		pr, err := NewParquetReader(bytes.NewReader(pqBytes), ParquetConfig{Object: "obj.log.parquet", ChunkRows: 300, Mem: mem,
			Reject: func(r reader.Reject) { rejects = append(rejects, r) }})
		require.NoError(t, err)
		require.Greater(t, pr.pf.NumRowGroups(), 2)
		got, gotTypes := columns(t, pr)
		require.NoError(t, pr.Err())
		st := pr.Stats()
		pr.Release()
		mem.AssertSize(t, 0)

		require.Empty(t, rejects)
		require.Equal(t, int64(len(want["srcaddr"])), st.Rows)
		require.Equal(t, st.Records, st.Rows)
		require.Equal(t, len(wantTypes), len(gotTypes))
		for name, typ := range wantTypes {
			require.True(t, arrow.TypeEqual(typ, gotTypes[name]), "%s: text %s, Parquet %s", name, typ, gotTypes[name])
		}
		require.Equal(t, arrow.PrimitiveTypes.Int64, gotTypes["protocol"], "INT_32 protocol becomes the seed's bigint")
		require.Equal(t, want, got)
		// NODATA rows: NULL ports from Parquet NULLs, NULL action from "-".
		nodata := 0
		for i, s := range got["log_status"] {
			if s == "NODATA" || s == "SKIPDATA" {
				nodata++
				require.Nil(t, got["srcport"][i])
				require.Nil(t, got["action"][i])
			}
		}
		require.NotZero(t, nodata)
	}
}

// writeArrowParquet writes one batch of columns as a Parquet file with arrow-go.
func writeArrowParquet(t *testing.T, fields []arrow.Field, cols []arrow.Array) []byte {
	t.Helper()
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, cols, int64(cols[0].Len()))
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(sc, &buf, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Gzip)),
		pqarrow.NewArrowWriterProperties())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// Values that do not fit their column reject the row (object, row number,
// reason, the row as text); others are converted; unknown columns become
// strings.
func TestParquetCastsAndRejects(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	b64 := array.NewInt64Builder(mem)
	b64.AppendValues([]int64{80, 1 << 40, 443, 22}, nil)
	srcport := b64.NewArray()
	bs := array.NewStringBuilder(mem)
	bs.AppendValues([]string{"6", "6", "tcp", "-"}, nil)
	protocol := bs.NewArray()
	bu := array.NewUint64Builder(mem)
	bu.AppendValues([]uint64{1, 2, 3, 1 << 63}, nil)
	packets := bu.NewArray()
	bi := array.NewInt32Builder(mem)
	bi.AppendValues([]int32{7, 8, 9, 10}, []bool{true, true, true, false})
	extra := bi.NewArray()
	bf := array.NewFloat64Builder(mem)
	bf.AppendValues([]float64{1.5, 2, 3, 4}, nil)
	score := bf.NewArray()
	data := writeArrowParquet(t, []arrow.Field{
		{Name: "SRCPORT", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "protocol", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "packets", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "x-extra", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, []arrow.Array{srcport, protocol, packets, extra, score})
	for _, a := range []arrow.Array{srcport, protocol, packets, extra, score} {
		a.Release()
	}

	var rejects []reader.Reject
	pr, err := NewParquetReader(bytes.NewReader(data), ParquetConfig{Object: "o.parquet", Mem: mem,
		Reject: func(r reader.Reject) {
			r.Raw = append([]byte(nil), r.Raw...)
			rejects = append(rejects, r)
		}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"x-extra", "score"}, pr.UnknownFields())
	got, types := columns(t, pr)
	require.NoError(t, pr.Err())
	st := pr.Stats()
	pr.Release()
	mem.AssertSize(t, 0)

	require.Equal(t, arrow.PrimitiveTypes.Int32, types["srcport"])
	require.Equal(t, arrow.PrimitiveTypes.Int64, types["protocol"])
	require.Equal(t, arrow.BinaryTypes.String, types["x_extra"])
	require.Equal(t, []any{int64(80)}, got["srcport"])
	require.Equal(t, []any{int64(6)}, got["protocol"])
	require.Equal(t, []any{"7"}, got["x_extra"])
	require.Equal(t, []any{"1.5"}, got["score"])
	require.Equal(t, Stats{Records: 4, Rows: 1, Rejected: 3}, st)
	require.Len(t, rejects, 3)
	require.Equal(t, "o.parquet", rejects[0].Object)
	require.Equal(t, []int64{2, 3, 4}, []int64{rejects[0].Line, rejects[1].Line, rejects[2].Line})
	require.Contains(t, rejects[0].Reason, "column srcport")
	require.Equal(t, "1099511627776 6 2 8 2", string(rejects[0].Raw))
	require.Contains(t, rejects[1].Reason, `column protocol: not an integer: "tcp"`)
	require.Contains(t, rejects[2].Reason, "column packets")
	require.Equal(t, "22 - 9223372036854775808 - 4", string(rejects[2].Raw))
}

func TestParquetUnsupportedAndCorrupt(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int64Builder).Append(1)
	list := lb.NewArray()
	lb.Release()
	data := writeArrowParquet(t, []arrow.Field{{Name: "tags", Type: list.DataType(), Nullable: true}}, []arrow.Array{list})
	list.Release()
	_, err := NewParquetReader(bytes.NewReader(data), ParquetConfig{Object: "nested.parquet", Mem: mem})
	require.ErrorIs(t, err, ErrParquetColumn)
	require.ErrorContains(t, err, "nested.parquet")

	bf := array.NewFloat64Builder(mem)
	bf.Append(1)
	fl := bf.NewArray()
	data = writeArrowParquet(t, []arrow.Field{{Name: "bytes", Type: fl.DataType(), Nullable: true}}, []arrow.Array{fl})
	fl.Release()
	_, err = NewParquetReader(bytes.NewReader(data), ParquetConfig{Object: "float.parquet", Mem: mem})
	require.ErrorIs(t, err, ErrParquetColumn)
	require.ErrorContains(t, err, "column bytes")

	_, err = NewParquetReader(bytes.NewReader([]byte("PAR1 not really PAR1")), ParquetConfig{Object: "junk.parquet", Mem: mem})
	require.ErrorIs(t, err, reader.ErrCorruptObject)
	require.ErrorContains(t, err, "junk.parquet")
	mem.AssertSize(t, 0)
}

// A stream is spilled to a temporary file that is gone after Release, and a
// stream over the bound fails before it is spilled whole.
func TestOpenParquetStream(t *testing.T) {
	text := generatedText(t, nil)
	data := parquettest.AWSFlowLogParquet(t, text, 1000)
	dir := t.TempDir()
	pr, err := OpenParquetStream(bytes.NewReader(data), SpillConfig{Dir: dir}, ParquetConfig{Object: "s.parquet"})
	require.NoError(t, err)
	n := int64(0)
	for pr.Next() {
		n += pr.RecordBatch().NumRows()
	}
	require.NoError(t, pr.Err())
	require.Equal(t, pr.NumRows(), n)
	pr.Release()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)

	_, err = OpenParquetStream(bytes.NewReader(data), SpillConfig{Dir: dir, MaxBytes: int64(len(data)) - 1}, ParquetConfig{Object: "big.parquet"})
	require.True(t, errors.Is(err, ErrParquetTooLarge), "%v", err)
	require.ErrorContains(t, err, "big.parquet")
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}
