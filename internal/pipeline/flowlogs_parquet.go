package pipeline

import (
	"bytes"
	"fmt"
	"io"

	"convert/internal/reader"
	"convert/internal/reader/vpcflow"
)

// sniffParquet reads the first bytes of an object's content and reports
// whether they are the Parquet magic bytes. The returned reader reads the
// whole content again, those bytes included. AWS compresses Parquet flow logs
// inside the file (GZIP column chunks), so the object itself is not gzip and
// reader.Decode hands it over as it is; a gzip-wrapped Parquet file is
// recognised after decompression just the same.
func sniffParquet(r io.Reader, object string) (io.Reader, bool, error) {
	head := make([]byte, len(vpcflow.ParquetMagic))
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, false, &reader.ParseError{Object: object, Err: err}
	}
	head = head[:n]
	return io.MultiReader(bytes.NewReader(head), r), vpcflow.IsParquet(head), nil
}

// newParquetReader reads an AWS-delivered Parquet flow-log object: spilled to
// a temporary file (Parquet needs random access), then read row group by row
// group onto the same columns and types as text (vpcflow.ParquetReader).
func (k *FlowLogs) newParquetReader(r io.Reader, src ObjectSource) (Reader, error) {
	rd, err := vpcflow.OpenParquetStream(r, k.Parquet, vpcflow.ParquetConfig{
		Object:    src.Object.Key,
		ChunkRows: k.ChunkRows,
		Reject:    src.Reject,
		Mem:       src.Mem,
	})
	if err != nil {
		return nil, err
	}
	if err := k.checkDatable(rd.Schema(), src, "the Parquet object has no start column"); err != nil {
		rd.Release()
		return nil, err
	}
	return k.classified(parquetFlowReader{rd}, src), nil
}

type parquetFlowReader struct{ *vpcflow.ParquetReader }

func (r parquetFlowReader) Counts() (int64, int64) {
	s := r.Stats()
	return s.Records, s.Rejected
}

func (r parquetFlowReader) Warnings() []string {
	var w []string
	if n := r.Stats().RepairedUTF8; n > 0 {
		w = append(w, fmt.Sprintf("%d Parquet flow-log rows held invalid UTF-8; those bytes were replaced by U+FFFD", n))
	}
	for _, f := range r.UnknownFields() {
		w = append(w, fmt.Sprintf("unknown flow-log Parquet column %q read as a string column", f))
	}
	return w
}
