package writer

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrow-go's Parquet writer (v18.8.0) takes a string column's values as
// slices of the array's data buffer, and its min/max statistics treat a nil
// slice as "no value". A batch whose strings are all "" (or NULL) has no data
// bytes; when its data buffer's Bytes() is nil, every "" is left out of the
// page's and row group's min, and engines that prune by statistics (Athena,
// Trino, Polars) skip the rows where the column is "". The readers never
// build such buffers (reader.CopyBuffer), but other producers do: compute.Take
// of rows that are all "" returns one. withValueBytes is the guard on the way
// into the Parquet writer, for every string and binary column at any depth.

// withValueBytes returns rec, or, when some string or binary array in it has
// a data buffer with nil bytes, a copy of rec whose such buffers are empty
// but not nil. The caller releases the result.
func withValueBytes(rec arrow.RecordBatch) arrow.RecordBatch {
	var cols []arrow.Array
	for i, col := range rec.Columns() {
		data, changed := dataWithValueBytes(col.Data())
		if !changed {
			continue
		}
		if cols == nil {
			cols = slices.Clone(rec.Columns())
		}
		cols[i] = array.MakeFromData(data)
		data.Release()
	}
	if cols == nil {
		rec.Retain()
		return rec
	}
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	for i, col := range cols {
		if col != rec.Column(i) {
			col.Release()
		}
	}
	return out
}

// dataWithValueBytes returns d's replacement and true when d or a child
// needs one; the caller releases the replacement. Otherwise it returns d
// (not retained) and false.
func dataWithValueBytes(d arrow.ArrayData) (arrow.ArrayData, bool) {
	var children []arrow.ArrayData
	for i, c := range d.Children() {
		nc, changed := dataWithValueBytes(c)
		if !changed {
			continue
		}
		if children == nil {
			children = slices.Clone(d.Children())
		}
		children[i] = nc
		defer nc.Release()
	}
	var buffers []*memory.Buffer
	switch d.DataType().ID() {
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		if b := d.Buffers(); len(b) > 2 && (b[2] == nil || b[2].Bytes() == nil) {
			buffers = slices.Clone(b)
			buffers[2] = memory.NewBufferBytes([]byte{})
		}
	}
	if children == nil && buffers == nil {
		return d, false
	}
	if children == nil {
		children = d.Children()
	}
	if buffers == nil {
		buffers = d.Buffers()
	}
	return array.NewData(d.DataType(), d.Len(), buffers, children, d.NullN(), d.Offset()), true
}
