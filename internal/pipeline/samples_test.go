package pipeline

import "strings"

// sampleFlowLogFields gives the field lists of the headerless third-party
// samples in ../shared/samples/vpcflow, as INDEX.md documents them (for
// TestSamples).
func sampleFlowLogFields() map[string][]string {
	v2 := strings.Fields("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status")
	v5 := append(append([]string(nil), v2...), strings.Fields("vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path")...)
	ecs := append(append([]string(nil), v5...), strings.Fields("ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id")...)
	v8 := append(append([]string(nil), ecs...), "reject-reason")
	tgw := strings.Fields("version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service")
	ctgw := strings.Fields("version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status")
	return map[string][]string{
		"elastic-integrations__test-v5-all-fields.log":      v5,
		"elastic-integrations__test-extra-samples.log":      v2,
		"elastic-integrations__test-tgw-samples.log":        tgw,
		"elastic-integrations__test-ecs-samples.log":        ecs,
		"elastic-integrations__test-v8-samples.log":         v8,
		"elastic-integrations__test-with-message-field.log": v2,
		"elastic-beats__bad.log":                            v2,
		"elastic-beats__custom-transit-gateway.log":         ctgw,
		"elastic-beats__ipv6.log":                           v2,
		"elastic-beats__no-data-skip-data.log":              v2,
	}
}
