package writer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/reader"
	"convert/internal/storage"
)

// dataPageEncodings counts the column chunks of column col that have
// dictionary-encoded data pages and those that have plain ones.
func dataPageEncodings(t *testing.T, path string, col int) (dict, plain int32) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	for rg := range pf.NumRowGroups() {
		cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(col)
		require.NoError(t, err)
		for _, st := range cc.EncodingStats() {
			if st.PageType.String() != "DATA_PAGE" {
				continue
			}
			switch st.Encoding {
			case parquet.Encodings.RLEDict, parquet.Encodings.PlainDict:
				dict++
			case parquet.Encodings.Plain:
				plain++
			}
		}
	}
	return dict, plain
}

// numberedBatch builds a batch of string column s (NULL where v is nil) and
// int column i, with s's values numbered by d as a reader numbers them.
func numberedBatch(t *testing.T, mem memory.Allocator, sc *arrow.Schema, d *reader.StringDict, vals []*string) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	nums := make([]int32, len(vals))
	for r, v := range vals {
		if v == nil {
			b.Field(0).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(*v)
			k, ok := d.Number([]byte(*v))
			require.True(t, ok)
			nums[r] = k
		}
		b.Field(1).(*array.Int64Builder).Append(int64(r))
	}
	rec := b.NewRecordBatch()
	return reader.NewIndexed(rec, [][]int32{nums, nil}, []int{d.Len(), 0})
}

// Batches whose string values are numbered are written through the
// dictionary indices: the values read back (arrow-go and parquet-go), the
// footer and page statistics are exact (with "" and NULLs), the column is
// dictionary-encoded, and past the dictionary limit it falls back to plain
// with every value kept.
func TestNumberedValuesWriteDictionaryIndices(t *testing.T) {
	for _, tc := range []struct {
		name      string
		distinct  int
		dictBytes int64
		wantPlain bool
	}{
		{"few values", 12, 0, false},
		{"dictionary overflows", 4000, 16 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			sc := arrow.NewSchema([]arrow.Field{
				{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
				{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			}, nil)
			root := t.TempDir()
			f, err := NewFile(context.Background(), &storage.LocalSink{Root: root}, "x.parquet", "", sc,
				Options{Mem: mem, DictionaryPageBytes: tc.dictBytes, DataPageBytes: 8 << 10})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(7, 8))
			var want []any
			for obj := range 3 { // each object numbers its values afresh
				d := reader.NewStringDict()
				for batch := range 4 {
					vals := make([]*string, 500+rng.IntN(3000))
					for r := range vals {
						x := rng.IntN(20)
						if obj == 1 && batch == 0 && x == 0 {
							x = 5 // a batch without NULLs (no validity bitmap)
						}
						switch {
						case x == 0:
						case x == 1:
							s := ""
							vals[r] = &s
						default:
							s := fmt.Sprintf("v%04d", rng.IntN(tc.distinct))
							if obj == 2 && batch == 3 {
								s = "zz-new-" + s // values the row group has not seen
							}
							vals[r] = &s
						}
						if vals[r] == nil {
							want = append(want, nil)
						} else {
							want = append(want, *vals[r])
						}
					}
					rec := numberedBatch(t, mem, sc, d, vals)
					if obj == 1 && batch == 1 {
						// A batch without numbers (taken from two
						// days' rows) goes in as values; the next ones
						// still go in as indices.
						require.NoError(t, f.Write(rec.(*reader.Indexed).RecordBatch))
						rec.Release()
						continue
					}
					if batch == 2 { // a slice keeps its numbers
						part := SliceBatch(rec, 100, rec.NumRows())
						want = append(want[:len(want)-len(vals)], want[len(want)-len(vals)+100:]...)
						require.NoError(t, f.Write(part))
						part.Release()
					} else {
						require.NoError(t, f.Write(rec))
					}
					rec.Release()
				}
				if obj == 0 {
					f.cutPending = true // a second row group
				}
			}
			require.Equal(t, tc.wantPlain, f.fw.(*flatWriter).dicts[0].dense,
				"the last row group's column is written as indices unless its dictionary overflowed")
			_, err = f.Finish()
			require.NoError(t, err)
			require.NoError(t, f.Commit())

			path := filepath.Join(root, "x.parquet")
			got := parquettest.Read(t, path)
			require.Equal(t, int64(len(want)), got.NumRows)
			require.Equal(t, 2, got.RowGroups)
			for r, w := range want {
				require.Equal(t, w, got.Rows[r]["s"], "row %d", r)
				require.Equal(t, int64(0), got.Rows[0]["i"])
			}
			pgRows, _ := parquettest.ReadParquetGo(t, path)
			for r, w := range want {
				require.Equal(t, w, pgRows[r]["s"], "parquet-go row %d", r)
			}
			rep := parquettest.CheckStatistics(t, path)
			t.Logf("statistics checked: %+v", rep)
			parquettest.CheckStatisticsParquetGo(t, path)
			dictPages, plainPages := dataPageEncodings(t, path, 0)
			require.Positive(t, dictPages)
			require.Equal(t, tc.wantPlain, plainPages > 0, "%d plain data pages", plainPages)
		})
	}
}

// A string column written as values whose first probeRows rows are nearly
// all distinct (random addresses) falls back to plain encoding there,
// without a dictionary page; one whose values are half new at first and
// then repeat (object keys) keeps its dictionary. Values, footer and page
// statistics read back exact either way.
func TestProbeFallsBackOnNearlyUniqueValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "addr", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "key", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	root := t.TempDir()
	f, err := NewFile(context.Background(), &storage.LocalSink{Root: root}, "x.parquet", "", sc,
		Options{Mem: mem}) // pages of 1 MiB: none is cut before the probe
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 10))
	var want [][2]any
	for _, n := range []int{1000, 30000, 5000} { // the probe falls inside the second batch
		b := array.NewRecordBuilder(mem, sc)
		for r := 0; r < n; r++ {
			row := [2]any{}
			if rng.IntN(50) == 0 {
				b.Field(0).AppendNull()
			} else {
				s := fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256))
				b.Field(0).(*array.StringBuilder).Append(s)
				row[0] = s
			}
			k := fmt.Sprintf("logs/%04d.gz", rng.IntN(2000)) // half new in the first 4096 rows
			b.Field(1).(*array.StringBuilder).Append(k)
			row[1] = k
			want = append(want, row)
		}
		rec := b.NewRecordBatch()
		b.Release()
		require.NoError(t, f.Write(rec))
		rec.Release()
	}
	_, err = f.Finish()
	require.NoError(t, err)
	require.NoError(t, f.Commit())

	path := filepath.Join(root, "x.parquet")
	got := parquettest.Read(t, path)
	require.Equal(t, int64(len(want)), got.NumRows)
	for r, w := range want {
		require.Equal(t, w[0], got.Rows[r]["addr"], "row %d", r)
		require.Equal(t, w[1], got.Rows[r]["key"], "row %d", r)
	}
	requireProbed(t, path)
}

// The probe judges the values of the first probeRows rows, not the rows: a
// column that is mostly NULL and whose values are all distinct (CloudTrail's
// principal ids, S3 version ids) falls back to plain, which a share of rows
// (three in ten here) never reached; one as sparse whose values repeat keeps
// its dictionary. Values and statistics read back exact.
func TestProbeJudgesValuesNotRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "kind", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(11, 12))
	var want []map[string]any
	var batches []arrow.RecordBatch
	for _, n := range []int{3000, 3000, 2000} { // the probe falls inside the second batch
		b := array.NewRecordBuilder(mem, sc)
		for range n {
			row := map[string]any{"id": nil, "kind": nil}
			if rng.IntN(10) < 3 {
				s := fmt.Sprintf("AROA%016X", rng.Uint64())
				b.Field(0).(*array.StringBuilder).Append(s)
				row["id"] = s
			} else {
				b.Field(0).AppendNull()
			}
			if rng.IntN(10) < 3 {
				s := fmt.Sprintf("kind-%03d", rng.IntN(300))
				b.Field(1).(*array.StringBuilder).Append(s)
				row["kind"] = s
			} else {
				b.Field(1).AppendNull()
			}
			want = append(want, row)
		}
		batches = append(batches, b.NewRecordBatch())
		b.Release()
	}
	defer releaseAll(batches)
	path := writeFile(t, t.TempDir(), "x.parquet", sc, Options{Mem: mem}, batches, nil)

	got := parquettest.Read(t, path)
	require.Equal(t, want, got.Rows)
	requireProbed(t, path)
}

// A string leaf of a struct (one slot per row) written as values is probed
// as a top-level column is: nearly unique values (a principal id) fall back
// to plain, repeating ones (a kind) keep their dictionary, under NULL
// structs and NULL leaves alike; values and statistics read back exact.
func TestProbeStructLeaf(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str := arrow.BinaryTypes.String
	st := arrow.StructOf(
		arrow.Field{Name: "principalid", Type: str, Nullable: true},
		arrow.Field{Name: "type", Type: str, Nullable: true},
	)
	sc := arrow.NewSchema([]arrow.Field{{Name: "useridentity", Type: st, Nullable: true}}, nil)
	rng := rand.New(rand.NewPCG(13, 14))
	var want []map[string]any
	var batches []arrow.RecordBatch
	for _, n := range []int{2500, 2500, 1500} {
		b := array.NewRecordBuilder(mem, sc)
		sb := b.Field(0).(*array.StructBuilder)
		for range n {
			if rng.IntN(20) == 0 {
				sb.AppendNull()
				want = append(want, map[string]any{"useridentity": nil})
				continue
			}
			sb.Append(true)
			u := map[string]any{"principalid": nil, "type": nil}
			if rng.IntN(10) < 8 {
				s := fmt.Sprintf("AROA%016X:session", rng.Uint64())
				sb.FieldBuilder(0).(*array.StringBuilder).Append(s)
				u["principalid"] = s
			} else {
				sb.FieldBuilder(0).AppendNull()
			}
			s := []string{"AssumedRole", "IAMUser", "AWSService"}[rng.IntN(3)]
			sb.FieldBuilder(1).(*array.StringBuilder).Append(s)
			u["type"] = s
			want = append(want, map[string]any{"useridentity": u})
		}
		batches = append(batches, b.NewRecordBatch())
		b.Release()
	}
	defer releaseAll(batches)
	path := writeFile(t, t.TempDir(), "x.parquet", sc, Options{Mem: mem}, batches, nil)

	got := parquettest.Read(t, path)
	require.Equal(t, want, got.Rows)
	requireProbed(t, path)
}

// The values a chunk took as dictionary indices count for the probe too: a
// numbered column (1000 distinct values in its first 4000 rows) whose first
// batch without numbers comes just before probeRows keeps its dictionary;
// judged by the 96 values written as values alone, it would fall back.
func TestProbeCountsNumberedValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	d := reader.NewStringDict()
	vals := func(n, from int) []*string {
		out := make([]*string, n)
		for r := range out {
			s := fmt.Sprintf("value-%04d", (from+r)%1000)
			out[r] = &s
		}
		return out
	}
	numbered := numberedBatch(t, mem, sc, d, vals(4000, 0))
	defer numbered.Release()
	tail := numberedBatch(t, mem, sc, d, vals(500, 4000))
	defer tail.Release()
	plainTail := withoutNumbers(tail)
	defer plainTail.Release()
	path := writeFile(t, t.TempDir(), "x.parquet", sc, Options{Mem: mem}, []arrow.RecordBatch{numbered, plainTail}, nil)

	got := parquettest.Read(t, path)
	require.Equal(t, int64(4500), got.NumRows)
	for r, v := range append(vals(4000, 0), vals(500, 4000)...) {
		require.Equal(t, *v, got.Rows[r]["s"], "row %d", r)
	}
	parquettest.CheckStatistics(t, path)
	dictPages, plainPages := dataPageEncodings(t, path, 0)
	require.Positive(t, dictPages)
	require.Zero(t, plainPages, "1000 distinct values in 4096 rows keep their dictionary")
}

// requireDictionaryPage checks whether column col's chunk of row group 0
// has a dictionary page.
func requireDictionaryPage(t *testing.T, path string, col int, want bool) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(col)
	require.NoError(t, err)
	require.Equal(t, want, cc.HasDictionaryPage())
}

// requireProbed checks a probe test's file: exact statistics (arrow-go and
// parquet-go), column 0 (nearly unique values) fallen back to plain pages
// with its dictionary discarded, column 1 (repeating values) dictionary
// pages only.
func requireProbed(t *testing.T, path string) {
	t.Helper()
	parquettest.CheckStatistics(t, path)
	parquettest.CheckStatisticsParquetGo(t, path)
	dictPages, plainPages := dataPageEncodings(t, path, 0)
	require.Zero(t, dictPages, "nearly unique values: no dictionary pages")
	require.Positive(t, plainPages)
	requireDictionaryPage(t, path, 0, false)
	dictPages, plainPages = dataPageEncodings(t, path, 1)
	require.Positive(t, dictPages, "repeating values keep their dictionary")
	require.Zero(t, plainPages)
}
