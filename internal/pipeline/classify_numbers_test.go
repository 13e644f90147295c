package pipeline

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/require"

	"convert/internal/classify"
	"convert/internal/parquettest"
	"convert/internal/reader"
	"convert/internal/storage"
)

// classifyNumbersLog is a version 5 flow log whose records reach every
// source of remote_aws_service: the ranges' named services and AMAZON, a
// service only the record names (pkt-dst-aws-service), none.
func classifyNumbersLog(rows int) string {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr bytes start action log-status flow-direction pkt-dst-aws-service\n")
	for i := range rows {
		eni := fmt.Sprintf("eni-%017x", i%7)
		switch i % 6 {
		case 0: // S3 in us-east-1, from the ranges
			fmt.Fprintf(&b, "5 111122223333 %s 10.0.0.%d 52.0.%d.1 %d 1638576000 ACCEPT OK egress -\n", eni, i%200, i%50, i)
		case 1: // AMAZON in cn-north-1
			fmt.Fprintf(&b, "5 111122223333 %s 52.1.%d.9 10.0.1.1 %d 1638576000 ACCEPT OK ingress -\n", eni, i%50, i)
		case 2: // a service the record names, in a range of another
			fmt.Fprintf(&b, "5 444455556666 %s 10.0.0.3 52.0.9.%d %d 1638576000 REJECT OK egress DYNAMODB\n", eni, i%200, i)
		case 3: // internet
			fmt.Fprintf(&b, "5 444455556666 %s 10.0.0.4 203.0.113.%d %d 1638576000 ACCEPT OK egress -\n", eni, i%200, i)
		case 4:
			fmt.Fprintf(&b, "5 111122223333 %s 10.0.0.5 10.0.0.6 %d 1638576000 ACCEPT OK egress -\n", eni, i)
		default: // no addresses: every classification column NULL
			fmt.Fprintf(&b, "5 111122223333 %s - - - 1638576000 - NODATA - -\n", eni)
		}
	}
	return b.String()
}

func numbersClassifier(t *testing.T) *classify.Classifier {
	t.Helper()
	c, err := classify.New(classify.Config{
		VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")},
		AWSRanges: []classify.AWSRange{
			{Prefix: netip.MustParsePrefix("52.0.0.0/16"), Service: "AMAZON", Region: "us-east-1"},
			{Prefix: netip.MustParsePrefix("52.0.0.0/16"), Service: "S3", Region: "us-east-1"},
			{Prefix: netip.MustParsePrefix("52.1.0.0/16"), Service: "AMAZON", Region: "cn-north-1"},
			{Prefix: netip.MustParsePrefix("2600:1f00::/32"), Service: "EC2", Region: "cn-north-1"},
		},
	})
	require.NoError(t, err)
	return c
}

// numberedColumns reads every batch of kind's reader of text and returns
// the columns that carry value numbers in every batch, checking that the
// numbers are right: equal for two non-NULL rows exactly when their values
// are, and below their bound.
func numberedColumns(t *testing.T, kind *FlowLogs, text string) []string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := kind.NewReader(strings.NewReader(text), ObjectSource{Object: storage.Object{Key: "a.log"}, Mem: mem,
		Reject: func(r reader.Reject) { t.Errorf("rejected: %v", r) }})
	require.NoError(t, err)
	defer rd.Release()
	var numbered []string
	batches := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		ix, ok := rec.(*reader.Indexed)
		require.True(t, ok, "batch %d is a %T, not a *reader.Indexed: it lost its numbers", batches, rec)
		var names []string
		for i, f := range rec.Schema().Fields() {
			nums, bound := ix.ValueNumbers(i)
			if nums == nil {
				continue
			}
			names = append(names, f.Name)
			parquettest.RequireNumbersMatchValues(t, f.Name, rec.Column(i).(*array.String), nums, bound)
		}
		if batches == 0 {
			numbered = names
		} else {
			require.Equal(t, numbered, names, "batch %d", batches)
		}
		batches++
	}
	require.NoError(t, rd.Err())
	require.Greater(t, batches, 1)
	return numbered
}

// Classification keeps the reader's value numbers and numbers the low
// cardinality columns it adds, so that the writer writes them all as
// dictionary indices without hashing each value; the file has the values
// classify.Classify gives, each of those columns dictionary-encoded.
func TestClassifiedBatchesKeepValueNumbers(t *testing.T) {
	c := numbersClassifier(t)
	text := classifyNumbersLog(3000)

	plain := numberedColumns(t, &FlowLogs{ChunkRows: 700}, text)
	require.Subset(t, plain, []string{"account_id", "interface_id", "action", "log_status", "flow_direction", "pkt_dst_aws_service"})
	classified := numberedColumns(t, &FlowLogs{ChunkRows: 700, Classifier: c}, text)
	require.Equal(t, append(slices.Clone(plain), "remote_aws_service", "remote_aws_region"), classified)

	in := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(in, "a.log"), []byte(text), 0o644))
	out, s := convertKind(t, &FlowLogs{ChunkRows: 700, Classifier: c}, in, nil)
	require.Equal(t, int64(3000), s.RecordsWritten)
	files := parquettest.Files(t, out, ".parquet")
	require.Len(t, files, 1)
	path := filepath.Join(out, files[0])

	got := parquettest.Read(t, path)
	pgRows, n := parquettest.ReadParquetGo(t, path)
	require.Equal(t, got.NumRows, n)
	services := map[any]int{}
	for i, row := range got.Rows {
		f := classify.Flow{SrcAddr: str(row["srcaddr"]), DstAddr: str(row["dstaddr"]),
			FlowDirection: str(row["flow_direction"]), PktDstAWSService: str(row["pkt_dst_aws_service"])}
		want := c.Classify(&f)
		require.Equal(t, orNil(want.Class.String()), row["traffic_class"], "row %d", i)
		require.Equal(t, orNil(want.RemoteAddr), row["remote_addr"], "row %d", i)
		require.Equal(t, orNil(want.Service), row["remote_aws_service"], "row %d", i)
		require.Equal(t, orNil(want.Region), row["remote_aws_region"], "row %d", i)
		for _, name := range []string{"traffic_class", "remote_addr", "remote_aws_service", "remote_aws_region", "account_id", "interface_id"} {
			require.Equal(t, row[name], widen(pgRows[i][name]), "parquet-go row %d column %s", i, name)
		}
		services[row["remote_aws_service"]]++
	}
	require.Equal(t, map[any]int{"S3": 500, "AMAZON": 500, "DYNAMODB": 500, nil: 1500}, services)

	// Every numbered column, and traffic_class, is dictionary-encoded:
	// a dictionary page and only dictionary-encoded data pages.
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		md := pf.MetaData().RowGroup(rg)
		for i := 0; i < md.NumColumns(); i++ {
			cc, err := md.ColumnChunk(i)
			require.NoError(t, err)
			name := cc.PathInSchema().String()
			if !slices.Contains(classified, name) && name != "traffic_class" {
				continue
			}
			require.True(t, cc.HasDictionaryPage(), name)
			stats := cc.EncodingStats()
			require.NotEmpty(t, stats, name)
			for _, st := range stats {
				if pt := st.PageType.String(); pt == "DATA_PAGE" || pt == "DATA_PAGE_V2" {
					require.Equal(t, parquet.Encodings.RLEDict, st.Encoding, name)
				}
			}
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
