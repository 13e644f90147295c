package classify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrSource wraps every invalid classification input (a CIDR, an ENI id or
// one of the JSON files).
var ErrSource = errors.New("classify: invalid input")

// AWSRange is one prefix of AWS's published IP ranges.
type AWSRange struct {
	Prefix  netip.Prefix
	Service string
	Region  string
}

// ipRanges is the layout of AWS's ip-ranges.json (the China regions publish
// their own file in the same layout).
type ipRanges struct {
	Prefixes []struct {
		IPPrefix string `json:"ip_prefix"`
		Region   string `json:"region"`
		Service  string `json:"service"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix string `json:"ipv6_prefix"`
		Region     string `json:"region"`
		Service    string `json:"service"`
	} `json:"ipv6_prefixes"`
}

// ParseAWSRanges reads a file in the layout of ip-ranges.json. name is used
// in errors.
func ParseAWSRanges(name string, data []byte) ([]AWSRange, error) {
	var f ipRanges
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: not ip-ranges.json: %v", ErrSource, name, err)
	}
	if len(f.Prefixes)+len(f.IPv6Prefixes) == 0 {
		return nil, fmt.Errorf("%w: %s: no prefixes or ipv6_prefixes (not the layout of ip-ranges.json)", ErrSource, name)
	}
	out := make([]AWSRange, 0, len(f.Prefixes)+len(f.IPv6Prefixes))
	add := func(i int, s, service, region string) error {
		p, err := netip.ParsePrefix(s)
		if err != nil || service == "" {
			return fmt.Errorf("%w: %s: prefix %d: %q (service %q)", ErrSource, name, i, s, service)
		}
		out = append(out, AWSRange{Prefix: p.Masked(), Service: service, Region: region})
		return nil
	}
	for i, p := range f.Prefixes {
		if err := add(i, p.IPPrefix, p.Service, p.Region); err != nil {
			return nil, err
		}
	}
	for i, p := range f.IPv6Prefixes {
		if err := add(i, p.IPv6Prefix, p.Service, p.Region); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ParseVPCs reads the CIDRs, IPv4 and IPv6, primary and secondary, of the
// output of `aws ec2 describe-vpcs`. CIDRs being disassociated or that failed
// to associate are left out.
func ParseVPCs(name string, data []byte) ([]netip.Prefix, error) {
	type state struct {
		State string `json:"State"`
	}
	var f struct {
		Vpcs *[]struct {
			CidrBlock               string `json:"CidrBlock"`
			CidrBlockAssociationSet []struct {
				CidrBlock      string `json:"CidrBlock"`
				CidrBlockState state  `json:"CidrBlockState"`
			} `json:"CidrBlockAssociationSet"`
			Ipv6CidrBlockAssociationSet []struct {
				Ipv6CidrBlock      string `json:"Ipv6CidrBlock"`
				Ipv6CidrBlockState state  `json:"Ipv6CidrBlockState"`
			} `json:"Ipv6CidrBlockAssociationSet"`
		} `json:"Vpcs"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Vpcs == nil {
		return nil, fmt.Errorf("%w: %s: not the output of aws ec2 describe-vpcs (no Vpcs array)", ErrSource, name)
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	add := func(s, st string) error {
		if s == "" || st == "disassociating" || st == "disassociated" || st == "failing" || st == "failed" {
			return nil
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%w: %s: CIDR %q", ErrSource, name, s)
		}
		if p = p.Masked(); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
		return nil
	}
	for _, v := range *f.Vpcs {
		if err := add(v.CidrBlock, ""); err != nil {
			return nil, err
		}
		for _, a := range v.CidrBlockAssociationSet {
			if err := add(a.CidrBlock, a.CidrBlockState.State); err != nil {
				return nil, err
			}
		}
		for _, a := range v.Ipv6CidrBlockAssociationSet {
			if err := add(a.Ipv6CidrBlock, a.Ipv6CidrBlockState.State); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// ParseNATGateways reads the network interfaces of the output of
// `aws ec2 describe-nat-gateways`.
func ParseNATGateways(name string, data []byte) ([]string, error) {
	var f struct {
		NatGateways *[]struct {
			NatGatewayAddresses []struct {
				NetworkInterfaceID string `json:"NetworkInterfaceId"`
			} `json:"NatGatewayAddresses"`
		} `json:"NatGateways"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.NatGateways == nil {
		return nil, fmt.Errorf("%w: %s: not the output of aws ec2 describe-nat-gateways (no NatGateways array)", ErrSource, name)
	}
	var out []string
	for _, g := range *f.NatGateways {
		for _, a := range g.NatGatewayAddresses {
			if a.NetworkInterfaceID != "" {
				out = append(out, a.NetworkInterfaceID)
			}
		}
	}
	return out, nil
}

// ParseCIDR parses one CIDR of --vpc-cidrs (IPv4 or IPv6).
func ParseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: %q is not a CIDR (want e.g. 10.0.0.0/16 or 2600:1f18::/56)", ErrSource, s)
	}
	return p.Masked(), nil
}

// IsENI reports whether s looks like a network interface id (eni-…).
func IsENI(s string) bool {
	rest, ok := strings.CutPrefix(s, "eni-")
	if !ok || rest == "" || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
