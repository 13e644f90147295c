package parquettest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"
)

// The statistics checks read a file's values back and hold the footer's
// column-chunk statistics and every data page header's statistics against
// them: an engine that prunes by statistics (Athena, Trino, Polars, DuckDB)
// skips a row group or page whose min/max leave out a value it looks for, so
// a bound that leaves out a value silently loses rows. Checked, for every row
// group, leaf column and data page:
//   - min and max are exactly the smallest and largest value (Parquet order:
//     bytewise unsigned for strings, signed for integers), present whenever
//     there is a non-null value, except a bound longer than
//     parquet.DefaultMaxStatsSize, which the writer leaves out;
//   - no min or max without a value;
//   - the null count is the number of levels without a value.
//
// CheckStatistics does it with arrow-go, CheckStatisticsParquetGo with
// parquet-go, which shares no code with arrow-go: a file both accept is read
// the same way by two implementations.

// MaxStatsBytes is the longest min or max the writer keeps (arrow-go's default).
const MaxStatsBytes = int(parquet.DefaultMaxStatsSize)

// StatsReport counts what a check looked at, so that a test can require that
// it covered what it meant to (pages, nulls, "" values).
type StatsReport struct {
	Chunks, Pages int
	Values, Nulls int64
	EmptyStrings  int64 // "" values seen
	LongStrings   int64 // values longer than MaxStatsBytes
}

// Add adds o's counts to r.
func (r *StatsReport) Add(o StatsReport) {
	r.Chunks += o.Chunks
	r.Pages += o.Pages
	r.Values += o.Values
	r.Nulls += o.Nulls
	r.EmptyStrings += o.EmptyStrings
	r.LongStrings += o.LongStrings
}

// bound is one plain-encoded min or max as stored (set false when absent).
type bound struct {
	set bool
	v   []byte
}

// stats is a statistics record as stored.
type stats struct {
	min, max     bound
	nullCount    int64
	hasNullCount bool
}

// value is one non-null value: a string or an int64.
type value struct {
	s     string
	i     int64
	isStr bool
}

func less(a, b value) bool {
	if a.isStr {
		return a.s < b.s // Go compares strings bytewise, unsigned: Parquet's order for UTF8
	}
	return a.i < b.i
}

func (v value) String() string {
	if v.isStr {
		if len(v.s) > 40 {
			return fmt.Sprintf("%q… (%d bytes)", v.s[:40], len(v.s))
		}
		return fmt.Sprintf("%q", v.s)
	}
	return fmt.Sprint(v.i)
}

// decodeBound decodes a plain-encoded bound of physical type typ.
func decodeBound(typ string, b []byte) (value, error) {
	switch typ {
	case "BYTE_ARRAY":
		return value{s: string(b), isStr: true}, nil
	case "INT32":
		if len(b) != 4 {
			return value{}, fmt.Errorf("INT32 bound of %d bytes", len(b))
		}
		return value{i: int64(int32(binary.LittleEndian.Uint32(b)))}, nil
	case "INT64":
		if len(b) != 8 {
			return value{}, fmt.Errorf("INT64 bound of %d bytes", len(b))
		}
		return value{i: int64(binary.LittleEndian.Uint64(b))}, nil
	}
	return value{}, fmt.Errorf("unsupported physical type %s", typ)
}

func boundLen(v value) int {
	if v.isStr {
		return len(v.s)
	}
	return 8
}

// checkStats holds st against the values and null count of a chunk or page.
func checkStats(where, typ string, st stats, vals []value, nulls int64) error {
	if st.hasNullCount && st.nullCount != nulls {
		return fmt.Errorf("%s: null count %d, but %d levels hold no value", where, st.nullCount, nulls)
	}
	if len(vals) == 0 {
		if st.min.set || st.max.set {
			return fmt.Errorf("%s: min/max without any value", where)
		}
		return nil
	}
	lo, hi := minMax(vals)
	for _, b := range []struct {
		name string
		got  bound
		want value
	}{{"min", st.min, lo}, {"max", st.max, hi}} {
		if !b.got.set {
			if boundLen(b.want) <= MaxStatsBytes {
				return fmt.Errorf("%s: no %s, but the values' %s is %v (%d values, %d nulls; min %v, max %v; stored min set %v, max set %v)",
					where, b.name, b.name, b.want, len(vals), nulls, lo, hi, st.min.set, st.max.set)
			}
			continue
		}
		got, err := decodeBound(typ, b.got.v)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", where, b.name, err)
		}
		if got != b.want {
			return fmt.Errorf("%s: %s is %v, but the values' %s is %v (%d values): a reader pruning by it skips rows",
				where, b.name, got, b.name, b.want, len(vals))
		}
	}
	return nil
}

func report(vals []value, nulls int64) StatsReport {
	r := StatsReport{Values: int64(len(vals)), Nulls: nulls}
	for _, v := range vals {
		if v.isStr && v.s == "" {
			r.EmptyStrings++
		}
		if v.isStr && len(v.s) > MaxStatsBytes {
			r.LongStrings++
		}
	}
	return r
}

// CheckStatistics checks the statistics of the file at path with arrow-go
// (see the comment above) and reports what it covered.
func CheckStatistics(t testing.TB, path string) StatsReport {
	t.Helper()
	rep, err := checkStatisticsArrow(path)
	require.NoError(t, err, path)
	return rep
}

func checkStatisticsArrow(path string) (StatsReport, error) {
	var rep StatsReport
	f, err := os.Open(path)
	if err != nil {
		return rep, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return rep, err
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := pf.RowGroup(g)
		for c := 0; c < sc.NumColumns(); c++ {
			descr := sc.Column(c)
			typ := descr.PhysicalType().String()
			where := fmt.Sprintf("row group %d, column %s", g, descr.Path())
			cc, err := rg.MetaData().ColumnChunk(c)
			if err != nil {
				return rep, err
			}
			// Page headers, in order.
			pr, err := rg.GetColumnPageReader(c)
			if err != nil {
				return rep, err
			}
			var pageLevels []int64
			var pageStats []stats
			for pr.Next() {
				dp, ok := pr.Page().(file.DataPage)
				if !ok {
					continue
				}
				es := dp.Statistics()
				pageLevels = append(pageLevels, int64(dp.NumValues()))
				pageStats = append(pageStats, stats{min: bound{es.HasMin, es.Min}, max: bound{es.HasMax, es.Max},
					nullCount: es.NullCount, hasNullCount: es.HasNullCount})
			}
			if err := pr.Err(); err != nil {
				return rep, fmt.Errorf("%s: %w", where, err)
			}
			// Values and levels.
			vals, defs, err := readChunkArrow(rg, c)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", where, err)
			}
			maxDef := descr.MaxDefinitionLevel()
			var chunkVals []value
			var chunkNulls int64
			level, vi := 0, 0
			for p, n := range pageLevels {
				var pv []value
				var nulls int64
				for k := int64(0); k < n; k++ {
					if level >= len(defs) {
						return rep, fmt.Errorf("%s: page headers count more levels than the chunk holds", where)
					}
					if defs[level] == maxDef {
						pv = append(pv, vals[vi])
						vi++
					} else {
						nulls++
					}
					level++
				}
				if err := checkStats(fmt.Sprintf("%s, page %d", where, p), typ, pageStats[p], pv, nulls); err != nil {
					return rep, err
				}
				chunkVals = append(chunkVals, pv...)
				chunkNulls += nulls
				rep.Pages++
			}
			if level != len(defs) {
				return rep, fmt.Errorf("%s: %d levels, page headers count %d", where, len(defs), level)
			}
			ts, err := cc.Statistics()
			if err != nil {
				return rep, fmt.Errorf("%s: %w", where, err)
			}
			var st stats
			if ts != nil {
				st.hasNullCount, st.nullCount = ts.HasNullCount(), ts.NullCount()
				if ts.HasMinMax() {
					// arrow-go marks min and max present together; a bound the
					// writer left out for its length decodes as empty.
					st.min = bound{true, ts.EncodeMin()}
					st.max = bound{true, ts.EncodeMax()}
					lo, hi := minMax(chunkVals)
					if len(st.min.v) == 0 && boundLen(lo) > MaxStatsBytes {
						st.min.set = false
					}
					if len(st.max.v) == 0 && len(chunkVals) > 0 && boundLen(hi) > MaxStatsBytes {
						st.max.set = false
					}
				}
			}
			if err := checkStats(where+" (footer)", typ, st, chunkVals, chunkNulls); err != nil {
				return rep, err
			}
			rep.Chunks++
			rep.Add(report(chunkVals, chunkNulls))
		}
	}
	return rep, nil
}

func minMax(vals []value) (lo, hi value) {
	if len(vals) == 0 {
		return
	}
	lo, hi = vals[0], vals[0]
	for _, v := range vals[1:] {
		if less(v, lo) {
			lo = v
		}
		if less(hi, v) {
			hi = v
		}
	}
	return
}

// readChunkArrow reads every level and value of one column chunk.
func readChunkArrow(rg *file.RowGroupReader, c int) (vals []value, defs []int16, err error) {
	cr, err := rg.Column(c)
	if err != nil {
		return nil, nil, err
	}
	const batch = 4096
	def := make([]int16, batch)
	rep := make([]int16, batch)
	for cr.HasNext() {
		var total int64
		var n int
		switch r := cr.(type) {
		case *file.ByteArrayColumnChunkReader:
			buf := make([]parquet.ByteArray, batch)
			total, n, err = r.ReadBatch(batch, buf, def, rep)
			for _, v := range buf[:n] {
				vals = append(vals, value{s: string(v), isStr: true})
			}
		case *file.Int32ColumnChunkReader:
			buf := make([]int32, batch)
			total, n, err = r.ReadBatch(batch, buf, def, rep)
			for _, v := range buf[:n] {
				vals = append(vals, value{i: int64(v)})
			}
		case *file.Int64ColumnChunkReader:
			buf := make([]int64, batch)
			total, n, err = r.ReadBatch(batch, buf, def, rep)
			for _, v := range buf[:n] {
				vals = append(vals, value{i: v})
			}
		default:
			return nil, nil, fmt.Errorf("unsupported column reader %T", cr)
		}
		if err != nil {
			return nil, nil, err
		}
		if cr.Descriptor().MaxDefinitionLevel() == 0 {
			for k := int64(0); k < total; k++ {
				defs = append(defs, 0)
			}
		} else {
			defs = append(defs, def[:total]...)
		}
		if total == 0 {
			break
		}
	}
	return vals, defs, cr.Err()
}

// CheckStatisticsParquetGo checks the statistics of the file at path with
// parquet-go: the footer through its metadata, page headers decoded with its
// Thrift decoder straight from the column chunk's bytes, and values through
// its page reader.
func CheckStatisticsParquetGo(t testing.TB, path string) StatsReport {
	t.Helper()
	rep, err := checkStatisticsParquetGo(path)
	require.NoError(t, err, path)
	return rep
}

func checkStatisticsParquetGo(path string) (StatsReport, error) {
	var rep StatsReport
	f, err := os.Open(path)
	if err != nil {
		return rep, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return rep, err
	}
	pf, err := pq.OpenFile(f, fi.Size())
	if err != nil {
		return rep, err
	}
	md := pf.Metadata()
	paths := pf.Schema().Columns()
	for g, rg := range pf.RowGroups() {
		for c, chunk := range rg.ColumnChunks() {
			cmd := md.RowGroups[g].Columns[c].MetaData
			typ := cmd.Type.String()
			where := fmt.Sprintf("row group %d, column %s", g, strings.Join(paths[c], "."))
			headers, err := dataPageHeaders(f, &cmd)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", where, err)
			}
			pages := chunk.Pages()
			var chunkVals []value
			var chunkNulls int64
			for p := 0; ; p++ {
				page, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					if p != len(headers) {
						return rep, fmt.Errorf("%s: %d data page headers, %d pages read", where, len(headers), p)
					}
					break
				}
				if err != nil {
					return rep, fmt.Errorf("%s: %w", where, err)
				}
				if p >= len(headers) {
					return rep, fmt.Errorf("%s: more pages than data page headers", where)
				}
				pv, nulls, err := pageValues(page)
				pq.Release(page)
				if err != nil {
					return rep, fmt.Errorf("%s, page %d: %w", where, p, err)
				}
				h := headers[p]
				if int64(len(pv))+nulls != int64(h.NumValues) {
					return rep, fmt.Errorf("%s, page %d: header says %d levels, page holds %d", where, p, h.NumValues, int64(len(pv))+nulls)
				}
				if err := checkStats(fmt.Sprintf("%s, page %d", where, p), typ, formatStats(h.Statistics), pv, nulls); err != nil {
					return rep, err
				}
				chunkVals = append(chunkVals, pv...)
				chunkNulls += nulls
				rep.Pages++
			}
			pages.Close()
			if err := checkStats(where+" (footer)", typ, formatStats(cmd.Statistics), chunkVals, chunkNulls); err != nil {
				return rep, err
			}
			rep.Chunks++
			rep.Add(report(chunkVals, chunkNulls))
		}
	}
	return rep, nil
}

// formatStats takes min_value/max_value: the writer's column order is
// TYPE_DEFINED_ORDER, and the deprecated min/max are for signed order only.
// parquet-go's Thrift decoder leaves an absent field nil and a present empty
// one non-nil, which is what tells "" from no bound.
func formatStats(s format.Statistics) stats {
	return stats{min: bound{s.MinValue != nil, s.MinValue}, max: bound{s.MaxValue != nil, s.MaxValue},
		nullCount: s.NullCount, hasNullCount: true}
}

// dataPageHeaders decodes the headers of a column chunk's data pages, in order.
func dataPageHeaders(f *os.File, cmd *format.ColumnMetaData) ([]*format.DataPageHeader, error) {
	start := cmd.DataPageOffset
	if cmd.DictionaryPageOffset > 0 && cmd.DictionaryPageOffset < start {
		start = cmd.DictionaryPageOffset
	}
	sec := io.NewSectionReader(f, start, cmd.TotalCompressedSize)
	br := bufio.NewReader(sec)
	var proto thrift.CompactProtocol
	dec := thrift.NewDecoder(proto.NewReader(br))
	var out []*format.DataPageHeader
	for {
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return out, nil
		}
		var h format.PageHeader
		if err := dec.Decode(&h); err != nil {
			return nil, fmt.Errorf("page header: %w", err)
		}
		if _, err := br.Discard(int(h.CompressedPageSize)); err != nil {
			return nil, fmt.Errorf("page body: %w", err)
		}
		switch h.Type {
		case format.DataPage:
			dp, ok := h.DataPageHeader.Get()
			if !ok {
				return nil, errors.New("data page without its header")
			}
			out = append(out, &dp)
		case format.DataPageV2:
			return nil, errors.New("data page V2: not written by this project")
		}
	}
}

// pageValues reads a page's non-null values and counts its nulls.
func pageValues(page pq.Page) ([]value, int64, error) {
	var out []value
	var nulls int64
	r := page.Values()
	buf := make([]pq.Value, 1024)
	for {
		n, err := r.ReadValues(buf)
		for _, v := range buf[:n] {
			if v.IsNull() {
				nulls++
				continue
			}
			switch v.Kind() {
			case pq.ByteArray:
				out = append(out, value{s: string(v.ByteArray()), isStr: true})
			case pq.Int32:
				out = append(out, value{i: int64(v.Int32())})
			case pq.Int64:
				out = append(out, value{i: v.Int64()})
			default:
				return nil, 0, fmt.Errorf("unsupported value kind %s", v.Kind())
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
	}
	if nulls != page.NumNulls() {
		// Nulls are the levels below the maximum definition level; parquet-go
		// yields them as null values. Cross-check with its own count.
		return nil, 0, fmt.Errorf("%d null values read, page counts %d", nulls, page.NumNulls())
	}
	return out, nulls, nil
}

// RequireValueBytes fails unless every string and binary array of rec, at any
// depth, has a data buffer whose Bytes() is not nil: arrow-go's Parquet
// writer takes nil for "no value" and leaves the ""s of a batch without text
// out of min/max (see internal/reader.CopyBuffer).
func RequireValueBytes(t testing.TB, rec arrow.RecordBatch) {
	t.Helper()
	for i, col := range rec.Columns() {
		requireValueBytes(t, rec.Schema().Field(i).Name, col.Data())
	}
}

// RequireReaderValueBytes reads rd to the end, requires RequireValueBytes of
// every batch and then calls each (if set) with it, and returns the rows read.
func RequireReaderValueBytes(t testing.TB, rd array.RecordReader, each func(arrow.RecordBatch)) int {
	t.Helper()
	rows := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		RequireValueBytes(t, rec)
		if each != nil {
			each(rec)
		}
		rows += int(rec.NumRows())
	}
	require.NoError(t, rd.Err())
	return rows
}

func requireValueBytes(t testing.TB, path string, d arrow.ArrayData) {
	t.Helper()
	switch d.DataType().ID() {
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		b := d.Buffers()
		require.True(t, len(b) > 2 && b[2] != nil && b[2].Bytes() != nil,
			"%s: string data buffer with nil bytes (%d rows, %d NULL)", path, d.Len(), d.NullN())
	}
	for k, c := range d.Children() {
		requireValueBytes(t, fmt.Sprintf("%s.%d", path, k), c)
	}
}

// Encodings returns every encoding a file uses, by name (PLAIN,
// RLE_DICTIONARY, DELTA_BINARY_PACKED, …): those the footer lists for each
// column chunk and those of every data page header, read with parquet-go.
func Encodings(t testing.TB, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	pf, err := pq.OpenFile(f, fi.Size())
	require.NoError(t, err, path)
	out := map[string]bool{}
	for _, rg := range pf.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			for _, e := range cc.MetaData.Encoding {
				out[e.String()] = true
			}
			for _, s := range cc.MetaData.EncodingStats {
				out[s.Encoding.String()] = true
			}
			headers, err := dataPageHeaders(f, &cc.MetaData)
			require.NoError(t, err, path)
			for _, h := range headers {
				out[h.Encoding.String()] = true
				out[h.DefinitionLevelEncoding.String()] = true
				out[h.RepetitionLevelEncoding.String()] = true
			}
		}
	}
	return out
}

// RequireNumbersMatchValues requires that nums (a reader's value numbers of
// col, see reader.Indexed) are below bound and number col's non-null values
// one to one: equal numbers for equal values, and only for them.
func RequireNumbersMatchValues(t testing.TB, name string, col *array.String, nums []int32, bound int) {
	t.Helper()
	require.GreaterOrEqual(t, len(nums), col.Len(), name)
	byNum, byValue := map[int32]string{}, map[string]int32{}
	for r := range col.Len() {
		if col.IsNull(r) {
			continue
		}
		k, v := nums[r], col.Value(r)
		require.True(t, k >= 0 && int(k) < bound, "%s row %d: number %d, bound %d", name, r, k, bound)
		if old, ok := byNum[k]; ok {
			require.Equal(t, old, v, "%s row %d: number %d for two values", name, r, k)
		}
		if old, ok := byValue[v]; ok {
			require.Equal(t, old, k, "%s row %d: two numbers for %q", name, r, v)
		}
		byNum[k], byValue[v] = v, k
	}
}
