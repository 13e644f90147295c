package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"strings"

	"convert/internal/classify"
)

// classifyFlags are the flow-log classification flags.
type classifyFlags struct {
	on          bool
	vpcCIDRs    string
	awsIPRanges string
	natENIs     string
}

func (c *classifyFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.on, "classify", false, "append traffic classification columns (traffic_class, remote_addr, remote_aws_service, remote_aws_region, via_nat); needs --vpc-cidrs")
	fs.StringVar(&c.vpcCIDRs, "vpc-cidrs", "", "with --classify: comma-separated `LIST` of the VPCs' CIDRs, IPv4 and IPv6, primary and secondary; an item that is not a CIDR is a file or s3:// URL of aws ec2 describe-vpcs output")
	fs.StringVar(&c.awsIPRanges, "aws-ip-ranges", "", "with --classify: AWS's ip-ranges.json, a `FILE` or s3:// URL (several comma-separated, e.g. the global and the China regions' file)")
	fs.StringVar(&c.natENIs, "nat-gateway-enis", "", "with --classify: comma-separated `LIST` of NAT gateway network interfaces (eni-…); an item that is not an ENI id is a file or s3:// URL of aws ec2 describe-nat-gateways output")
}

// classifier builds the classifier of the flags, nil without --classify.
func (c *classifyFlags) classifier(ctx context.Context, st *stores) (*classify.Classifier, error) {
	if !c.on {
		for name, v := range map[string]string{"vpc-cidrs": c.vpcCIDRs, "aws-ip-ranges": c.awsIPRanges, "nat-gateway-enis": c.natENIs} {
			if v != "" {
				return nil, &usageError{msg: fmt.Sprintf("--%s is given without --classify", name), flags: true}
			}
		}
		return nil, nil
	}
	if strings.TrimSpace(c.vpcCIDRs) == "" {
		return nil, &usageError{msg: "--classify needs --vpc-cidrs: every CIDR of the VPCs (e.g. 10.0.0.0/16,100.64.0.0/16), or a file of `aws ec2 describe-vpcs` output", flags: true}
	}
	var cfg classify.Config
	for _, item := range splitList(c.vpcCIDRs) {
		p, err := classify.ParseCIDR(item)
		if err == nil {
			cfg.VPCCIDRs = append(cfg.VPCCIDRs, p)
			continue
		}
		if addr, _, _ := strings.Cut(item, "/"); looksLikeAddr(addr) {
			// A mistyped CIDR, not a file name.
			return nil, &usageError{msg: "--vpc-cidrs: " + err.Error(), flags: true}
		}
		data, err := st.readFrom(ctx, item)
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("--vpc-cidrs: %q is neither a CIDR nor a readable file: %v", item, err)}
		}
		cidrs, err := classify.ParseVPCs(item, data)
		if err != nil {
			return nil, &usageError{msg: "--vpc-cidrs: " + err.Error()}
		}
		cfg.VPCCIDRs = append(cfg.VPCCIDRs, cidrs...)
	}
	for _, item := range splitList(c.natENIs) {
		if classify.IsENI(item) {
			cfg.NATGatewayENIs = append(cfg.NATGatewayENIs, item)
			continue
		}
		data, err := st.readFrom(ctx, item)
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("--nat-gateway-enis: %q is neither an ENI id (eni-…) nor a readable file: %v", item, err)}
		}
		enis, err := classify.ParseNATGateways(item, data)
		if err != nil {
			return nil, &usageError{msg: "--nat-gateway-enis: " + err.Error()}
		}
		cfg.NATGatewayENIs = append(cfg.NATGatewayENIs, enis...)
	}
	for _, item := range splitList(c.awsIPRanges) {
		data, err := st.readFrom(ctx, item)
		if err != nil {
			return nil, &usageError{msg: fmt.Sprintf("--aws-ip-ranges: %v", err)}
		}
		ranges, err := classify.ParseAWSRanges(item, data)
		if err != nil {
			return nil, &usageError{msg: "--aws-ip-ranges: " + err.Error()}
		}
		cfg.AWSRanges = append(cfg.AWSRanges, ranges...)
	}
	cl, err := classify.New(cfg)
	if err != nil {
		return nil, &usageError{msg: "--vpc-cidrs: " + err.Error()}
	}
	return cl, nil
}

// looksLikeAddr tells a mistyped address (10.0.0.0, 10.0.0.256) from a
// file name.
func looksLikeAddr(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	return strings.Trim(s, "0123456789.") == "" && strings.Count(s, ".") == 3
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
