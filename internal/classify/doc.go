// Package classify tells, for each flow-log record, what kind of traffic it
// is: inside our networks, to or from the internet, to an AWS service, to a
// peered or on-premises network, and whether it is the NAT-gateway-to-
// internet leg of a flow. It answers "who is using our internet traffic"
// at conversion time, so that queries need no fragile LIKE '10.%' matching.
//
// A Classifier is built once from the VPC CIDRs, the NAT gateway ENIs and
// AWS's published ip-ranges.json, and is then read-only: safe for any number
// of goroutines. Its prefix tables are sorted, disjoint ranges in which the
// most specific prefix wins, so that a lookup is a binary search and
// classifying a record allocates nothing. Columns appends the classification
// columns (schema.VPCClassFields) to a flow-log record batch.
//
// The rules, and what they cannot know (centralised egress through a
// Transit Gateway, EKS source NAT), are in the README section "Who is using
// our internet traffic: classification".
package classify
