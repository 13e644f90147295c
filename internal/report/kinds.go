package report

import (
	"fmt"
	"strings"
)

// daysWhere is the SQL condition of the partition days [from, to]. Within
// one month it compares the partition columns themselves, which Athena's
// partition projection prunes by; across months it compares the joined
// date.
func daysWhere(from, to string) string {
	const d = "concat(year, '-', month, '-', day)"
	switch {
	case from != "" && to != "" && from[:7] == to[:7]:
		cond := fmt.Sprintf("year = '%s' AND month = '%s' AND day ", from[:4], from[5:7])
		if from == to {
			return cond + fmt.Sprintf("= '%s'", from[8:])
		}
		return cond + fmt.Sprintf("BETWEEN '%s' AND '%s'", from[8:], to[8:])
	case from != "" && to != "":
		return fmt.Sprintf("%s BETWEEN '%s' AND '%s'", d, from, to)
	case from != "":
		return fmt.Sprintf("%s >= '%s'", d, from)
	case to != "":
		return fmt.Sprintf("%s <= '%s'", d, to)
	}
	return "true"
}

// sql fills a query template: {days} is the condition on the partition
// days; {top} is filled by the table's result (the --top of the run). The
// templates' lines start with a tab, which is removed.
func sql(template, days string) string {
	s := strings.ReplaceAll(template, "{days}", days)
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n\t", "\n")
	return s
}

// Traffic classes (internal/classify).
const (
	classEgress     = "internet_egress"
	classIngress    = "internet_ingress"
	classAWSService = "aws_service"
)

// Flow-log tables, in the order of flowLogTables.
const (
	flPairs = iota
	flInternal
	flRemote
	flService
	flNAT
	flNATService
	flDays
)

func flowLogTables(days string) []tableSpec {
	return []tableSpec{
		flPairs: {name: "top_pairs", title: "Top source/destination pairs by bytes",
			keys: []string{"srcaddr", "dstaddr"}, values: []string{"bytes"}, chart: "bars",
			sql: sql(`
	SELECT srcaddr, dstaddr, sum(bytes) AS bytes
	FROM flow_logs_parquet
	WHERE {days}
	GROUP BY srcaddr, dstaddr
	ORDER BY bytes DESC NULLS LAST, srcaddr NULLS LAST, dstaddr NULLS LAST
	LIMIT {top}`, days)},
		flInternal: {name: "internet_by_internal_addr", title: "Internet traffic by internal address (instances' own interfaces, each flow once)",
			keys: []string{"internal_addr"}, values: []string{"bytes", "egress_bytes", "ingress_bytes"}, chart: "bars", needs: "traffic_class",
			sql: sql(`
	SELECT CASE WHEN traffic_class = 'internet_egress' THEN coalesce(pkt_srcaddr, srcaddr)
	            ELSE coalesce(pkt_dstaddr, dstaddr) END AS internal_addr,
	       sum(bytes) AS bytes,
	       sum(if(traffic_class = 'internet_egress', bytes, 0)) AS egress_bytes,
	       sum(if(traffic_class = 'internet_ingress', bytes, 0)) AS ingress_bytes
	FROM flow_logs_parquet
	WHERE {days}
	  AND via_nat IS NULL AND traffic_class IN ('internet_egress', 'internet_ingress')
	GROUP BY 1
	ORDER BY bytes DESC NULLS LAST, internal_addr NULLS LAST
	LIMIT {top}`, days)},
		flRemote: {name: "internet_by_remote_addr", title: "Internet traffic by remote address (instances' own interfaces, each flow once)",
			keys: []string{"remote_addr"}, values: []string{"bytes", "egress_bytes", "ingress_bytes"}, chart: "bars", needs: "traffic_class",
			sql: sql(`
	SELECT remote_addr,
	       sum(bytes) AS bytes,
	       sum(if(traffic_class = 'internet_egress', bytes, 0)) AS egress_bytes,
	       sum(if(traffic_class = 'internet_ingress', bytes, 0)) AS ingress_bytes
	FROM flow_logs_parquet
	WHERE {days}
	  AND via_nat IS NULL AND traffic_class IN ('internet_egress', 'internet_ingress')
	GROUP BY remote_addr
	ORDER BY bytes DESC NULLS LAST, remote_addr NULLS LAST
	LIMIT {top}`, days)},
		flService: {name: "traffic_by_remote_aws_service", title: "Traffic leaving or entering the VPCs by remote AWS service (instances' own interfaces)",
			keys: []string{"traffic_class", "remote_aws_service", "remote_aws_region"}, values: []string{"bytes"}, chart: "bars", needs: "traffic_class",
			sql: sql(`
	SELECT traffic_class, remote_aws_service, remote_aws_region, sum(bytes) AS bytes
	FROM flow_logs_parquet
	WHERE {days}
	  AND via_nat IS NULL AND traffic_class IN ('internet_egress', 'internet_ingress', 'aws_service')
	GROUP BY 1, 2, 3
	ORDER BY bytes DESC NULLS LAST, traffic_class NULLS LAST, remote_aws_service NULLS LAST, remote_aws_region NULLS LAST
	LIMIT {top}`, days)},
		flNAT: {name: "nat_top_contributors", title: "NAT gateway top contributors: the gateways' inside legs (instance to gateway and back), each flow once",
			keys: []string{"nat_interface_id", "src", "dst"}, values: []string{"bytes"}, chart: "bars", needs: "traffic_class",
			sql: sql(`
	SELECT interface_id AS nat_interface_id,
	       coalesce(pkt_srcaddr, srcaddr) AS src, coalesce(pkt_dstaddr, dstaddr) AS dst,
	       sum(bytes) AS bytes
	FROM flow_logs_parquet
	WHERE {days}
	  AND via_nat = false
	GROUP BY 1, 2, 3
	ORDER BY bytes DESC NULLS LAST, nat_interface_id NULLS LAST, src NULLS LAST, dst NULLS LAST
	LIMIT {top}`, days)},
		flNATService: {name: "nat_aws_service", title: "AWS-service traffic through NAT gateways (for S3 and DynamoDB a gateway endpoint removes it)",
			keys: []string{"remote_aws_service", "remote_aws_region"}, values: []string{"bytes"}, chart: "bars", needs: "traffic_class",
			sql: sql(`
	SELECT remote_aws_service, remote_aws_region, sum(bytes) AS bytes
	FROM flow_logs_parquet
	WHERE {days}
	  AND via_nat AND traffic_class = 'aws_service'
	GROUP BY 1, 2
	ORDER BY bytes DESC NULLS LAST, remote_aws_service NULLS LAST, remote_aws_region NULLS LAST
	LIMIT {top}`, days)},
		flDays: {name: "bytes_per_day_class", title: "Bytes per day and traffic class, as logged",
			keys: []string{"partition_day", "traffic_class"}, values: []string{"bytes"}, byKeys: true, chart: "stacked",
			sql: sql(`
	SELECT concat(year, '-', month, '-', day) AS partition_day, traffic_class, sum(bytes) AS bytes
	FROM flow_logs_parquet
	WHERE {days}
	GROUP BY 1, 2
	ORDER BY partition_day, traffic_class NULLS LAST`, days)},
	}
}

func coalesce(a, b cell) cell {
	if a.valid {
		return a
	}
	return b
}

func addFlowLogs(a *accumulator, b *batch) error {
	src, dst := b.strs("srcaddr"), b.strs("dstaddr")
	pktSrc, pktDst := b.strs("pkt_srcaddr"), b.strs("pkt_dstaddr")
	bytes := b.ints("bytes")
	iface := b.strs("interface_id")
	class := b.strs("traffic_class")
	remote, service, region := b.strs("remote_addr"), b.strs("remote_aws_service"), b.strs("remote_aws_region")
	via := b.bools("via_nat")
	if class.arr != nil {
		a.saw("traffic_class")
	}
	day := cell{str: a.day, valid: true}
	zero := cell{valid: true}
	var k3 [3]cell
	var v3 [3]cell
	for i := range b.rows {
		n := bytes.at(i)
		a.add(flPairs, append(k3[:0], src.at(i), dst.at(i)), append(v3[:0], n))
		c := class.at(i)
		a.add(flDays, append(k3[:0], day, c), append(v3[:0], n))
		v := via.at(i)
		if v >= 0 {
			a.saw("via_nat")
		}
		switch {
		case v < 0 && c.valid && (c.str == classEgress || c.str == classIngress):
			internal := coalesce(pktDst.at(i), dst.at(i))
			e, in := zero, n
			if c.str == classEgress {
				internal = coalesce(pktSrc.at(i), src.at(i))
				e, in = n, zero
			}
			a.add(flInternal, append(k3[:0], internal), append(v3[:0], n, e, in))
			a.add(flRemote, append(k3[:0], remote.at(i)), append(v3[:0], n, e, in))
			a.add(flService, append(k3[:0], c, service.at(i), region.at(i)), append(v3[:0], n))
		case v < 0 && c.valid && c.str == classAWSService:
			a.add(flService, append(k3[:0], c, service.at(i), region.at(i)), append(v3[:0], n))
		case v == 0:
			a.add(flNAT, append(k3[:0], iface.at(i), coalesce(pktSrc.at(i), src.at(i)), coalesce(pktDst.at(i), dst.at(i))), append(v3[:0], n))
		case v == 1 && c.valid && c.str == classAWSService:
			a.add(flNATService, append(k3[:0], service.at(i), region.at(i)), append(v3[:0], n))
		}
	}
	return nil
}

func flowLogNotes(present map[string]bool) []string {
	switch {
	case !present["traffic_class"]:
		return []string{"The files read have no classification columns (convert them with convert flowlogs --classify): " +
			"the internet, AWS-service and NAT gateway tables are left out, and bytes_per_day_class has a NULL traffic_class."}
	case !present["via_nat"]:
		return []string{"No record has via_nat (the conversion had no --nat-gateway-enis, or the flow logs do not cover the NAT gateways' interfaces): " +
			"the NAT gateway tables are empty."}
	}
	return nil
}

const (
	s3Downloads = iota
	s3Copies
)

func s3AccessTables(days string) []tableSpec {
	top := func(name, title, op string) tableSpec {
		return tableSpec{name: name, title: title, keys: []string{"remoteip"}, values: []string{"bytes", "requests"}, chart: "bars",
			sql: sql(`
	SELECT remoteip, sum(objectsize) AS bytes, count(*) AS requests
	FROM s3_access_logs_parquet
	WHERE {days}
	  AND operation = '`+op+`'
	GROUP BY remoteip
	ORDER BY bytes DESC NULLS LAST, remoteip NULLS LAST
	LIMIT {top}`, days)}
	}
	return []tableSpec{
		s3Downloads: top("top_download_ips", "Top download IPs (REST.GET.OBJECT) by object bytes", "REST.GET.OBJECT"),
		s3Copies:    top("top_copy_ips", "Top copy IPs (REST.COPY.OBJECT_GET) by object bytes", "REST.COPY.OBJECT_GET"),
	}
}

func addS3Access(a *accumulator, b *batch) error {
	op, ip, size := b.strs("operation"), b.strs("remoteip"), b.ints("objectsize")
	one := cell{num: 1, valid: true}
	var k [1]cell
	var v [2]cell
	for i := range b.rows {
		o := op.at(i)
		if !o.valid {
			continue
		}
		switch o.str {
		case "REST.GET.OBJECT":
			a.add(s3Downloads, append(k[:0], ip.at(i)), append(v[:0], size.at(i), one))
		case "REST.COPY.OBJECT_GET":
			a.add(s3Copies, append(k[:0], ip.at(i)), append(v[:0], size.at(i), one))
		}
	}
	return nil
}

const (
	ctByIdentity = iota
	ctBySourceIP
)

func cloudTrailTables(days string) []tableSpec {
	top := func(name, title, col, alias string) tableSpec {
		sel := col
		if alias != col {
			sel += " AS " + alias
		}
		return tableSpec{name: name, title: title, keys: []string{alias}, values: []string{"requests"}, chart: "bars",
			sql: sql(`
	SELECT `+sel+`, count(*) AS requests
	FROM cloudtrail_logs_parquet
	WHERE {days}
	  AND eventsource = 's3.amazonaws.com' AND eventname = 'GetObject'
	GROUP BY 1
	ORDER BY requests DESC, `+alias+` NULLS LAST
	LIMIT {top}`, days)}
	}
	return []tableSpec{
		ctByIdentity: top("getobject_by_identity", "S3 GetObject requests by identity", "useridentity.arn", "identity_arn"),
		ctBySourceIP: top("getobject_by_source_ip", "S3 GetObject requests by source IP", "sourceipaddress", "sourceipaddress"),
	}
}

func addCloudTrail(a *accumulator, b *batch) error {
	src, name := b.strs("eventsource"), b.strs("eventname")
	arn, ip := b.strs("useridentity.arn"), b.strs("sourceipaddress")
	one := cell{num: 1, valid: true}
	var k [1]cell
	var v [1]cell
	for i := range b.rows {
		if s, n := src.at(i), name.at(i); !s.valid || !n.valid || s.str != "s3.amazonaws.com" || n.str != "GetObject" {
			continue
		}
		a.add(ctByIdentity, append(k[:0], arn.at(i)), append(v[:0], one))
		a.add(ctBySourceIP, append(k[:0], ip.at(i)), append(v[:0], one))
	}
	return nil
}

func init() {
	kinds[FlowLogs] = kind{
		columns: []string{"srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr", "bytes", "interface_id",
			"traffic_class", "remote_addr", "remote_aws_service", "remote_aws_region", "via_nat"},
		dayPrefixed: true, tables: flowLogTables, add: addFlowLogs, notes: flowLogNotes,
	}
	kinds[S3Access] = kind{
		columns:     []string{"operation", "remoteip", "objectsize"},
		dayPrefixed: true, tables: s3AccessTables, add: addS3Access,
		notes: func(map[string]bool) []string { return nil },
	}
	kinds[CloudTrail] = kind{
		columns: []string{"eventsource", "eventname", "useridentity.arn", "sourceipaddress"},
		tables:  cloudTrailTables, add: addCloudTrail,
		notes: func(map[string]bool) []string {
			return []string{"GetObject events are in CloudTrail only when the trail logs S3 data events."}
		},
	}
}
