package classify

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/reader"
	"convert/internal/schema"
)

// stringColumn is a string array of any layout (String, LargeString,
// StringView); Value does not copy.
type stringColumn interface {
	IsNull(i int) bool
	Value(i int) string
}

// valueNumbers is a batch with numbered string values (reader.Indexed).
type valueNumbers interface {
	ValueNumbers(col int) ([]int32, int)
}

// AppendColumns returns rec with the classification columns
// (schema.VPCClassFields) appended, one value per row; rec's own columns
// are shared, not copied. The result must be released. Columns the record
// lacks (flow-log fields of versions 3 to 5) count as NULL; a record that
// already has a column of that name is an error.
//
// The result is a *reader.Indexed: it keeps the value numbers of rec's
// columns (when rec is a *reader.Indexed, as the flow-log reader's batches
// are) and numbers remote_aws_service and remote_aws_region by the
// Classifier's own tables, so that the writer writes all of them as
// dictionary indices without hashing each value (traffic_class is an Arrow
// dictionary already). Its numbers are valid as long as rec's.
func (c *Classifier) AppendColumns(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	sc := rec.Schema()
	for _, f := range schema.VPCClassFields {
		if len(sc.FieldIndices(f.Name)) > 0 {
			return nil, fmt.Errorf("classify: the flow log already has a column %s; classification would replace it", f.Name)
		}
	}
	var err error
	var converted []arrow.Array
	defer func() {
		for _, a := range converted {
			a.Release()
		}
	}()
	str := func(name string) strColumn {
		idx := sc.FieldIndices(name)
		if len(idx) == 0 {
			return strColumn{}
		}
		switch col := rec.Column(idx[0]).(type) {
		case *array.String:
			return newStrColumn(col)
		case stringColumn:
			// Another string layout: copied once per batch into the one
			// the loop reads fast.
			s := toString(col, rec.Column(idx[0]).Len())
			converted = append(converted, s)
			return newStrColumn(s)
		}
		if err == nil {
			err = fmt.Errorf("classify: column %s is %s, not a string", name, rec.Column(idx[0]).DataType())
		}
		return strColumn{}
	}
	var (
		iface  = str("interface_id")
		src    = str("srcaddr")
		dst    = str("dstaddr")
		pktSrc = str("pkt_srcaddr")
		pktDst = str("pkt_dstaddr")
		dir    = str("flow_direction")
		srcSvc = str("pkt_src_aws_service")
		dstSvc = str("pkt_dst_aws_service")
		path   *array.Int32
	)
	if idx := sc.FieldIndices("traffic_path"); len(idx) > 0 {
		var ok bool
		if path, ok = rec.Column(idx[0]).(*array.Int32); !ok && err == nil {
			err = fmt.Errorf("classify: column traffic_path is %s, not int32", rec.Column(idx[0]).DataType())
		}
	}
	if err != nil {
		return nil, err
	}
	if len(c.nat) == 0 {
		iface = strColumn{} // only NAT gateway ENIs matter
	}

	n := int(rec.NumRows())
	classValid, classIdx := make([]byte, bitutil.BytesForBits(int64(n))), make([]int8, n)
	classNulls := 0
	remote, service, region := newStrings(n, 14), newStrings(n, 4), newStrings(n, 8)
	natValid, natValue := make([]byte, bitutil.BytesForBits(int64(n))), make([]byte, bitutil.BytesForBits(int64(n)))
	natNulls := 0
	serviceNums, regionNums := make([]int32, n), make([]int32, n)
	services := len(c.serviceIDs)
	var named map[string]int32 // services the records name that the ranges lack
	var (
		f Flow
		r Result
	)
	for i := 0; i < n; i++ {
		f = Flow{
			InterfaceID: iface.get(i), SrcAddr: src.get(i), DstAddr: dst.get(i),
			PktSrcAddr: pktSrc.get(i), PktDstAddr: pktDst.get(i), FlowDirection: dir.get(i),
			PktSrcAWSService: srcSvc.get(i), PktDstAWSService: dstSvc.get(i),
		}
		if path != nil && path.IsValid(i) {
			f.TrafficPath = path.Value(i)
		}
		aws := c.classify(&f, &r)
		if r.Class == None {
			classNulls++
		} else {
			bitutil.SetBit(classValid, i)
			classIdx[i] = int8(r.Class - 1)
		}
		remote.add(r.RemoteAddr)
		service.add(r.Service)
		region.add(r.Region)
		if aws >= 0 {
			regionNums[i] = c.regionNum[aws]
		}
		switch {
		case r.Service == "":
		case aws >= 0 && r.Service == c.service[aws]:
			serviceNums[i] = c.serviceNum[aws]
		default: // named by the record (version 5)
			k, ok := c.serviceIDs[r.Service]
			if !ok {
				if k, ok = named[r.Service]; !ok {
					if named == nil {
						named = map[string]int32{}
					}
					k = int32(services)
					named[r.Service] = k
					services++
				}
			}
			serviceNums[i] = k
		}
		switch r.ViaNAT {
		case NotNAT:
			natNulls++
		case NATOutside:
			bitutil.SetBit(natValue, i)
			fallthrough
		default:
			bitutil.SetBit(natValid, i)
		}
	}

	cols := make([]arrow.Array, 0, sc.NumFields()+len(schema.VPCClassFields))
	cols = append(cols, rec.Columns()...)
	indices := array.NewData(arrow.PrimitiveTypes.Int8, n, []*memory.Buffer{validityBuffer(classValid, classNulls),
		memory.NewBufferBytes(arrow.Int8Traits.CastToBytes(classIdx))}, nil, classNulls, 0)
	classData := array.NewData(schema.VPCClassFields[0].Type, n, indices.Buffers(), nil, classNulls, 0)
	classData.SetDictionary(classDictionary.Data())
	indices.Release()
	cols = append(cols, array.MakeFromData(classData))
	classData.Release()
	for _, s := range []*stringsBuilder{remote, service, region} {
		cols = append(cols, s.array(n))
	}
	natData := array.NewData(arrow.FixedWidthTypes.Boolean, n,
		[]*memory.Buffer{validityBuffer(natValid, natNulls), memory.NewBufferBytes(natValue)}, nil, natNulls, 0)
	cols = append(cols, array.MakeFromData(natData))
	natData.Release()
	out := array.NewRecordBatch(schema.WithVPCClassification(sc), cols, int64(n))
	for _, col := range cols[sc.NumFields():] {
		col.Release()
	}
	nums, bounds := make([][]int32, len(cols)), make([]int, len(cols))
	if in, ok := rec.(valueNumbers); ok {
		for i := range sc.NumFields() {
			nums[i], bounds[i] = in.ValueNumbers(i)
		}
	}
	serviceCol, regionCol := sc.NumFields()+serviceField, sc.NumFields()+regionField
	nums[serviceCol], bounds[serviceCol] = serviceNums, services
	nums[regionCol], bounds[regionCol] = regionNums, c.regions
	return reader.NewIndexed(out, nums, bounds), nil
}

// serviceField and regionField are the positions of remote_aws_service and
// remote_aws_region in schema.VPCClassFields.
var serviceField, regionField = classField("remote_aws_service"), classField("remote_aws_region")

func classField(name string) int {
	return slices.IndexFunc(schema.VPCClassFields, func(f arrow.Field) bool { return f.Name == name })
}

// classDictionary holds the class names in Class order from IntraVPC: the
// dictionary of every batch's traffic_class, the same array each time, so
// that the Parquet writer keeps one dictionary. Arrow arrays are immutable
// and their reference counts atomic: batches on any goroutine share it.
var classDictionary = func() arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(classNames[1:], nil)
	return b.NewArray()
}()

// strColumn reads a string array's buffers directly, so that reading a
// value is inlined; the zero strColumn is an absent column (all NULL).
type strColumn struct {
	valid  []byte // nil: no NULLs
	offset int    // of the array in its validity bitmap
	offs   []int32
	data   string
}

func newStrColumn(a *array.String) strColumn {
	c := strColumn{offset: a.Data().Offset(), offs: a.ValueOffsets()}
	if a.NullN() > 0 {
		c.valid = a.NullBitmapBytes()
	}
	if b := a.Data().Buffers()[2]; b != nil && b.Len() > 0 {
		c.data = unsafe.String(&b.Bytes()[0], b.Len())
	}
	return c
}

func (c *strColumn) get(i int) string {
	if c.offs == nil || c.valid != nil && c.valid[(c.offset+i)>>3]&(1<<((c.offset+i)&7)) == 0 {
		return ""
	}
	return c.data[c.offs[i]:c.offs[i+1]]
}

func toString(col stringColumn, n int) *array.String {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(col.Value(i))
		}
	}
	return b.NewStringArray()
}

// stringsBuilder builds a nullable string column in plain slices that become
// the array's buffers without a copy ("" is NULL).
type stringsBuilder struct {
	valid []byte
	nulls int
	offs  []int32
	data  []byte
}

func newStrings(n, avg int) *stringsBuilder {
	b := &stringsBuilder{valid: make([]byte, bitutil.BytesForBits(int64(n))), offs: make([]int32, 1, n+1)}
	b.data = make([]byte, 0, n*avg)
	return b
}

func (b *stringsBuilder) add(s string) {
	if s == "" {
		b.nulls++
	} else {
		bitutil.SetBit(b.valid, len(b.offs)-1)
		b.data = append(b.data, s...)
	}
	b.offs = append(b.offs, int32(len(b.data)))
}

func (b *stringsBuilder) array(n int) arrow.Array {
	data := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{validityBuffer(b.valid, b.nulls),
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.offs)), memory.NewBufferBytes(b.data)}, nil, b.nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

func validityBuffer(valid []byte, nulls int) *memory.Buffer {
	if nulls == 0 {
		return nil
	}
	return memory.NewBufferBytes(valid)
}
