package classify

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Class is a record's traffic class (the traffic_class column).
type Class uint8

// The classes. None is a record with nothing to classify (NODATA and
// SKIPDATA records have no addresses): its columns are NULL.
const (
	None            Class = iota
	IntraVPC              // both ends in the VPC CIDRs
	InternetEgress        // from the VPC to a public address
	InternetIngress       // from a public address to the VPC
	AWSService            // to or from an AWS service other than EC2
	PrivateOther          // to or from a private address outside the VPC CIDRs: peering, VPN, Direct Connect
	Unknown               // neither end in the VPC CIDRs and no flow-direction to tell
)

var classNames = [...]string{"", "intra_vpc", "internet_egress", "internet_ingress", "aws_service", "private_other", "unknown"}

// String returns the column value ("" for None).
func (c Class) String() string { return classNames[c] }

// NAT says whether a record is a NAT gateway's internet leg (the via_nat
// column).
type NAT uint8

const (
	// NotNAT: the record is not on a NAT gateway ENI given in Config (NULL).
	NotNAT NAT = iota
	// NATInside: on a NAT gateway ENI, between it and an address in the VPC
	// CIDRs (false): the leg that says who uses the NAT gateway.
	NATInside
	// NATOutside: on a NAT gateway ENI, between it and an address outside
	// the VPC CIDRs (true): the internet leg, to sum internet bytes once.
	NATOutside
)

// Config is what a Classifier knows about the network.
type Config struct {
	// VPCCIDRs are our networks: every CIDR, primary and secondary, IPv4
	// and IPv6, of the VPCs whose flow logs are read (and of those whose
	// traffic is to count as ours, such as spokes behind a Transit Gateway).
	VPCCIDRs []netip.Prefix
	// NATGatewayENIs are the network interfaces of NAT gateways.
	NATGatewayENIs []string
	// AWSRanges are AWS's published IP ranges (ip-ranges.json).
	AWSRanges []AWSRange
}

// Classifier classifies flow-log records. It is read-only once built.
type Classifier struct {
	local   prefixTable
	aws     prefixTable
	service []string // by value of aws
	region  []string
	nat     map[string]bool
	natList []string // the same, searched when few
	// serviceNum and regionNum number the distinct names of service and
	// region, by value of aws: AppendColumns hands them to the writer as
	// the columns' value numbers (see reader.Indexed), so that it writes
	// dictionary indices without hashing the names row by row.
	serviceNum, regionNum []int32
	serviceIDs            map[string]int32 // distinct service name → number
	regions               int              // distinct region names
}

// New builds a Classifier. It needs at least one VPC CIDR.
func New(cfg Config) (*Classifier, error) {
	if len(cfg.VPCCIDRs) == 0 {
		return nil, fmt.Errorf("%w: no VPC CIDRs: classification needs the VPC's CIDRs (--vpc-cidrs)", ErrSource)
	}
	c := &Classifier{nat: map[string]bool{}}
	local := make([]prefixValue, len(cfg.VPCCIDRs))
	for i, p := range cfg.VPCCIDRs {
		local[i] = prefixValue{prefix: p.Masked()}
	}
	c.local = newPrefixTable(local)
	for _, e := range cfg.NATGatewayENIs {
		if !c.nat[e] {
			c.natList = append(c.natList, e)
		}
		c.nat[e] = true
	}
	// ip-ranges.json lists a prefix once per service: AMAZON (every AWS
	// address) and, for some, a service such as S3 or EC2. The named
	// service is the more specific answer; of two named services (rare),
	// the first in name order, so the result does not depend on file order.
	best := map[netip.Prefix]AWSRange{}
	for _, r := range cfg.AWSRanges {
		p := r.Prefix.Masked()
		old, ok := best[p]
		if !ok || rangeRank(r, old) < 0 {
			best[p] = r
		}
	}
	prefixes := make([]netip.Prefix, 0, len(best))
	for p := range best {
		prefixes = append(prefixes, p)
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int {
		if n := a.Addr().Compare(b.Addr()); n != 0 {
			return n
		}
		return cmp.Compare(a.Bits(), b.Bits())
	})
	names := map[[2]string]int32{}
	c.serviceIDs = map[string]int32{}
	regionIDs := map[string]int32{}
	number := func(ids map[string]int32, name string) int32 {
		k, ok := ids[name]
		if !ok {
			k = int32(len(ids))
			ids[name] = k
		}
		return k
	}
	entries := make([]prefixValue, 0, len(prefixes))
	for _, p := range prefixes {
		r := best[p]
		k := [2]string{r.Service, r.Region}
		v, ok := names[k]
		if !ok {
			v = int32(len(c.service))
			names[k] = v
			c.service, c.region = append(c.service, r.Service), append(c.region, r.Region)
			c.serviceNum = append(c.serviceNum, number(c.serviceIDs, r.Service))
			c.regionNum = append(c.regionNum, number(regionIDs, r.Region))
		}
		entries = append(entries, prefixValue{prefix: p, val: v})
	}
	c.aws = newPrefixTable(entries)
	c.regions = len(regionIDs)
	return c, nil
}

// rangeRank orders two ranges of the same prefix: a named service before
// AMAZON, then by service and region name.
func rangeRank(a, b AWSRange) int {
	if (a.Service == "AMAZON") != (b.Service == "AMAZON") {
		if a.Service == "AMAZON" {
			return 1
		}
		return -1
	}
	if n := cmp.Compare(a.Service, b.Service); n != 0 {
		return n
	}
	return cmp.Compare(a.Region, b.Region)
}

// Flow is what classification reads of a record; "" and 0 mean the field
// is absent or NULL.
type Flow struct {
	InterfaceID      string
	SrcAddr, DstAddr string
	// PktSrcAddr and PktDstAddr (version 3) are the packet's own addresses
	// where they differ from the interface's (NAT gateways, EKS pods).
	PktSrcAddr, PktDstAddr string
	// FlowDirection (version 5) is ingress or egress, seen from the interface.
	FlowDirection string
	// TrafficPath (version 5) is the egress path, 1 to 8.
	TrafficPath int32
	// PktSrcAWSService and PktDstAWSService (version 5) name the AWS
	// service of an address, in ip-ranges.json's names.
	PktSrcAWSService, PktDstAWSService string
}

// Result is a record's classification. RemoteAddr is a substring of the
// record's fields; Service and Region are the Classifier's own strings.
type Result struct {
	Class      Class
	RemoteAddr string // the end outside the VPC CIDRs ("" for intra_vpc and unknown)
	Service    string // the remote end's AWS service, if known
	Region     string // the remote end's AWS region, if known from the ranges
	ViaNAT     NAT
}

// Classify classifies one record. It does not allocate.
func (c *Classifier) Classify(f *Flow) Result {
	var r Result
	c.classify(f, &r)
	return r
}

// classify is Classify into *r, which AppendColumns reuses row after row.
// It returns the value of the remote address in the AWS ranges (the index
// of r's Region and, unless the record named the service, of r's Service),
// or -1.
func (c *Classifier) classify(f *Flow, r *Result) int32 {
	*r = Result{}
	src, dst := f.SrcAddr, f.DstAddr
	sa, sok := parseAddr(src)
	da, dok := parseAddr(dst)
	if f.InterfaceID != "" && c.isNAT(f.InterfaceID) && sok && dok {
		// The interface's own addresses, not the packet's: on a NAT
		// gateway ENI, one end of every record is the gateway itself.
		r.ViaNAT = NATInside
		if !c.isLocal(sa) || !c.isLocal(da) {
			r.ViaNAT = NATOutside
		}
	}
	if f.PktSrcAddr != "" && f.PktSrcAddr != src {
		src = f.PktSrcAddr
		sa, sok = parseAddr(src)
	}
	if f.PktDstAddr != "" && f.PktDstAddr != dst {
		dst = f.PktDstAddr
		da, dok = parseAddr(dst)
	}
	switch {
	case src == "" || dst == "":
		r.ViaNAT = NotNAT
		return -1
	case !sok || !dok:
		r.Class = Unknown
		return -1
	}
	srcLocal, dstLocal := c.isLocal(sa), c.isLocal(da)
	var egress bool
	switch {
	case srcLocal && dstLocal:
		r.Class = IntraVPC
		return -1
	case srcLocal:
		egress = true
	case dstLocal:
		egress = false
	case f.FlowDirection == "egress":
		egress = true
	case f.FlowDirection == "ingress":
		egress = false
	default:
		r.Class = Unknown
		return -1
	}
	remote, ra, named := src, sa, f.PktSrcAWSService
	if egress {
		remote, ra, named = dst, da, f.PktDstAWSService
	}
	r.RemoteAddr = remote
	aws := int32(-1)
	if v, ok := c.aws.lookup(ra); ok {
		r.Service, r.Region, aws = c.service[v], c.region[v], v
	}
	if named != "" {
		r.Service = named
	}
	path := f.TrafficPath
	if !egress {
		path = 0 // AWS writes it for egress only
	}
	switch {
	case path >= 3 && path <= 6: // VGW, peering, local gateway
		r.Class = PrivateOther
	case path == 7: // gateway endpoint
		r.Class = AWSService
	case isPrivate(ra):
		r.Class = PrivateOther
	case r.Service != "" && r.Service != "EC2":
		// EC2 ranges hold every customer's instances and Elastic IPs:
		// traffic to them is internet traffic, which no endpoint removes.
		r.Class = AWSService
	case egress:
		r.Class = InternetEgress
	default:
		r.Class = InternetIngress
	}
	return aws
}

// isNAT reports whether eni is a NAT gateway's: a few string comparisons
// (which look at the length first) cost less than hashing the id.
func (c *Classifier) isNAT(eni string) bool {
	if len(c.natList) > 8 {
		return c.nat[eni]
	}
	last := eni[len(eni)-1]
	for _, e := range c.natList {
		// ENI ids differ most in their last characters.
		if len(e) == len(eni) && e[len(e)-1] == last && e == eni {
			return true
		}
	}
	return false
}

func (c *Classifier) isLocal(a addr) bool {
	_, ok := c.local.lookup(a)
	return ok
}
