package writer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"

	"convert/internal/gen"
	"convert/internal/parquettest"
	"convert/internal/reader/cloudtrail"
	"convert/internal/schema"
	"convert/internal/storage"
)

// writeBothWays writes batches (a nil batch cuts the row group) with
// flatWriter and with pqarrow's FileWriter, with the project's properties,
// and returns both files.
func writeBothWays(t *testing.T, mem memory.Allocator, sc *arrow.Schema, o Options, batches []arrow.RecordBatch) (ours, theirs []byte) {
	t.Helper()
	props, err := NewWriterProperties(sc, o)
	require.NoError(t, err)
	var a, b bytes.Buffer
	fw, err := newFlatWriter(sc, &a, props, arrowWriterProperties(mem))
	require.NoError(t, err)
	pw, err := pqarrow.NewFileWriter(sc, &b, props, arrowWriterProperties(mem))
	require.NoError(t, err)
	for _, w := range []arrowFileWriter{fw, pw} {
		for _, rec := range batches {
			if rec == nil {
				require.NoError(t, w.NewBufferedRowGroupChecked())
				continue
			}
			require.NoError(t, w.WriteBuffered(rec))
		}
		require.NoError(t, w.Close())
	}
	return a.Bytes(), b.Bytes()
}

// requireSameFile requires two Parquet files to be the same bytes, but for
// the order of each column chunk's encoding statistics in the footer, which
// arrow-go takes from a map (two files pqarrow writes of the same batches
// differ there too).
func requireSameFile(t *testing.T, ours, theirs []byte) {
	t.Helper()
	require.Equal(t, len(theirs), len(ours), "file size")
	footer := func(b []byte) (int, format.FileMetaData) {
		n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
		start := len(b) - 8 - n
		var md format.FileMetaData
		require.NoError(t, thrift.Unmarshal(new(thrift.CompactProtocol), b[start:len(b)-8], &md))
		for i := range md.RowGroups {
			for j := range md.RowGroups[i].Columns {
				es := md.RowGroups[i].Columns[j].MetaData.EncodingStats
				slices.SortFunc(es, func(a, b format.PageEncodingStats) int {
					return cmp.Or(cmp.Compare(a.PageType, b.PageType), cmp.Compare(a.Encoding, b.Encoding), cmp.Compare(a.Count, b.Count))
				})
			}
		}
		return start, md
	}
	startOurs, mdOurs := footer(ours)
	startTheirs, mdTheirs := footer(theirs)
	require.Equal(t, startTheirs, startOurs, "footer offset")
	if !bytes.Equal(ours[:startOurs], theirs[:startTheirs]) {
		i := 0
		for ours[i] == theirs[i] {
			i++
		}
		t.Fatalf("pages differ from byte %d of %d", i, startOurs)
	}
	require.Equal(t, mdTheirs, mdOurs, "footer")
}

// cloudTrailBatches reads a generated CloudTrail log of about size bytes in
// batches of chunk rows, without their value numbers unless numbered.
func cloudTrailBatches(t *testing.T, mem memory.Allocator, seed int64, size, chunk int, numbered bool) []arrow.RecordBatch {
	t.Helper()
	rd, err := cloudtrail.NewReader(bytes.NewReader(gen.CloudTrailSample(seed, size)), cloudtrail.Config{Object: "sample.json", ChunkRows: chunk, Mem: mem})
	require.NoError(t, err)
	defer rd.Release()
	var out []arrow.RecordBatch
	for rd.Next() {
		rec := rd.RecordBatch()
		if numbered {
			rec.Retain()
		} else {
			rec = withoutNumbers(rec)
		}
		out = append(out, rec)
	}
	require.NoError(t, rd.Err())
	return out
}

// withoutNumbers returns a batch of rec's columns without its value
// numbers; the caller releases it.
func withoutNumbers(rec arrow.RecordBatch) arrow.RecordBatch {
	return array.NewRecordBatch(rec.Schema(), rec.Columns(), rec.NumRows())
}

func releaseAll(batches []arrow.RecordBatch) {
	for _, b := range batches {
		if b != nil {
			b.Release()
		}
	}
}

// The generalised writer writes CloudTrail batches (structs, a list of
// structs, a map) to the bytes pqarrow's FileWriter writes for them: same
// pages, levels, statistics and footer (ARROW:schema included), across row
// groups, small pages and a slice of a batch.
func TestNestedBytesMatchPqarrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := schema.CloudTrailSchema()
	require.True(t, writable(sc))
	require.False(t, isFlat(sc))
	batches := cloudTrailBatches(t, mem, 7, 3<<20, 500, false)
	defer releaseAll(batches)
	require.Greater(t, len(batches), 3)
	// A row group cut, and a slice of a batch at an offset.
	sliced := batches[1].NewSlice(17, batches[1].NumRows()-3)
	defer sliced.Release()
	writes := append([]arrow.RecordBatch{batches[0], nil, sliced}, batches[2:]...)
	for _, o := range []Options{{Mem: mem}, {Mem: mem, DataPageBytes: 16 << 10, DictionaryPageBytes: 32 << 10}} {
		ours, theirs := writeBothWays(t, mem, sc, o, writes)
		require.Greater(t, len(theirs), 10000)
		requireSameFile(t, ours, theirs)
	}
}

// The same for a schema with what CloudTrail lacks: lists named "item",
// lists of lists, required fields and elements, non-string leaves, NULL
// structs over valid children and NULL lists over elements, all-NULL and
// NULL-free columns.
func TestNestedBytesMatchPqarrowShapes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str := arrow.BinaryTypes.String
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: str, Nullable: true},
			arrow.Field{Name: "req", Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: "inner", Type: arrow.StructOf(arrow.Field{Name: "x", Type: str, Nullable: true}), Nullable: true},
		), Nullable: true},
		{Name: "tags", Type: arrow.ListOf(str), Nullable: true},
		{Name: "grid", Type: arrow.ListOf(arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64)), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "reqlist", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "k", Type: str, Nullable: true}))},
		{Name: "name", Type: str, Nullable: true},
		{Name: "never", Type: arrow.StructOf(arrow.Field{Name: "v", Type: str, Nullable: true}), Nullable: true},
	}, nil)
	require.True(t, writable(sc))
	rng := rand.New(rand.NewPCG(1, 2))
	var batches []arrow.RecordBatch
	for b := range 6 {
		batches = append(batches, randomNested(mem, sc, rng, 200+b*150, b))
	}
	defer releaseAll(batches)
	sliced := batches[2].NewSlice(33, 180)
	defer sliced.Release()
	writes := append([]arrow.RecordBatch{batches[0], batches[1], nil, sliced}, batches[3:]...)
	for _, o := range []Options{{Mem: mem}, {Mem: mem, DataPageBytes: 8 << 10}} {
		ours, theirs := writeBothWays(t, mem, sc, o, writes)
		requireSameFile(t, ours, theirs)
	}

	// Types left to pqarrow.
	for _, typ := range []arrow.DataType{
		arrow.LargeListOf(str),
		arrow.FixedSizeListOf(2, str),
		arrow.StructOf(arrow.Field{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: str}, Nullable: true}),
	} {
		require.False(t, writable(arrow.NewSchema([]arrow.Field{{Name: "c", Type: typ, Nullable: true}}, nil)), "%s", typ)
	}
	// A top-level dictionary column is flat, as before.
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: str}
	dsc := arrow.NewSchema([]arrow.Field{{Name: "d", Type: dict, Nullable: true}, sc.Field(1)}, nil)
	require.True(t, writable(dsc))
	db := array.NewRecordBuilder(mem, dsc)
	defer db.Release()
	for r := range 300 {
		if r%9 == 4 {
			db.Field(0).AppendNull()
		} else {
			require.NoError(t, db.Field(0).(*array.BinaryDictionaryBuilder).AppendString(fmt.Sprint("d", r%5)))
		}
		db.Field(1).(*array.StructBuilder).Append(true)
		db.Field(1).(*array.StructBuilder).FieldBuilder(0).(*array.StringBuilder).Append(fmt.Sprint("a", r%3))
		db.Field(1).(*array.StructBuilder).FieldBuilder(1).(*array.Int32Builder).Append(int32(r))
		db.Field(1).(*array.StructBuilder).FieldBuilder(2).(*array.StructBuilder).AppendNull()
	}
	drec := db.NewRecordBatch()
	defer drec.Release()
	ours, theirs := writeBothWays(t, mem, dsc, Options{Mem: mem}, []arrow.RecordBatch{drec})
	requireSameFile(t, ours, theirs)
}

// randomNested builds a batch of sc (TestNestedBytesMatchPqarrowShapes)
// with NULLs, empty lists and values at random; variant 3 has no NULLs at
// all and variant 4 only NULLs where the schema allows them.
func randomNested(mem memory.Allocator, sc *arrow.Schema, rng *rand.Rand, rows, variant int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	null := func(p float64) bool {
		switch variant {
		case 3:
			return false
		case 4:
			return true
		}
		return rng.Float64() < p
	}
	word := func() string { return fmt.Sprintf("w%d", rng.IntN(40)) }
	for r := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(r))

		sb := b.Field(1).(*array.StructBuilder)
		if null(0.2) {
			sb.AppendNull() // and NULLs in the children
		} else {
			sb.Append(true)
			if null(0.3) {
				sb.FieldBuilder(0).(*array.StringBuilder).AppendNull()
			} else {
				sb.FieldBuilder(0).(*array.StringBuilder).Append(word())
			}
			sb.FieldBuilder(1).(*array.Int32Builder).Append(int32(rng.IntN(5)))
			ib := sb.FieldBuilder(2).(*array.StructBuilder)
			if null(0.3) {
				ib.AppendNull()
			} else {
				ib.Append(true)
				if null(0.3) {
					ib.FieldBuilder(0).(*array.StringBuilder).AppendNull()
				} else {
					ib.FieldBuilder(0).(*array.StringBuilder).Append(word())
				}
			}
		}

		lb := b.Field(2).(*array.ListBuilder)
		if null(0.2) {
			lb.AppendNull()
		} else {
			lb.Append(true)
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for range rng.IntN(4) {
				if null(0.2) {
					vb.AppendNull()
				} else {
					vb.Append(word())
				}
			}
		}

		gb := b.Field(3).(*array.ListBuilder)
		if null(0.2) {
			gb.AppendNull()
		} else {
			gb.Append(true)
			inner := gb.ValueBuilder().(*array.ListBuilder)
			for range rng.IntN(3) {
				if null(0.2) {
					inner.AppendNull()
					continue
				}
				inner.Append(true)
				for range rng.IntN(3) {
					inner.ValueBuilder().(*array.Int64Builder).Append(rng.Int64N(9))
				}
			}
		}

		mb := b.Field(4).(*array.MapBuilder)
		if null(0.2) {
			mb.AppendNull()
		} else {
			mb.Append(true)
			for k := range rng.IntN(3) {
				mb.KeyBuilder().(*array.StringBuilder).Append(fmt.Sprintf("k%d", k))
				if null(0.3) {
					mb.ItemBuilder().(*array.Int32Builder).AppendNull()
				} else {
					mb.ItemBuilder().(*array.Int32Builder).Append(int32(rng.IntN(100)))
				}
			}
		}

		rb := b.Field(5).(*array.ListBuilder)
		rb.Append(true)
		eb := rb.ValueBuilder().(*array.StructBuilder)
		for range rng.IntN(3) {
			if null(0.2) {
				eb.AppendNull()
				continue
			}
			eb.Append(true)
			eb.FieldBuilder(0).(*array.StringBuilder).Append(word())
		}

		if null(0.1) {
			b.Field(6).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(6).(*array.StringBuilder).Append(word())
		}

		nb := b.Field(7).(*array.StructBuilder)
		nb.AppendNull()
	}
	rec := b.NewRecordBatch()
	if variant != 5 {
		return rec
	}
	// A NULL list that still spans elements (Arrow allows it): its
	// elements are skipped, and the leaf values come in several ranges.
	defer rec.Release()
	tags := rec.Column(2).(*array.List)
	offs := append([]int32(nil), tags.Offsets()...)
	valid := make([]byte, (rows+7)/8)
	for i := range rows {
		if i%5 != 2 {
			valid[i/8] |= 1 << (i % 8)
		}
	}
	// Give every row an element: the values' length is unchanged, the
	// offsets only spread the empty lists over the elements that follow.
	vals := tags.ListValues()
	for i := range offs {
		offs[i] = int32(min(i, vals.Len()))
	}
	nulls := 0
	for i := range rows {
		if i%5 == 2 {
			nulls++
		}
	}
	data := array.NewData(tags.DataType(), rows, []*memory.Buffer{memory.NewBufferBytes(valid), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))},
		[]arrow.ArrayData{vals.Data()}, nulls, 0)
	defer data.Release()
	newTags := array.MakeFromData(data)
	defer newTags.Release()

	// NULL structs over valid children: the children are written as NULLs
	// of their parent, not as values.
	st := rec.Column(1)
	sValid := make([]byte, (rows+7)/8)
	sNulls := 0
	for i := range rows {
		if st.IsValid(i) && i%7 != 3 {
			sValid[i/8] |= 1 << (i % 8)
		} else {
			sNulls++
		}
	}
	sData := array.NewData(st.DataType(), rows, []*memory.Buffer{memory.NewBufferBytes(sValid)}, st.Data().Children(), sNulls, 0)
	defer sData.Release()
	newS := array.MakeFromData(sData)
	defer newS.Release()

	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[1], cols[2] = newS, newTags
	return array.NewRecordBatch(sc, cols, int64(rows))
}

// writeFile writes batches (nil cuts the row group) to a new file of
// schema sc under root and returns its path, calling before(f) before it
// finishes.
func writeFile(t *testing.T, root, name string, sc *arrow.Schema, o Options, batches []arrow.RecordBatch, before func(*File)) string {
	t.Helper()
	f, err := NewFile(context.Background(), &storage.LocalSink{Root: root}, name, "", sc, o)
	require.NoError(t, err)
	for _, rec := range batches {
		if rec == nil {
			f.cutPending = true
			continue
		}
		require.NoError(t, f.Write(rec))
	}
	if before != nil {
		before(f)
	}
	_, err = f.Finish()
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	return filepath.Join(root, name)
}

// CloudTrail batches with numbered top-level strings and struct leaves (two
// objects, each numbering afresh; a batch without numbers and a slice
// between them) read back as the same batches written without numbers do,
// with exact footer and page statistics and the same footer statistics, at
// the default sizes, with small pages (batches written in slices) and with
// small dictionaries (falling back to plain); the numbered columns went in
// as dictionary indices.
func TestNumberedCloudTrailReadsBackEqual(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sc := schema.CloudTrailSchema()
	numbered := append(cloudTrailBatches(t, mem, 11, 4<<20, 600, true), cloudTrailBatches(t, mem, 12, 2<<20, 450, true)...)
	defer releaseAll(numbered)
	var plain, writes []arrow.RecordBatch
	defer func() { releaseAll(plain) }()
	indexed := 0
	for _, rec := range numbered {
		if ix, ok := rec.(valueNumbers); ok {
			indexed++
			for _, name := range []string{"eventname", "eventsource", "awsregion", "useragent"} {
				i := sc.FieldIndices(name)[0]
				nums, bound := ix.ValueNumbers(i)
				require.NotNil(t, nums, name)
				parquettest.RequireNumbersMatchValues(t, name, rec.Column(i).(*array.String), nums, bound)
			}
			for _, name := range []string{"eventid", "requestid", "eventtime", "requestparameters"} {
				nums, _ := ix.ValueNumbers(sc.FieldIndices(name)[0])
				require.Nil(t, nums, "%s is not numbered", name)
			}
			ln, ok := rec.(leafNumbers)
			require.True(t, ok, "struct leaves are numbered")
			ui := rec.Column(sc.FieldIndices("useridentity")[0]).(*array.Struct)
			for leaf, col := range map[int]*array.String{
				useridentityType: ui.Field(0).(*array.String),
				useridentityArn:  ui.Field(2).(*array.String),
			} {
				nums, bound := ln.LeafNumbers(leaf)
				require.NotNil(t, nums, leaf)
				parquettest.RequireNumbersMatchValues(t, fmt.Sprint("leaf ", leaf), col, nums, bound)
			}
			nums, _ := ln.LeafNumbers(useridentityArn + 1) // accountid is, principalid not
			require.NotNil(t, nums)
			nums, _ = ln.LeafNumbers(useridentityType + 1)
			require.Nil(t, nums, "principalid is not numbered")
		}
		plain = append(plain, withoutNumbers(rec))
	}
	require.Equal(t, len(numbered), indexed, "every batch numbers its repeating columns")
	require.Greater(t, len(numbered), 6)
	// A batch without numbers, a slice, a row group cut.
	mix := func(bs []arrow.RecordBatch) []arrow.RecordBatch {
		sl := SliceBatch(bs[3], 101, bs[3].NumRows())
		return append([]arrow.RecordBatch{bs[0], plain[1], bs[2], sl, nil}, bs[4:]...)
	}
	writes = mix(numbered)
	plainWrites := mix(plain)
	defer writes[3].Release()
	defer plainWrites[3].Release()
	_, isSlice := writes[3].(valueNumbers)
	require.True(t, isSlice, "a slice keeps its numbers")

	eventname := sc.FieldIndices("eventname")[0]
	for _, o := range []Options{{Mem: mem}, {Mem: mem, DataPageBytes: 16 << 10}, {Mem: mem, DictionaryPageBytes: 2 << 10}} {
		root := t.TempDir()
		a := writeFile(t, root, "numbered.parquet", sc, o, writes, func(f *File) {
			fw := f.fw.(*flatWriter)
			require.NotEmpty(t, fw.dicts[eventname].values, "eventname went in as dictionary indices")
			nf := fw.nested[sc.FieldIndices("useridentity")[0]]
			require.NotEmpty(t, nf.dicts[useridentityType-fw.leaf[1]].values, "useridentity.type went in as dictionary indices")
		})
		b := writeFile(t, root, "plain.parquet", sc, o, plainWrites, nil)
		got, want := parquettest.Read(t, a), parquettest.Read(t, b)
		require.Equal(t, want.NumRows, got.NumRows)
		require.Equal(t, want.RowGroups, got.RowGroups)
		require.Equal(t, want.Rows, got.Rows)
		parquettest.CheckStatistics(t, a)
		parquettest.CheckStatisticsParquetGo(t, a)
		gotPG, _ := parquettest.ReadParquetGo(t, a)
		wantPG, _ := parquettest.ReadParquetGo(t, b)
		require.Equal(t, wantPG, gotPG)
		require.Equal(t, footerStatistics(t, b), footerStatistics(t, a))
	}
}

// The Parquet columns of useridentity.type and useridentity.arn.
const (
	useridentityType = 1
	useridentityArn  = 3
)

// footerStatistics lists the footer statistics of every column chunk.
func footerStatistics(t *testing.T, path string) []string {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	var out []string
	for rg := range pf.NumRowGroups() {
		for c := range pf.MetaData().Schema.NumColumns() {
			cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(c)
			require.NoError(t, err)
			st, err := cc.Statistics()
			require.NoError(t, err)
			line := fmt.Sprintf("%d %s values %d", rg, pf.MetaData().Schema.Column(c).Path(), cc.NumValues())
			if st != nil {
				line += fmt.Sprintf(" nulls %d min/max %v %q %q", st.NullCount(), st.HasMinMax(), st.EncodeMin(), st.EncodeMax())
			}
			out = append(out, line)
		}
	}
	return out
}

// The leaves of a struct start from the levels of the steps their paths
// share (levelBuilder.structLevels): sibling leaves, cousins under sibling
// structs (the same child index under different parents), a required leaf
// with NULLs after nullable ones, structs all NULL and NULL-free, in
// batches of each shape in turn, are written to the bytes pqarrow writes.
func TestStructLevelsSharePrefixes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str := arrow.BinaryTypes.String
	s1 := arrow.StructOf(
		arrow.Field{Name: "x", Type: str, Nullable: true},
		arrow.Field{Name: "y", Type: str, Nullable: true},
		arrow.Field{Name: "z", Type: arrow.PrimitiveTypes.Int32},
	)
	p := arrow.StructOf(
		arrow.Field{Name: "q", Type: str, Nullable: true},
		arrow.Field{Name: "r", Type: str},
	)
	s2 := arrow.StructOf(
		arrow.Field{Name: "x", Type: str, Nullable: true},
		arrow.Field{Name: "p", Type: p, Nullable: true},
	)
	u := arrow.StructOf(
		arrow.Field{Name: "a", Type: str, Nullable: true},
		arrow.Field{Name: "s1", Type: s1, Nullable: true},
		arrow.Field{Name: "s3", Type: s1, Nullable: true}, // s1's shape, its own NULLs
		arrow.Field{Name: "s2", Type: s2},
	)
	sc := arrow.NewSchema([]arrow.Field{{Name: "u", Type: u, Nullable: true}, {Name: "v", Type: u, Nullable: true}}, nil)
	require.True(t, writable(sc))
	rng := rand.New(rand.NewPCG(21, 22))
	var batches []arrow.RecordBatch
	for variant := range 8 {
		// 0, 4: NULLs anywhere; 1, 5: none; 2: s1 always NULL; 3: u always NULL.
		null := func(pr float64, always bool) bool {
			switch variant % 4 {
			case 1:
				return false
			case 2, 3:
				if always {
					return true
				}
			}
			return rng.Float64() < pr
		}
		b := array.NewRecordBuilder(mem, sc)
		for range 300 + 50*variant {
			for c := range 2 {
				ub := b.Field(c).(*array.StructBuilder)
				if null(0.15, variant%4 == 3) {
					ub.AppendNull()
					continue
				}
				ub.Append(true)
				appendStr := func(sb *array.StringBuilder, pr float64) {
					if null(pr, false) {
						sb.AppendNull()
					} else {
						sb.Append(fmt.Sprintf("w%d", rng.IntN(30)))
					}
				}
				appendStr(ub.FieldBuilder(0).(*array.StringBuilder), 0.2)
				b1 := ub.FieldBuilder(1).(*array.StructBuilder)
				if null(0.25, variant%4 == 2) {
					b1.AppendNull() // NULLs in the children, z's too
				} else {
					b1.Append(true)
					appendStr(b1.FieldBuilder(0).(*array.StringBuilder), 0.3)
					appendStr(b1.FieldBuilder(1).(*array.StringBuilder), 0.1)
					b1.FieldBuilder(2).(*array.Int32Builder).Append(int32(rng.IntN(7)))
				}
				b3 := ub.FieldBuilder(2).(*array.StructBuilder)
				if null(0.5, false) {
					b3.AppendNull()
				} else {
					b3.Append(true)
					appendStr(b3.FieldBuilder(0).(*array.StringBuilder), 0.5)
					appendStr(b3.FieldBuilder(1).(*array.StringBuilder), 0.05)
					b3.FieldBuilder(2).(*array.Int32Builder).Append(int32(rng.IntN(7)))
				}
				b2 := ub.FieldBuilder(3).(*array.StructBuilder)
				b2.Append(true)
				appendStr(b2.FieldBuilder(0).(*array.StringBuilder), 0.3)
				pb := b2.FieldBuilder(1).(*array.StructBuilder)
				if null(0.3, false) {
					pb.AppendNull()
				} else {
					pb.Append(true)
					appendStr(pb.FieldBuilder(0).(*array.StringBuilder), 0.3)
					pb.FieldBuilder(1).(*array.StringBuilder).Append(fmt.Sprintf("r%d", rng.IntN(5)))
				}
			}
		}
		batches = append(batches, b.NewRecordBatch())
		b.Release()
	}
	defer releaseAll(batches)
	for _, o := range []Options{{Mem: mem}, {Mem: mem, DataPageBytes: 8 << 10}} {
		ours, theirs := writeBothWays(t, mem, sc, o, batches)
		requireSameFile(t, ours, theirs)
	}
}
