package classify

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"convert/internal/bench"
	"convert/internal/schema"
)

// flowBatch builds a flow-log record batch of the given columns (string
// columns; "-" is NULL) the way the reader types them.
func flowBatch(t testing.TB, mem memory.Allocator, names []string, rows [][]string) arrow.RecordBatch {
	t.Helper()
	var fields []arrow.Field
	for _, n := range names {
		f, _ := schema.VPCColumn(n)
		fields = append(fields, f)
	}
	sc := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			switch fb := b.Field(i).(type) {
			case *array.StringBuilder:
				if v == "-" {
					fb.AppendNull()
				} else {
					fb.Append(v)
				}
			case *array.Int32Builder:
				if v == "-" {
					fb.AppendNull()
				} else {
					var n int32
					fmt.Sscan(v, &n)
					fb.Append(n)
				}
			default:
				t.Fatalf("column %s: unexpected builder %T", names[i], fb)
			}
		}
	}
	return b.NewRecordBatch()
}

func TestAppendColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := fixtureClassifier(t)
	names := []string{"interface-id", "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr", "flow-direction", "traffic-path", "pkt-dst-aws-service"}
	rec := flowBatch(t, mem, names, [][]string{
		{natENI, "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", "ingress", "-", "-"},
		{natENI, "10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5", "egress", "8", "-"},
		{"eni-0bbb0000000000002", "10.0.1.5", "52.16.5.6", "10.0.1.5", "52.16.5.6", "egress", "7", "S3"},
		{"eni-0bbb0000000000002", "-", "-", "-", "-", "-", "-", "-"},
		{"eni-0bbb0000000000002", "2600:1f18:a:b00::1", "2600:1f18:a:b00::2", "-", "-", "egress", "1", "-"},
	})
	defer rec.Release()
	out, err := c.AppendColumns(rec)
	require.NoError(t, err)
	defer out.Release()

	require.True(t, out.Schema().Equal(schema.WithVPCClassification(rec.Schema())), out.Schema().String())
	require.EqualValues(t, 5, out.NumRows())
	for i := range rec.NumCols() {
		require.Same(t, rec.Column(int(i)), out.Column(int(i)), "the record's own columns are shared")
	}
	col := func(name string) []any {
		a := out.Column(out.Schema().FieldIndices(name)[0])
		vals := make([]any, a.Len())
		for i := range vals {
			if !a.IsNull(i) {
				vals[i] = a.GetOneForMarshal(i)
			}
		}
		return vals
	}
	require.Equal(t, []any{"internet_egress", "internet_egress", "aws_service", nil, "intra_vpc"}, col("traffic_class"))
	require.Equal(t, []any{"203.0.113.5", "203.0.113.5", "52.16.5.6", nil, nil}, col("remote_addr"))
	require.Equal(t, []any{nil, nil, "S3", nil, nil}, col("remote_aws_service"))
	require.Equal(t, []any{nil, nil, "us-east-1", nil, nil}, col("remote_aws_region"))
	require.Equal(t, []any{false, true, nil, nil, nil}, col("via_nat"))
}

func TestAppendColumnsVersion2AndErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	c := fixtureClassifier(t)
	// The default format: no interface-level NAT knowledge is lost, only
	// the packet addresses and version 5 fields are missing.
	rec := flowBatch(t, mem, []string{"srcaddr", "dstaddr"}, [][]string{{"10.0.1.5", "203.0.113.5"}, {"52.17.8.1", "10.0.1.5"}})
	defer rec.Release()
	out, err := c.AppendColumns(rec)
	require.NoError(t, err)
	defer out.Release()
	class := out.Column(2)
	require.Equal(t, "internet_egress", class.ValueStr(0))
	require.Equal(t, "aws_service", class.ValueStr(1))
	require.Equal(t, "DYNAMODB", out.Column(4).(*array.String).Value(1))
	require.Equal(t, 2, out.Column(6).NullN(), "no interface-id: via_nat is NULL")

	clash := flowBatch(t, mem, []string{"srcaddr", "traffic-class"}, [][]string{{"10.0.1.5", "x"}})
	defer clash.Release()
	_, err = c.AppendColumns(clash)
	require.ErrorContains(t, err, "already has a column traffic_class")
}

// syntheticFlows makes n rows of a version 5 format, the mix of the
// pipeline benchmark plus AWS services, NAT ENIs and IPv6.
func syntheticFlows(t testing.TB, n int) arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(5, 6))
	names := []string{"interface-id", "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr", "flow-direction", "traffic-path", "pkt-src-aws-service", "pkt-dst-aws-service"}
	rows := make([][]string, n)
	for i := range rows {
		local := fmt.Sprintf("10.0.%d.%d", rng.IntN(256), rng.IntN(256))
		var remote string
		switch rng.IntN(5) {
		case 0:
			remote = fmt.Sprintf("10.0.%d.%d", rng.IntN(256), rng.IntN(256))
		case 1:
			remote = fmt.Sprintf("52.%d.%d.%d", 16+rng.IntN(2), rng.IntN(256), rng.IntN(256))
		case 2:
			remote = fmt.Sprintf("2600:1fa0:4000::%x", rng.IntN(1<<16))
			local = fmt.Sprintf("2600:1f18:a:b00::%x", rng.IntN(1<<16))
		default:
			remote = fmt.Sprintf("203.0.%d.%d", rng.IntN(256), rng.IntN(256))
		}
		eni := fmt.Sprintf("eni-%017x", rng.IntN(300))
		if rng.IntN(10) == 0 {
			eni = natENI
		}
		if rng.IntN(2) == 0 {
			rows[i] = []string{eni, local, remote, local, remote, "egress", "1", "-", "-"}
		} else {
			rows[i] = []string{eni, remote, local, remote, local, "ingress", "-", "-", "-"}
		}
	}
	return flowBatch(t, memory.DefaultAllocator, names, rows)
}

func TestAppendColumnsAllocationsDoNotGrowWithRows(t *testing.T) {
	c := fixtureClassifier(t)
	allocs := func(n int) float64 {
		rec := syntheticFlows(t, n)
		defer rec.Release()
		return testing.AllocsPerRun(5, func() {
			out, err := c.AppendColumns(rec)
			if err != nil {
				t.Fatal(err)
			}
			out.Release()
		})
	}
	small, large := allocs(100), allocs(10000)
	require.Equal(t, small, large, "allocations per batch, not per row")
	require.Less(t, large, 100.0)
}

// BenchmarkAppendColumns classifies batches of the reader's default size;
// MB/s is of the classified columns' input text (addresses and fields), and
// cpu-ns/row the process's CPU time per row.
func BenchmarkAppendColumns(b *testing.B) {
	c := fixtureClassifier(b)
	rec := syntheticFlows(b, 32<<10)
	defer rec.Release()
	var text int64
	for _, col := range rec.Columns() {
		if s, ok := col.(*array.String); ok {
			text += int64(len(s.ValueBytes()))
		}
	}
	b.SetBytes(text)
	b.ReportAllocs()
	cpu := bench.ProcessCPU()
	for b.Loop() {
		out, err := c.AppendColumns(rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	// CPU time, not wall time: the machines this runs on are shared.
	rows := float64(int64(b.N) * rec.NumRows())
	b.ReportMetric(float64((bench.ProcessCPU()-cpu).Nanoseconds())/rows, "cpu-ns/row")
}

// BenchmarkAppendColumnsDefaultFormat classifies the rows of the pipeline
// benchmark (default format, 10.0-3.x.x to 52.x.x.x) against some 10,000
// made-up AWS prefixes: the cost that BenchmarkFlowLogsPipelineClassified
// adds before writing.
func BenchmarkAppendColumnsDefaultFormat(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	var ranges []AWSRange
	for i := 0; i < 10000; i++ {
		a := netip.AddrFrom4([4]byte{byte(rng.IntN(224)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
		ranges = append(ranges, AWSRange{Prefix: netip.PrefixFrom(a, 14+rng.IntN(11)).Masked(), Service: "AMAZON", Region: "us-east-1"})
	}
	c, err := New(Config{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/14")},
		NATGatewayENIs: []string{"eni-00000000000000001", "eni-00000000000000002"}, AWSRanges: ranges})
	require.NoError(b, err)
	rows := make([][]string, 32<<10)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("eni-%017x", rng.IntN(300)), fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), rng.IntN(256)),
			fmt.Sprintf("52.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256))}
	}
	rec := flowBatch(b, memory.DefaultAllocator, []string{"interface-id", "srcaddr", "dstaddr"}, rows)
	defer rec.Release()
	b.ReportAllocs()
	cpu := bench.ProcessCPU()
	for b.Loop() {
		out, err := c.AppendColumns(rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64((bench.ProcessCPU()-cpu).Nanoseconds())/float64(int64(b.N)*rec.NumRows()), "cpu-ns/row")
}
