package vpcflow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/require"

	"convert/internal/parquettest"
	"convert/internal/reader"
	"convert/internal/storage"
	"convert/internal/writer"
)

// addrText is a flow log whose srcaddr repeats in every form an address
// takes (canonical IPv4, the same addresses with a leading zero, IPv6, NULL)
// and whose dstaddr is a new random address per row.
func addrText(seed uint64, rows int) string {
	rng := rand.New(rand.NewPCG(seed, 9))
	var b strings.Builder
	b.WriteString(v2Header + "\n")
	for i := range rows {
		a, c := rng.IntN(40), rng.IntN(256)
		var src string
		switch rng.IntN(10) {
		case 0:
			src = fmt.Sprintf("010.0.%d.%d", a, c) // the address of "10.0.a.c", another value
		case 1:
			src = fmt.Sprintf("2600:1f00::%x:%x", a, c)
		case 2:
			src = "-"
		default:
			src = fmt.Sprintf("10.0.%d.%d", a, c)
		}
		dst := fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), rng.IntN(256))
		fmt.Fprintf(&b, "2 123456789012 eni-%017x %s %s 443 %d 6 1 40 1638576000 1638576060 ACCEPT OK\n",
			i%37, src, dst, 1024+i%1000)
	}
	return b.String()
}

// With Config.NumberAddresses the address columns are numbered
// (reader.AddrDict): srcaddr, which repeats, in every batch, with equal
// numbers exactly for equal values ("10.0.1.2" and "010.0.1.2" apart);
// dstaddr, random, until its first reader.AddrProbeRows rows show it. The
// batches written through internal/writer (which writes the numbered
// columns as dictionary indices) read back with the values of the text and
// exact statistics, with arrow-go and parquet-go, srcaddr dictionary-encoded;
// with a small dictionary limit srcaddr falls back to plain mid-chunk and
// keeps every value.
func TestNumberedAddressesReadBack(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dictBytes int64
	}{
		{"dictionary", 0},
		{"dictionary overflows", 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			root := t.TempDir()
			var f *writer.File
			var want [][2]any
			for obj := range 3 {
				text := addrText(uint64(obj), 6000)
				rd, err := NewReader(strings.NewReader(text), Config{Object: "o", ChunkRows: 1000, NumberAddresses: true, Mem: mem})
				require.NoError(t, err)
				sc := rd.Schema()
				src, dst := sc.FieldIndices("srcaddr")[0], sc.FieldIndices("dstaddr")[0]
				if f == nil {
					f, err = writer.NewFile(context.Background(), &storage.LocalSink{Root: root}, "x.parquet", "", sc,
						writer.Options{Mem: mem, DictionaryPageBytes: tc.dictBytes, DataPageBytes: 16 << 10})
					require.NoError(t, err)
				}
				batches := 0
				for rd.Next() {
					rec := rd.RecordBatch()
					ix, ok := rec.(*reader.Indexed)
					require.True(t, ok, "object %d batch %d has no numbers", obj, batches)
					nums, bound := ix.ValueNumbers(src)
					require.NotNil(t, nums, "object %d batch %d: srcaddr", obj, batches)
					parquettest.RequireNumbersMatchValues(t, "srcaddr", rec.Column(src).(*array.String), nums, bound)
					nums, bound = ix.ValueNumbers(dst)
					if batches >= reader.AddrProbeRows/1000 {
						require.Nil(t, nums, "object %d batch %d: dstaddr is numbered past the probe", obj, batches)
					} else {
						require.NotNil(t, nums, "object %d batch %d: dstaddr", obj, batches)
						parquettest.RequireNumbersMatchValues(t, "dstaddr", rec.Column(dst).(*array.String), nums, bound)
					}
					for r := range int(rec.NumRows()) {
						want = append(want, [2]any{parquettest.Value(rec.Column(src), r), parquettest.Value(rec.Column(dst), r)})
					}
					require.NoError(t, f.Write(rec))
					batches++
				}
				require.NoError(t, rd.Err())
				require.Equal(t, 6, batches)
				rd.Release()
			}
			_, err := f.Finish()
			require.NoError(t, err)
			require.NoError(t, f.Commit())

			path := filepath.Join(root, "x.parquet")
			got := parquettest.Read(t, path)
			require.Equal(t, int64(len(want)), got.NumRows)
			pgRows, n := parquettest.ReadParquetGo(t, path)
			require.Equal(t, got.NumRows, n)
			for r, w := range want {
				require.Equal(t, w[0], got.Rows[r]["srcaddr"], "row %d", r)
				require.Equal(t, w[1], got.Rows[r]["dstaddr"], "row %d", r)
				require.Equal(t, w[0], pgRows[r]["srcaddr"], "parquet-go row %d", r)
			}
			rep := parquettest.CheckStatistics(t, path)
			require.Greater(t, rep.Nulls, int64(0))
			parquettest.CheckStatisticsParquetGo(t, path)
			enc := dataPageEncodings(t, path, "srcaddr")
			require.Greater(t, enc[parquet.Encodings.RLEDict], 0, "%v", enc)
			require.Equal(t, tc.dictBytes > 0, enc[parquet.Encodings.Plain] > 0, "%v", enc)
		})
	}
}

// dataPageEncodings counts the data pages of column name by encoding.
func dataPageEncodings(t *testing.T, path, name string) map[parquet.Encoding]int {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	col := pf.MetaData().Schema.ColumnIndexByName(name)
	require.GreaterOrEqual(t, col, 0, name)
	out := map[parquet.Encoding]int{}
	for g := range pf.NumRowGroups() {
		pr, err := pf.RowGroup(g).GetColumnPageReader(col)
		require.NoError(t, err)
		for pr.Next() {
			if p, ok := pr.Page().(*file.DataPageV1); ok {
				out[parquet.Encoding(p.Encoding())]++
			}
		}
		require.NoError(t, pr.Err())
	}
	return out
}

// Without Config.NumberAddresses the address columns carry no numbers.
func TestAddressNumbersOffByDefault(t *testing.T) {
	rd, err := NewReader(strings.NewReader(addrText(1, 3000)), Config{Object: "o", ChunkRows: 1000})
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
		ix, ok := rd.RecordBatch().(*reader.Indexed)
		require.True(t, ok)
		for _, name := range []string{"srcaddr", "dstaddr"} {
			nums, _ := ix.ValueNumbers(rd.Schema().FieldIndices(name)[0])
			require.Nil(t, nums, name)
		}
	}
	require.NoError(t, rd.Err())
}
