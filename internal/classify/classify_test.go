package classify

import (
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

const natENI = "eni-0aaa0000000000001" // its private address is 10.0.0.220

// fixtureClassifier is built from the hand-made files in testdata: a VPC
// with 10.0.0.0/16, the secondary 100.64.0.0/16 and 2600:1f18:a:b00::/56,
// one NAT gateway, and a small ip-ranges.json.
func fixtureClassifier(t testing.TB) *Classifier {
	t.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		return data
	}
	cidrs, err := ParseVPCs("describe-vpcs.json", read("describe-vpcs.json"))
	require.NoError(t, err)
	enis, err := ParseNATGateways("describe-nat-gateways.json", read("describe-nat-gateways.json"))
	require.NoError(t, err)
	ranges, err := ParseAWSRanges("ip-ranges.json", read("ip-ranges.json"))
	require.NoError(t, err)
	c, err := New(Config{VPCCIDRs: cidrs, NATGatewayENIs: enis, AWSRanges: ranges})
	require.NoError(t, err)
	return c
}

func TestParseFixtures(t *testing.T) {
	data, err := os.ReadFile("testdata/describe-vpcs.json")
	require.NoError(t, err)
	cidrs, err := ParseVPCs("describe-vpcs.json", data)
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("100.64.0.0/16"),
		netip.MustParsePrefix("2600:1f18:a:b00::/56")}, cidrs, "primary, secondary and IPv6 CIDRs; not the disassociated one")

	data, err = os.ReadFile("testdata/describe-nat-gateways.json")
	require.NoError(t, err)
	enis, err := ParseNATGateways("describe-nat-gateways.json", data)
	require.NoError(t, err)
	require.Equal(t, []string{natENI}, enis)

	data, err = os.ReadFile("testdata/ip-ranges.json")
	require.NoError(t, err)
	ranges, err := ParseAWSRanges("ip-ranges.json", data)
	require.NoError(t, err)
	require.Len(t, ranges, 13)
	require.Equal(t, AWSRange{netip.MustParsePrefix("2600:1fa0:4000::/40"), "S3", "us-east-1"}, ranges[12])

	for name, bad := range map[string]string{
		"not JSON":          `{`,
		"no prefixes":       `{"syncToken":"1"}`,
		"bad prefix":        `{"prefixes":[{"ip_prefix":"52.0.0.0/33","region":"x","service":"AMAZON"}]}`,
		"prefix no service": `{"prefixes":[{"ip_prefix":"52.0.0.0/8","region":"x"}]}`,
	} {
		_, err := ParseAWSRanges(name, []byte(bad))
		require.ErrorIs(t, err, ErrSource, name)
	}
	_, err = ParseVPCs("x.json", []byte(`{"NatGateways":[]}`))
	require.ErrorContains(t, err, "describe-vpcs")
	_, err = ParseNATGateways("x.json", []byte(`{"Vpcs":[]}`))
	require.ErrorContains(t, err, "describe-nat-gateways")
	_, err = ParseCIDR("10.0.0.0")
	require.ErrorIs(t, err, ErrSource)
	p, err := ParseCIDR(" 10.0.1.7/16 ")
	require.NoError(t, err)
	require.Equal(t, netip.MustParsePrefix("10.0.0.0/16"), p)
	require.True(t, IsENI(natENI))
	for _, s := range []string{"eni-", "eni-XYZ", "nat-0123", "10.0.0.0/8", "eni-0123/"} {
		require.False(t, IsENI(s), s)
	}
	_, err = New(Config{})
	require.ErrorIs(t, err, ErrSource)
}

func TestClassify(t *testing.T) {
	c := fixtureClassifier(t)
	const (
		null    = NotNAT
		inside  = NATInside
		outside = NATOutside
	)
	type want struct {
		class           Class
		remote          string
		service, region string
		nat             NAT
	}
	for _, tc := range []struct {
		name string
		flow Flow
		want want
	}{
		// Version 2 records: CIDR matching only.
		{"intra vpc", Flow{SrcAddr: "10.0.1.5", DstAddr: "10.0.2.9"}, want{IntraVPC, "", "", "", null}},
		{"intra vpc, secondary CIDR", Flow{SrcAddr: "10.0.1.5", DstAddr: "100.64.3.4"}, want{IntraVPC, "", "", "", null}},
		{"internet egress", Flow{SrcAddr: "10.0.1.5", DstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", null}},
		{"internet ingress", Flow{SrcAddr: "198.51.100.9", DstAddr: "10.0.1.5"}, want{InternetIngress, "198.51.100.9", "", "", null}},
		{"internet egress from the secondary CIDR", Flow{SrcAddr: "100.64.0.7", DstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", null}},
		{"on premises (RFC 1918)", Flow{SrcAddr: "10.0.1.5", DstAddr: "192.168.7.7"}, want{PrivateOther, "192.168.7.7", "", "", null}},
		{"peered VPC (RFC 1918), ingress", Flow{SrcAddr: "172.31.4.4", DstAddr: "10.0.1.5"}, want{PrivateOther, "172.31.4.4", "", "", null}},
		{"shared address space outside the VPC", Flow{SrcAddr: "10.0.1.5", DstAddr: "100.65.0.1"}, want{PrivateOther, "100.65.0.1", "", "", null}},
		{"S3 by ip-ranges (S3 and AMAZON list the prefix)", Flow{SrcAddr: "10.0.1.5", DstAddr: "52.16.5.6"}, want{AWSService, "52.16.5.6", "S3", "us-east-1", null}},
		{"S3 ingress", Flow{SrcAddr: "52.16.5.6", DstAddr: "10.0.1.5"}, want{AWSService, "52.16.5.6", "S3", "us-east-1", null}},
		{"most specific prefix wins", Flow{SrcAddr: "10.0.1.5", DstAddr: "52.17.8.9"}, want{AWSService, "52.17.8.9", "DYNAMODB", "eu-west-1", null}},
		{"back in the outer prefix after the inner one", Flow{SrcAddr: "10.0.1.5", DstAddr: "52.17.9.0"}, want{AWSService, "52.17.9.0", "S3", "us-east-1", null}},
		{"AMAZON only", Flow{SrcAddr: "10.0.1.5", DstAddr: "52.40.1.1"}, want{AWSService, "52.40.1.1", "AMAZON", "us-east-1", null}},
		{"EC2 addresses are internet", Flow{SrcAddr: "10.0.1.5", DstAddr: "54.81.2.3"}, want{InternetEgress, "54.81.2.3", "EC2", "us-east-1", null}},
		{"China S3", Flow{SrcAddr: "10.0.1.5", DstAddr: "54.222.50.1"}, want{AWSService, "54.222.50.1", "S3", "cn-north-1", null}},
		{"China AMAZON", Flow{SrcAddr: "10.0.1.5", DstAddr: "54.222.1.1"}, want{AWSService, "54.222.1.1", "AMAZON", "cn-north-1", null}},
		{"GLOBAL region", Flow{SrcAddr: "10.0.1.5", DstAddr: "205.251.193.1"}, want{AWSService, "205.251.193.1", "ROUTE53", "GLOBAL", null}},
		{"just outside a prefix", Flow{SrcAddr: "10.0.1.5", DstAddr: "52.64.0.0"}, want{InternetEgress, "52.64.0.0", "", "", null}},

		// IPv6.
		{"IPv6 intra vpc", Flow{SrcAddr: "2600:1f18:a:b00::1", DstAddr: "2600:1f18:a:bff:ffff:ffff:ffff:ffff"}, want{IntraVPC, "", "", "", null}},
		{"IPv6 internet egress", Flow{SrcAddr: "2600:1f18:a:b00::10", DstAddr: "2001:db8::1"}, want{InternetEgress, "2001:db8::1", "", "", null}},
		{"IPv6 S3", Flow{SrcAddr: "2600:1f18:a:b00::10", DstAddr: "2600:1fa0:4000::5"}, want{AWSService, "2600:1fa0:4000::5", "S3", "us-east-1", null}},
		{"IPv6 EC2 next to the VPC's own block", Flow{SrcAddr: "2600:1f18:1::1", DstAddr: "2600:1f18:a:b00::10"}, want{InternetIngress, "2600:1f18:1::1", "EC2", "us-east-1", null}},
		{"IPv6 AMAZON GLOBAL", Flow{SrcAddr: "2600:1f00:1::1", DstAddr: "2600:1f18:a:b00::10"}, want{AWSService, "2600:1f00:1::1", "AMAZON", "GLOBAL", null}},
		{"IPv6 unique local", Flow{SrcAddr: "2600:1f18:a:b00::10", DstAddr: "fd00::1"}, want{PrivateOther, "fd00::1", "", "", null}},
		{"IPv4-mapped IPv6", Flow{SrcAddr: "::ffff:10.0.1.5", DstAddr: "10.0.2.2"}, want{IntraVPC, "", "", "", null}},

		// A NAT gateway's ENI without the packet addresses: the inside legs
		// are intra_vpc, the internet legs are via_nat.
		{"NAT v2, instance to NAT", Flow{InterfaceID: natENI, SrcAddr: "10.0.1.5", DstAddr: "10.0.0.220"}, want{IntraVPC, "", "", "", inside}},
		{"NAT v2, NAT to internet", Flow{InterfaceID: natENI, SrcAddr: "10.0.0.220", DstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", outside}},
		{"NAT v2, internet to NAT", Flow{InterfaceID: natENI, SrcAddr: "203.0.113.5", DstAddr: "10.0.0.220"}, want{InternetIngress, "203.0.113.5", "", "", outside}},
		{"NAT v2, NAT to instance", Flow{InterfaceID: natENI, SrcAddr: "10.0.0.220", DstAddr: "10.0.1.5"}, want{IntraVPC, "", "", "", inside}},
		{"NAT v2, NAT to S3", Flow{InterfaceID: natENI, SrcAddr: "10.0.0.220", DstAddr: "52.16.0.1"}, want{AWSService, "52.16.0.1", "S3", "us-east-1", outside}},
		// The same four legs with pkt-srcaddr/pkt-dstaddr (AWS's documented
		// NAT gateway example): the inside legs name the remote end.
		{"NAT v3, instance to NAT", Flow{InterfaceID: natENI, SrcAddr: "10.0.1.5", DstAddr: "10.0.0.220", PktSrcAddr: "10.0.1.5", PktDstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", inside}},
		{"NAT v3, NAT to internet", Flow{InterfaceID: natENI, SrcAddr: "10.0.0.220", DstAddr: "203.0.113.5", PktSrcAddr: "10.0.0.220", PktDstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", outside}},
		{"NAT v3, internet to NAT", Flow{InterfaceID: natENI, SrcAddr: "203.0.113.5", DstAddr: "10.0.0.220", PktSrcAddr: "203.0.113.5", PktDstAddr: "10.0.0.220"}, want{InternetIngress, "203.0.113.5", "", "", outside}},
		{"NAT v3, NAT to instance", Flow{InterfaceID: natENI, SrcAddr: "10.0.0.220", DstAddr: "10.0.1.5", PktSrcAddr: "203.0.113.5", PktDstAddr: "10.0.1.5"}, want{InternetIngress, "203.0.113.5", "", "", inside}},
		{"not a NAT ENI", Flow{InterfaceID: "eni-0bbb0000000000002", SrcAddr: "10.0.0.220", DstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", null}},

		// Version 5 fields.
		{"v5 service named by AWS, not in the ranges", Flow{SrcAddr: "10.0.1.5", DstAddr: "3.5.1.1", FlowDirection: "egress", TrafficPath: 1, PktDstAWSService: "DYNAMODB"}, want{AWSService, "3.5.1.1", "DYNAMODB", "", null}},
		{"v5 source service on ingress", Flow{SrcAddr: "3.5.1.1", DstAddr: "10.0.1.5", FlowDirection: "ingress", PktSrcAWSService: "S3"}, want{AWSService, "3.5.1.1", "S3", "", null}},
		{"v5 EC2 named by AWS is internet", Flow{SrcAddr: "10.0.1.5", DstAddr: "3.5.1.1", FlowDirection: "egress", TrafficPath: 8, PktDstAWSService: "EC2"}, want{InternetEgress, "3.5.1.1", "EC2", "", null}},
		{"v5 gateway endpoint", Flow{SrcAddr: "10.0.1.5", DstAddr: "52.16.1.1", FlowDirection: "egress", TrafficPath: 7, PktDstAWSService: "S3"}, want{AWSService, "52.16.1.1", "S3", "us-east-1", null}},
		{"v5 gateway endpoint, service not named", Flow{SrcAddr: "10.0.1.5", DstAddr: "3.5.1.1", FlowDirection: "egress", TrafficPath: 7}, want{AWSService, "3.5.1.1", "", "", null}},
		{"v5 virtual private gateway to a public on-premises range", Flow{SrcAddr: "10.0.1.5", DstAddr: "203.0.113.77", FlowDirection: "egress", TrafficPath: 3}, want{PrivateOther, "203.0.113.77", "", "", null}},
		{"v5 inter-region peering", Flow{SrcAddr: "10.0.1.5", DstAddr: "172.16.0.9", FlowDirection: "egress", TrafficPath: 5}, want{PrivateOther, "172.16.0.9", "", "", null}},
		{"v5 internet gateway", Flow{SrcAddr: "10.0.1.5", DstAddr: "203.0.113.5", FlowDirection: "egress", TrafficPath: 8}, want{InternetEgress, "203.0.113.5", "", "", null}},
		{"v5 traffic path ignored on ingress", Flow{SrcAddr: "203.0.113.5", DstAddr: "10.0.1.5", FlowDirection: "ingress", TrafficPath: 4}, want{InternetIngress, "203.0.113.5", "", "", null}},
		{"v5 direction when neither end is in the CIDRs (egress)", Flow{SrcAddr: "172.20.0.5", DstAddr: "203.0.113.5", FlowDirection: "egress"}, want{InternetEgress, "203.0.113.5", "", "", null}},
		{"v5 direction when neither end is in the CIDRs (ingress)", Flow{SrcAddr: "203.0.113.5", DstAddr: "172.20.0.5", FlowDirection: "ingress"}, want{InternetIngress, "203.0.113.5", "", "", null}},
		{"EKS pod address in pkt-srcaddr", Flow{SrcAddr: "10.0.1.5", DstAddr: "203.0.113.5", PktSrcAddr: "100.64.9.9", PktDstAddr: "203.0.113.5"}, want{InternetEgress, "203.0.113.5", "", "", null}},

		// Nothing to go by.
		{"neither end in the CIDRs, no direction", Flow{SrcAddr: "172.20.0.5", DstAddr: "203.0.113.5"}, want{Unknown, "", "", "", null}},
		{"NODATA record", Flow{InterfaceID: natENI}, want{None, "", "", "", null}},
		{"address that does not parse", Flow{SrcAddr: "10.0.1.5", DstAddr: "not-an-address"}, want{Unknown, "", "", "", null}},
		{"leading zero", Flow{SrcAddr: "010.0.1.5", DstAddr: "10.0.1.6"}, want{Unknown, "", "", "", null}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Classify(&tc.flow)
			require.Equal(t, tc.want, want{r.Class, r.RemoteAddr, r.Service, r.Region, r.ViaNAT})
		})
	}
}

func TestClassifySecondaryCIDRMissing(t *testing.T) {
	// Without the secondary CIDR, its addresses are someone else's private
	// network: the reason --vpc-cidrs must list every CIDR.
	c, err := New(Config{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}})
	require.NoError(t, err)
	r := c.Classify(&Flow{SrcAddr: "10.0.1.5", DstAddr: "100.64.3.4"})
	require.Equal(t, PrivateOther, r.Class)
	require.Equal(t, "100.64.3.4", r.RemoteAddr)
	// Without ip-ranges, S3 is internet.
	r = c.Classify(&Flow{SrcAddr: "10.0.1.5", DstAddr: "52.16.5.6"})
	require.Equal(t, InternetEgress, r.Class)
	require.Empty(t, r.Service)
	// And without NAT ENIs, nothing is via_nat.
	r = c.Classify(&Flow{InterfaceID: natENI, SrcAddr: "10.0.0.220", DstAddr: "203.0.113.5"})
	require.Equal(t, NotNAT, r.ViaNAT)
}

func TestClassifyDoesNotAllocate(t *testing.T) {
	c := fixtureClassifier(t)
	flows := []Flow{
		{InterfaceID: natENI, SrcAddr: "10.0.1.5", DstAddr: "10.0.0.220", PktSrcAddr: "10.0.1.5", PktDstAddr: "203.0.113.5"},
		{SrcAddr: "2600:1f18:a:b00::10", DstAddr: "2600:1fa0:4000::5"},
		{SrcAddr: "10.0.1.5", DstAddr: "52.17.8.9", FlowDirection: "egress", TrafficPath: 1},
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range flows {
			c.Classify(&flows[i])
		}
	})
	require.Zero(t, allocs)
}

func TestRangeRankSameRangeAnyOrder(t *testing.T) {
	p := netip.MustParsePrefix("52.16.0.0/15")
	in := []AWSRange{{p, "AMAZON", "us-east-1"}, {p, "S3", "us-east-1"}, {p, "EC2", "us-east-1"}}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}} {
		var rs []AWSRange
		for _, i := range order {
			rs = append(rs, in[i])
		}
		c, err := New(Config{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, AWSRanges: rs})
		require.NoError(t, err)
		require.Equal(t, "EC2", c.Classify(&Flow{SrcAddr: "10.0.0.1", DstAddr: "52.16.0.1"}).Service, "named services before AMAZON, then by name")
	}
}
