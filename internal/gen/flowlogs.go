package gen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"convert/internal/schema"
)

// FlowLogsConfig describes a VPC Flow Logs data set. Only Dir and Bytes are
// required; every other zero value has a documented default.
type FlowLogsConfig struct {
	// Dir is the root the AWSLogs/ tree is written under. Files of the same
	// name are overwritten; nothing else in Dir is touched.
	Dir string
	// Bytes is the approximate total of uncompressed text (headers
	// included). Each file stops at the first record boundary past its
	// share, so the total exceeds Bytes by at most one line per file.
	Bytes int64
	// Files is the number of files. 0 derives it from Bytes: one file per
	// FlowLogsMeanFileBytes (files then hold about 4-16 MiB of text each, as
	// AWS's busy 5-minute files do), and at least one per day.
	Files int
	// Days is the number of UTC days the files are spread over (0 = 1).
	Days int
	// Seed selects the data set. Equal configurations give byte-identical
	// files; a different seed gives different ones.
	Seed int64
	// Start is the first day, truncated to its UTC date
	// (0 = FlowLogsDefaultStart).
	Start time.Time
	// Fields is the log format, hyphenated AWS names in order (nil = the
	// default version 2 format). Any documented field of versions 2-11,
	// transit-gateway fields included, may appear in any order; the
	// version column holds the highest version among them, as AWS writes.
	Fields []string
	// Accounts is the number of AWS accounts (0 = 2). The second account's
	// id always starts with a 0, the case that breaks numeric account ids.
	Accounts int
	// Hive selects the Hive-compatible key layout
	// (aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/…).
	Hive bool
	// Plain writes uncompressed .log files instead of .log.gz.
	Plain bool
	// CrossDay is the share of all records whose start lies on the UTC day
	// before the day in their file's key: records that a file delivered just
	// after midnight carries from the last minutes of the previous day.
	// 0 means FlowLogsDefaultCrossDay; a negative value means none. Only
	// files of the first ten minutes of a day carry such records, so a data
	// set with very many files per day may get less than asked for: the
	// stats report the count written.
	CrossDay float64
	// GzipLevel is the compression level (0 = gzip.DefaultCompression,
	// klauspost's level 5: about 4.4x on this text, close to level 6's
	// 4.5x at twice its speed).
	GzipLevel int
	// Workers is the number of files written at once (0 = GOMAXPROCS). It
	// changes the speed, never the bytes.
	Workers int
}

// Defaults of FlowLogsConfig.
const (
	FlowLogsMeanFileBytes   = 8 << 20
	FlowLogsDefaultCrossDay = 0.01
	flDefaultAccounts       = 2
)

// FlowLogsDefaultStart is the first day of a data set whose Start is zero.
var FlowLogsDefaultStart = time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)

// FlowLogsStats counts what GenerateFlowLogs wrote.
type FlowLogsStats struct {
	Files             int   `json:"files"`
	Records           int64 `json:"records"`            // data lines, headers excluded
	NoDataRecords     int64 `json:"nodata_records"`     // log-status NODATA
	SkipDataRecords   int64 `json:"skipdata_records"`   // log-status SKIPDATA
	CrossDayRecords   int64 `json:"cross_day_records"`  // start before the key's day
	UncompressedBytes int64 `json:"uncompressed_bytes"` // text, headers included
	CompressedBytes   int64 `json:"compressed_bytes"`   // bytes on disk
	// RecordsByStartDay counts records by the UTC date (YYYY-MM-DD) of their
	// start: the partitions a conversion by start time must produce, with
	// their row counts. Zero when the format has no start field.
	RecordsByStartDay map[string]int64 `json:"records_by_start_day,omitempty"`
	// Paths lists the files written, slash-separated, relative to Dir, sorted.
	Paths []string `json:"paths"`
}

// GenerateFlowLogs writes a VPC Flow Logs data set; see
// GenerateFlowLogsContext.
func GenerateFlowLogs(cfg FlowLogsConfig) (FlowLogsStats, error) {
	return GenerateFlowLogsContext(context.Background(), cfg)
}

// GenerateFlowLogsContext writes a VPC Flow Logs data set under cfg.Dir in
// the layout AWS delivers to S3:
//
//	AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_fl-<id>_YYYYMMDDTHHmmZ_<hash>.log.gz
//
// or, with cfg.Hive, under AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/
// aws-region=<region>/year=YYYY/month=MM/day=DD/ with the same file names.
// Each file starts with the header line and holds records whose end time
// falls in the file's 5-minute window. Files are written Workers at a time;
// the result does not depend on Workers. On error or cancellation the files
// already completed stay; none is left half-written under its final name.
func GenerateFlowLogsContext(ctx context.Context, cfg FlowLogsConfig) (FlowLogsStats, error) {
	g, err := flNewGenerator(cfg)
	if err != nil {
		return FlowLogsStats{}, err
	}
	results, err := WriteFiles(ctx, g.files, g.cfg.Workers, g.writeFile)
	if err != nil {
		return FlowLogsStats{}, err
	}
	stats := FlowLogsStats{Files: len(g.files)}
	byDay := map[int64]int64{}
	for i, r := range results {
		stats.Records += r.records
		stats.NoDataRecords += r.nodata
		stats.SkipDataRecords += r.skipdata
		stats.CrossDayRecords += r.crossDay
		stats.UncompressedBytes += r.raw
		stats.CompressedBytes += r.stored
		for d, n := range r.byDay {
			byDay[d] += n
		}
		stats.Paths = append(stats.Paths, g.files[i].rel)
	}
	if g.hasStart {
		stats.RecordsByStartDay = make(map[string]int64, len(byDay))
		for d, n := range byDay {
			stats.RecordsByStartDay[time.Unix(d*86400, 0).UTC().Format(time.DateOnly)] = n
		}
	}
	slices.Sort(stats.Paths)
	return stats, nil
}

// flGenerator holds the plan of a data set: who owns what, which file covers
// which window, and how big each is. Workers only read it.
type flGenerator struct {
	cfg      FlowLogsConfig
	fields   []flFieldID
	header   []byte
	version  []byte
	hasStart bool
	accounts []*flAccount
	vpcs     []*flVPC
	files    []flFile
}

type flAccount struct {
	id       string
	region   flRegionInfo
	arnPart  string // "aws" or "aws-cn"
	tgwID    []byte
	leadZero bool
}

type flRegionInfo struct{ name, az string }

// flRegions are real region codes with their AZ-id prefixes. The China
// regions are in because they cannot get Parquet delivery from AWS.
var flRegions = []flRegionInfo{
	{"us-east-1", "use1"}, {"us-east-2", "use2"}, {"us-west-2", "usw2"}, {"eu-west-1", "euw1"},
	{"eu-central-1", "euc1"}, {"ap-northeast-1", "apne1"}, {"ap-southeast-2", "apse2"},
	{"sa-east-1", "sae1"}, {"cn-north-1", "cnn1"}, {"cn-northwest-1", "cnnw1"},
}

type flVPC struct {
	acct      *flAccount
	id        []byte
	flowLogID string
	subnets   []flSubnet
	enis      []flENI
	prefix4   [2]byte // first two octets of the VPC CIDR (10.x or 172.16-31)
	prefix6   []byte  // "2600:1f18:abcd:1200:" style /56, without the host part
	tgwAttach []byte
	peerVPC   []byte // the VPC on the other side of the transit gateway
	// Peers outside the VPC that its interfaces talk to again and again
	// (on-premises and peered hosts, popular internet endpoints), so that
	// address cardinality per file is realistic rather than one per record.
	privatePeers, publicPeers, publicPeers6 [][]byte
}

type flSubnet struct {
	id    []byte
	azID  []byte
	third byte // third octet base of the subnet's /20
}

// flENIKind is what an interface belongs to; it decides which metadata
// fields have values.
type flENIKind uint8

const (
	flENIInstance flENIKind = iota
	flENIECSTask
	flENINATGateway
	flENILambda
	flENILoadBalancer
	flENIEndpoint
)

var flENIKindNames = [...]string{"interface", "interface", "nat_gateway", "lambda", "network_load_balancer", "vpc_endpoint"}

type flENI struct {
	id       []byte
	kind     flENIKind
	ip4      []byte
	ip6      []byte // nil when the interface has no IPv6 address
	subnet   int
	instance []byte // "i-…" or "-"
	ecs      *flECS
}

// flECS is the ECS metadata of a task's interface, each value ready to write.
type flECS struct {
	clusterARN, clusterName, containerInstanceARN, containerInstanceID []byte
	containerID, secondContainerID, serviceName, taskDefinitionARN     []byte
	taskARN, taskID                                                    []byte
}

type flFile struct {
	index     int
	rel       string
	vpc       *flVPC
	window    int64 // Unix seconds of the start of the 5-minute window
	keyDay    int64 // Unix seconds of the key's midnight
	target    int64 // text bytes to write
	crossDayP float64
	clampDay  bool // start may not precede keyDay unless chosen cross-day
}

func flNewGenerator(cfg FlowLogsConfig) (*flGenerator, error) {
	if cfg.Dir == "" {
		return nil, errors.New("gen: flow logs: Dir is required")
	}
	if cfg.Bytes <= 0 {
		return nil, errors.New("gen: flow logs: Bytes must be positive")
	}
	if cfg.Days < 0 || cfg.Files < 0 || cfg.Accounts < 0 || cfg.Workers < 0 {
		return nil, errors.New("gen: flow logs: Days, Files, Accounts and Workers must not be negative")
	}
	if cfg.Days == 0 {
		cfg.Days = 1
	}
	if cfg.Files == 0 {
		cfg.Files = int(max(int64(cfg.Days), (cfg.Bytes+FlowLogsMeanFileBytes-1)/FlowLogsMeanFileBytes))
	}
	if cfg.Accounts == 0 {
		cfg.Accounts = flDefaultAccounts
	}
	if cfg.Start.IsZero() {
		cfg.Start = FlowLogsDefaultStart
	}
	if cfg.CrossDay == 0 {
		cfg.CrossDay = FlowLogsDefaultCrossDay
	}
	if cfg.CrossDay > 1 {
		return nil, fmt.Errorf("gen: flow logs: CrossDay %g is over 1", cfg.CrossDay)
	}
	if cfg.GzipLevel == 0 {
		cfg.GzipLevel = gzip.DefaultCompression
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	g := &flGenerator{cfg: cfg}
	if err := g.setFields(cfg.Fields); err != nil {
		return nil, err
	}
	r := NewRand(cfg.Seed, 0)
	g.planAccounts(r)
	if err := g.planFiles(r); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *flGenerator) setFields(names []string) error {
	if len(names) == 0 {
		names = schema.VPCDefaultFormat
	}
	seen := map[string]bool{}
	version := 2
	var header []string
	for _, name := range names {
		f, ok := schema.LookupVPCField(name)
		if !ok {
			return fmt.Errorf("gen: flow logs: %q is not a documented flow-log field", name)
		}
		if seen[f.Name] {
			return fmt.Errorf("gen: flow logs: field %q listed twice", f.Name)
		}
		seen[f.Name] = true
		version = max(version, f.Version)
		id := flFieldIDs[f.Name] // a documented field without a generator writes "-"
		g.fields = append(g.fields, id)
		header = append(header, f.Name)
		if id == flStart {
			g.hasStart = true
		}
	}
	g.header = []byte(strings.Join(header, " ") + "\n")
	g.version = strconv.AppendInt(nil, int64(version), 10)
	return nil
}

func (g *flGenerator) planAccounts(r *rand.Rand) {
	seen := map[string]bool{}
	for i := range g.cfg.Accounts {
		a := &flAccount{}
		for {
			n := r.Int64N(1e12)
			// Leading zeros: always for the second account, sometimes for
			// others; never for the first, so a one-account set has a
			// typical id.
			a.leadZero = i == 1 || (i > 1 && r.IntN(5) == 0)
			if a.leadZero {
				n %= 1e11
			} else if n < 1e11 {
				n += 1e11
			}
			a.id = fmt.Sprintf("%012d", n)
			if !seen[a.id] {
				break
			}
		}
		seen[a.id] = true
		a.region = flRegions[0]
		if i > 0 {
			a.region = flRegions[r.IntN(len(flRegions))]
		}
		a.arnPart = "aws"
		if strings.HasPrefix(a.region.name, "cn-") {
			a.arnPart = "aws-cn"
		}
		a.tgwID = AppendHex([]byte("tgw-"), r, 17)
		g.accounts = append(g.accounts, a)
		nVPC := 1 + r.IntN(3)
		enis := 200 + r.IntN(301) // a few hundred interfaces per account
		for v := range nVPC {
			g.vpcs = append(g.vpcs, g.planVPC(r, a, enis/nVPC, v))
		}
	}
}

var flECSNames = []string{"api", "web", "worker", "checkout", "payments", "search", "ingest", "auth", "billing", "catalog"}

func (g *flGenerator) planVPC(r *rand.Rand, a *flAccount, nENI, ordinal int) *flVPC {
	v := &flVPC{
		acct:      a,
		id:        AppendHex([]byte("vpc-"), r, 17),
		flowLogID: "fl-" + RandomHex(r, 17),
		tgwAttach: AppendHex([]byte("tgw-attach-"), r, 17),
		peerVPC:   AppendHex([]byte("vpc-"), r, 17),
	}
	if r.IntN(10) < 7 {
		v.prefix4 = [2]byte{10, byte(r.IntN(256))}
	} else {
		v.prefix4 = [2]byte{172, byte(16 + r.IntN(16))}
	}
	v.prefix6 = fmt.Appendf(nil, "2600:1f%02x:%x:%x:", 10+r.IntN(20), 0x1000+r.IntN(0xefff), (1+r.IntN(0xff))<<8)
	nSubnets := 2 + r.IntN(5)
	for s := range nSubnets {
		v.subnets = append(v.subnets, flSubnet{
			id:    AppendHex([]byte("subnet-"), r, 17),
			azID:  fmt.Appendf(nil, "%s-az%d", a.region.az, 1+(s+ordinal)%4),
			third: byte(s * 16),
		})
	}
	var scratch flRecordGen
	scratch.r = r
	for range 400 {
		v.privatePeers = append(v.privatePeers, scratch.appendPrivate4(nil))
	}
	for range 2000 {
		v.publicPeers = append(v.publicPeers, scratch.appendPublic(nil, false))
	}
	for range 300 {
		v.publicPeers6 = append(v.publicPeers6, scratch.appendPublic(nil, true))
	}
	type cluster struct {
		name, arn []byte
		fargate   bool
	}
	var clusters []cluster
	for range 1 + r.IntN(3) {
		name := fmt.Sprintf("%s-%s", []string{"prod", "staging", "dev"}[r.IntN(3)], flECSNames[r.IntN(len(flECSNames))])
		clusters = append(clusters, cluster{
			name:    []byte(name),
			arn:     fmt.Appendf(nil, "arn:%s:ecs:%s:%s:cluster/%s", a.arnPart, a.region.name, a.id, name),
			fargate: r.IntN(2) == 0,
		})
	}
	for range nENI {
		e := flENI{id: AppendHex([]byte("eni-"), r, 17), subnet: r.IntN(nSubnets), instance: []byte("-")}
		sn := v.subnets[e.subnet]
		e.ip4 = fmt.Appendf(nil, "%d.%d.%d.%d", v.prefix4[0], v.prefix4[1], int(sn.third)+r.IntN(16), 4+r.IntN(251))
		if r.IntN(10) < 3 {
			e.ip6 = fmt.Appendf(nil, "%s%x:%x:%x:%x", v.prefix6, 1+r.IntN(0xfffe), 1+r.IntN(0xfffe), 1+r.IntN(0xfffe), 1+r.IntN(0xfffe))
		}
		switch k := r.IntN(100); {
		case k < 58:
			e.kind = flENIInstance
		case k < 80:
			e.kind = flENIECSTask
		case k < 84:
			e.kind = flENINATGateway
		case k < 90:
			e.kind = flENILambda
		case k < 96:
			e.kind = flENILoadBalancer
		default:
			e.kind = flENIEndpoint
		}
		if e.kind == flENIInstance {
			e.instance = AppendHex([]byte("i-"), r, 17)
		}
		if e.kind == flENIECSTask {
			c := clusters[r.IntN(len(clusters))]
			ecs := &flECS{clusterARN: c.arn, clusterName: c.name}
			family := flECSNames[r.IntN(len(flECSNames))]
			taskID := RandomHex(r, 32)
			ecs.taskID = []byte(taskID)
			ecs.taskARN = fmt.Appendf(nil, "arn:%s:ecs:%s:%s:task/%s/%s", a.arnPart, a.region.name, a.id, c.name, taskID)
			ecs.taskDefinitionARN = fmt.Appendf(nil, "arn:%s:ecs:%s:%s:task-definition/%s:%d", a.arnPart, a.region.name, a.id, family, 1+r.IntN(40))
			ecs.serviceName = []byte("-")
			if r.IntN(4) > 0 {
				ecs.serviceName = []byte(family + "-svc")
			}
			ecs.secondContainerID = []byte("-")
			if c.fargate {
				// Fargate: no container instance; runtime ids are task id + number.
				ecs.containerInstanceARN, ecs.containerInstanceID = []byte("-"), []byte("-")
				ecs.containerID = fmt.Appendf(nil, "%s-%010d", taskID, r.Int64N(1e10))
				if r.IntN(3) == 0 {
					ecs.secondContainerID = fmt.Appendf(nil, "%s-%010d", taskID, r.Int64N(1e10))
				}
			} else {
				ciID := RandomHex(r, 32)
				e.instance = AppendHex([]byte("i-"), r, 17)
				ecs.containerInstanceID = []byte(ciID)
				ecs.containerInstanceARN = fmt.Appendf(nil, "arn:%s:ecs:%s:%s:container-instance/%s/%s", a.arnPart, a.region.name, a.id, c.name, ciID)
				ecs.containerID = AppendHex(nil, r, 64)
				if r.IntN(3) == 0 {
					ecs.secondContainerID = AppendHex(nil, r, 64)
				}
			}
			e.ecs = ecs
		}
		v.enis = append(v.enis, e)
	}
	return v
}

const (
	flWindow       = 300 // seconds in a delivery window
	flSlotsPerDay  = 86400 / flWindow
	flCrossDaySlot = 2 // files of the first two windows of a day may carry cross-day records
)

// planFiles spreads the files over the days, gives each a window, an owner
// and a share of Bytes, and names it.
func (g *flGenerator) planFiles(r *rand.Rand) error {
	cfg := g.cfg
	day0 := time.Date(cfg.Start.UTC().Year(), cfg.Start.UTC().Month(), cfg.Start.UTC().Day(), 0, 0, 0, 0, time.UTC).Unix()
	weights := make([]float64, 0, cfg.Files)
	var total float64
	idx := 0
	for d := range cfg.Days {
		n := cfg.Files / cfg.Days
		if d < cfg.Files%cfg.Days {
			n++
		}
		for j := range n {
			slot := j * flSlotsPerDay / n
			f := flFile{
				index:  idx,
				vpc:    g.vpcs[idx%len(g.vpcs)],
				keyDay: day0 + int64(d)*86400,
			}
			f.window = f.keyDay + int64(slot)*flWindow
			f.clampDay = slot < flCrossDaySlot
			// Traffic follows the day (busiest mid-afternoon UTC) with
			// file-to-file noise: sizes vary about 4x around the mean.
			hour := float64(slot) * flWindow / 3600
			w := (1 + 0.35*math.Sin(2*math.Pi*(hour-9)/24)) * math.Exp(0.25*r.NormFloat64())
			weights = append(weights, w)
			total += w
			g.files = append(g.files, f)
			idx++
		}
	}
	seen := map[string]bool{}
	for i := range g.files {
		f := &g.files[i]
		f.target = max(1, int64(float64(cfg.Bytes)*weights[i]/total))
		for {
			f.rel = g.fileKey(f, RandomHex(r, 8))
			if !seen[f.rel] {
				break
			}
		}
		seen[f.rel] = true
	}
	// Cross-day records: each day's share goes to the files of its first
	// two windows, in proportion to their size.
	if cfg.CrossDay > 0 && g.hasStart {
		for d := range cfg.Days {
			keyDay := day0 + int64(d)*86400
			var dayBytes, eligible int64
			for _, f := range g.files {
				if f.keyDay == keyDay {
					dayBytes += f.target
					if f.clampDay {
						eligible += f.target
					}
				}
			}
			if eligible == 0 {
				continue
			}
			p := min(1, cfg.CrossDay*float64(dayBytes)/float64(eligible))
			for i := range g.files {
				if g.files[i].keyDay == keyDay && g.files[i].clampDay {
					g.files[i].crossDayP = p
				}
			}
		}
	}
	return nil
}

// fileKey is the slash-separated path of a file relative to Dir.
func (g *flGenerator) fileKey(f *flFile, hash string) string {
	a := f.vpc.acct
	t := time.Unix(f.window, 0).UTC()
	ext := ".log.gz"
	if g.cfg.Plain {
		ext = ".log"
	}
	name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%sZ_%s%s", a.id, a.region.name, f.vpc.flowLogID, t.Format("20060102T1504"), hash, ext)
	if g.cfg.Hive {
		return path.Join("AWSLogs", "aws-account-id="+a.id, "aws-service=vpcflowlogs", "aws-region="+a.region.name,
			t.Format("year=2006"), t.Format("month=01"), t.Format("day=02"), name)
	}
	return path.Join("AWSLogs", a.id, "vpcflowlogs", a.region.name, t.Format("2006/01/02"), name)
}

type flFileStats struct {
	records, nodata, skipdata, crossDay int64
	raw, stored                         int64
	byDay                               map[int64]int64
}

const flFlushBytes = 64 << 10

func (g *flGenerator) writeFile(ctx context.Context, f *flFile) (flFileStats, error) {
	st := flFileStats{byDay: map[int64]int64{}}
	w, err := CreateFile(filepath.Join(g.cfg.Dir, filepath.FromSlash(f.rel)), !g.cfg.Plain, g.cfg.GzipLevel)
	if err != nil {
		return st, err
	}
	rg := flRecordGen{g: g, f: f, r: NewRand(g.cfg.Seed, uint64(f.index)+1), st: &st}
	buf := make([]byte, 0, flFlushBytes+4<<10)
	buf = append(buf, g.header...)
	text := int64(len(buf))
	for st.records == 0 || text < f.target {
		n := len(buf)
		buf = rg.appendRecord(buf)
		text += int64(len(buf) - n)
		if len(buf) >= flFlushBytes {
			if _, err := w.Write(buf); err != nil {
				w.Abort()
				return st, fmt.Errorf("gen: writing %s: %w", f.rel, err)
			}
			buf = buf[:0]
			if err := ctx.Err(); err != nil {
				w.Abort()
				return st, err
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		w.Abort()
		return st, fmt.Errorf("gen: writing %s: %w", f.rel, err)
	}
	if err := w.Close(); err != nil {
		return st, err
	}
	st.raw, st.stored = w.RawBytes(), w.StoredBytes()
	return st, nil
}

// flFieldID names a field the generator knows how to fill.
type flFieldID uint8

const (
	flUnknown flFieldID = iota // documented, but no values known: always "-"
	flVersion
	flAccountID
	flInterfaceID
	flSrcAddr
	flDstAddr
	flSrcPort
	flDstPort
	flProtocol
	flPackets
	flBytes
	flStart
	flEnd
	flAction
	flLogStatus
	// Beyond the default format.
	flVPCID
	flSubnetID
	flInstanceID
	flTCPFlags
	flType
	flPktSrcAddr
	flPktDstAddr
	flRegion
	flAZID
	flSublocationType
	flSublocationID
	flPktSrcService
	flPktDstService
	flFlowDirection
	flTrafficPath
	flECSClusterARN
	flECSClusterName
	flECSContainerInstanceARN
	flECSContainerInstanceID
	flECSContainerID
	flECSSecondContainerID
	flECSServiceName
	flECSTaskDefinitionARN
	flECSTaskARN
	flECSTaskID
	flRejectReason
	flResourceType
	flTGWID
	flTGWAttachmentID
	flTGWSrcAccount
	flTGWDstAccount
	flTGWSrcVPC
	flTGWDstVPC
	flTGWSrcSubnet
	flTGWDstSubnet
	flTGWSrcENI
	flTGWDstENI
	flTGWSrcAZ
	flTGWDstAZ
	flTGWPairAttachment
	flPacketsLostNoRoute
	flPacketsLostBlackhole
	flPacketsLostMTU
	flPacketsLostTTL
	flResourceID
	flEncryptionStatus
	flInterfaceType
)

// flFieldIDs maps AWS field names to generators. Documented fields missing
// here (the unconfirmed next-hop and tag fields) are written as "-".
var flFieldIDs = map[string]flFieldID{
	"version": flVersion, "account-id": flAccountID, "interface-id": flInterfaceID,
	"srcaddr": flSrcAddr, "dstaddr": flDstAddr, "srcport": flSrcPort, "dstport": flDstPort,
	"protocol": flProtocol, "packets": flPackets, "bytes": flBytes, "start": flStart, "end": flEnd,
	"action": flAction, "log-status": flLogStatus,
	"vpc-id": flVPCID, "subnet-id": flSubnetID, "instance-id": flInstanceID, "tcp-flags": flTCPFlags,
	"type": flType, "pkt-srcaddr": flPktSrcAddr, "pkt-dstaddr": flPktDstAddr, "region": flRegion,
	"az-id": flAZID, "sublocation-type": flSublocationType, "sublocation-id": flSublocationID,
	"pkt-src-aws-service": flPktSrcService, "pkt-dst-aws-service": flPktDstService,
	"flow-direction": flFlowDirection, "traffic-path": flTrafficPath,
	"ecs-cluster-arn": flECSClusterARN, "ecs-cluster-name": flECSClusterName,
	"ecs-container-instance-arn": flECSContainerInstanceARN, "ecs-container-instance-id": flECSContainerInstanceID,
	"ecs-container-id": flECSContainerID, "ecs-second-container-id": flECSSecondContainerID,
	"ecs-service-name": flECSServiceName, "ecs-task-definition-arn": flECSTaskDefinitionARN,
	"ecs-task-arn": flECSTaskARN, "ecs-task-id": flECSTaskID, "reject-reason": flRejectReason,
	"resource-type": flResourceType, "tgw-id": flTGWID, "tgw-attachment-id": flTGWAttachmentID,
	"tgw-src-vpc-account-id": flTGWSrcAccount, "tgw-dst-vpc-account-id": flTGWDstAccount,
	"tgw-src-vpc-id": flTGWSrcVPC, "tgw-dst-vpc-id": flTGWDstVPC,
	"tgw-src-subnet-id": flTGWSrcSubnet, "tgw-dst-subnet-id": flTGWDstSubnet,
	"tgw-src-eni": flTGWSrcENI, "tgw-dst-eni": flTGWDstENI,
	"tgw-src-az-id": flTGWSrcAZ, "tgw-dst-az-id": flTGWDstAZ,
	"tgw-pair-attachment-id": flTGWPairAttachment,
	"packets-lost-no-route":  flPacketsLostNoRoute, "packets-lost-blackhole": flPacketsLostBlackhole,
	"packets-lost-mtu-exceeded": flPacketsLostMTU, "packets-lost-ttl-expired": flPacketsLostTTL,
	"resource-id": flResourceID, "encryption-status": flEncryptionStatus, "interface-type": flInterfaceType,
}

// Log statuses.
const (
	flOK uint8 = iota
	flNoData
	flSkipData
)

// flRecord is one generated record before it is written.
type flRecord struct {
	status           uint8
	eni              *flENI
	src, dst         []byte
	srcPort, dstPort int
	proto            int
	packets, bytes   int64
	start, end       int64
	reject           bool
	ipv6             bool
	egress           bool
	publicPeer       bool
	peerENI          *flENI // the other interface, when the peer is in the VPC
	peerService      []byte // pkt-*-aws-service of the peer, nil for "-"
	pktSrc, pktDst   []byte
}

// flRecordGen generates the records of one file.
type flRecordGen struct {
	g       *flGenerator
	f       *flFile
	r       *rand.Rand
	st      *flFileStats
	rec     flRecord
	peerBuf []byte // holds the peer address of the current record
}

// Well-known server ports by weight: HTTPS dominates, then DNS, HTTP,
// databases and caches.
var (
	flTCPServerPorts = flWeighted([]int{443, 80, 22, 3306, 5432, 6379, 8080, 8443, 9092, 2049, 27017, 5439, 9200, 3389, 25, 636, 11211, 9000},
		[]int{40, 12, 6, 6, 6, 5, 5, 3, 3, 2, 2, 1, 2, 1, 1, 1, 1, 2})
	flUDPServerPorts = flWeighted([]int{53, 123, 514, 161, 4789, 5353, 443},
		[]int{70, 12, 5, 3, 4, 2, 4})
	flScanPorts = []int{22, 23, 80, 443, 445, 1433, 3389, 5900, 6379, 8080, 8443, 9200}
	// TCP flag combinations seen in flow logs (docs/formats.md §1.2): none, FIN,
	// SYN, SYN+FIN, RST, SYN-ACK, SYN-ACK+FIN, and so on.
	flTCPFlagSets = flWeighted([]int{0, 1, 2, 3, 4, 6, 18, 19, 22, 23},
		[]int{22, 8, 14, 16, 5, 1, 12, 18, 2, 2})
	flAWSServices = [][]byte{[]byte("AMAZON"), []byte("S3"), []byte("DYNAMODB"), []byte("EC2"), []byte("CLOUDFRONT"),
		[]byte("ROUTE53"), []byte("API_GATEWAY"), []byte("ROUTE53_RESOLVER"), []byte("CODEBUILD")}
	// First octets of public IPv4 addresses: AWS, CDN and ISP ranges.
	flPublicFirstOctets = []int{3, 13, 15, 18, 20, 23, 34, 35, 44, 52, 54, 99, 104, 142, 151, 157, 185, 198, 203, 209}
)

// flWeighted expands values by integer weights into a table indexed by a
// uniform draw.
func flWeighted(values, weights []int) []int {
	var out []int
	for i, v := range values {
		for range weights[i] {
			out = append(out, v)
		}
	}
	return out
}

var (
	flDash     = []byte("-")
	flAccept   = []byte("ACCEPT")
	flRejectB  = []byte("REJECT")
	flStatuses = [...][]byte{[]byte("OK"), []byte("NODATA"), []byte("SKIPDATA")}
)

// appendRecord draws one record and appends its line to b.
func (rg *flRecordGen) appendRecord(b []byte) []byte {
	rg.draw()
	rec := &rg.rec
	rg.st.records++
	switch rec.status {
	case flNoData:
		rg.st.nodata++
	case flSkipData:
		rg.st.skipdata++
	}
	if rg.g.hasStart {
		if rec.start < rg.f.keyDay {
			rg.st.crossDay++
		}
		rg.st.byDay[floorDiv(rec.start, 86400)]++
	}
	for i, id := range rg.g.fields {
		if i > 0 {
			b = append(b, ' ')
		}
		b = rg.appendField(b, id)
	}
	return append(b, '\n')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// draw fills rg.rec with the next record.
func (rg *flRecordGen) draw() {
	r, f := rg.r, rg.f
	vpc := f.vpc
	rec := &rg.rec
	*rec = flRecord{}
	// Some interfaces talk far more than others.
	rec.eni = &vpc.enis[flSkewed(r, len(vpc.enis))]

	// Times: the end falls in the file's window; most flows span under a
	// minute, some a whole 10-minute aggregation interval.
	rec.end = f.window + r.Int64N(flWindow)
	dur := r.Int64N(61)
	if r.IntN(10) == 0 {
		dur = r.Int64N(601)
	}
	rec.start = rec.end - dur
	if f.clampDay {
		if f.crossDayP > 0 && r.Float64() < f.crossDayP {
			rec.start = max(f.keyDay-1-r.Int64N(240), rec.end-600)
		} else {
			rec.start = max(rec.start, f.keyDay)
		}
	}

	switch k := r.IntN(1000); {
	case k < 15:
		rec.status = flNoData
		return
	case k < 18:
		rec.status = flSkipData
		return
	}
	rec.egress = r.IntN(2) == 0
	rec.ipv6 = rec.eni.ip6 != nil && r.IntN(6) == 0
	rec.reject = r.IntN(100) < 7
	local := rec.eni.ip4
	if rec.ipv6 {
		local = rec.eni.ip6
	}

	// The peer: another interface of the VPC, another private address, or
	// the internet (sometimes an AWS service's range).
	rg.peerBuf = rg.peerBuf[:0]
	switch k := r.IntN(100); {
	case rec.reject:
		// Rejected traffic is mostly scans from the internet.
		rec.publicPeer = true
		rec.egress = false
		rg.peerBuf = rg.appendPublic(rg.peerBuf, rec.ipv6)
	case k < 45:
		rec.peerENI = &vpc.enis[r.IntN(len(vpc.enis))]
		if rec.ipv6 && rec.peerENI.ip6 != nil {
			rg.peerBuf = append(rg.peerBuf, rec.peerENI.ip6...)
		} else if rec.ipv6 {
			rg.peerBuf = rg.appendPrivate6(rg.peerBuf)
		} else {
			rg.peerBuf = append(rg.peerBuf, rec.peerENI.ip4...)
		}
	case k < 60:
		if rec.ipv6 {
			rg.peerBuf = rg.appendPrivate6(rg.peerBuf)
		} else {
			rg.peerBuf = append(rg.peerBuf, flPick(r, vpc.privatePeers)...)
		}
	default:
		rec.publicPeer = true
		switch {
		case r.IntN(4) == 0:
			rg.peerBuf = rg.appendPublic(rg.peerBuf, rec.ipv6)
		case rec.ipv6:
			rg.peerBuf = append(rg.peerBuf, flPick(r, vpc.publicPeers6)...)
		default:
			rg.peerBuf = append(rg.peerBuf, flPick(r, vpc.publicPeers)...)
		}
		if r.IntN(4) == 0 {
			rec.peerService = flAWSServices[r.IntN(len(flAWSServices))]
		}
	}
	peer := rg.peerBuf

	// Protocol and ports. A flow is either the client side (ephemeral
	// source port to a well-known port) or the server's reply.
	switch k := r.IntN(100); {
	case k < 78:
		rec.proto = 6
	case k < 96:
		rec.proto = 17
	case k < 99:
		rec.proto = 1
		if rec.ipv6 {
			rec.proto = 58
		}
	default:
		rec.proto = []int{47, 50, 132}[r.IntN(3)]
	}
	var server int
	switch {
	case rec.reject:
		rec.proto = 6
		if r.IntN(5) == 0 {
			rec.proto = 17
		}
		server = flScanPorts[r.IntN(len(flScanPorts))]
	case rec.proto == 6:
		server = flTCPServerPorts[r.IntN(len(flTCPServerPorts))]
	case rec.proto == 17:
		server = flUDPServerPorts[r.IntN(len(flUDPServerPorts))]
	}
	ephemeral := 32768 + r.IntN(28232)
	if r.IntN(5) == 0 {
		ephemeral = 49152 + r.IntN(16384)
	}
	if rec.proto != 6 && rec.proto != 17 {
		server, ephemeral = 0, 0 // ICMP and others have no ports
	}
	clientSide := rec.reject || r.IntN(2) == 0
	if rec.egress {
		rec.src, rec.dst = local, peer
	} else {
		rec.src, rec.dst = peer, local
	}
	if clientSide {
		rec.srcPort, rec.dstPort = ephemeral, server
	} else {
		rec.srcPort, rec.dstPort = server, ephemeral
	}

	// Volume: heavy-tailed packets (Pareto, alpha 1.1), bytes from a packet
	// size that small flows keep small.
	if rec.reject {
		rec.packets = 1 + r.Int64N(3)
		rec.bytes = rec.packets * (40 + r.Int64N(24))
	} else {
		rec.packets = min(int64(math.Pow(1-r.Float64(), -1/1.1)), 50_000_000)
		size := 40 + r.Int64N(1461)
		if rec.packets <= 3 {
			size = 40 + r.Int64N(160)
		}
		rec.bytes = rec.packets * size
	}
	rec.pktSrc, rec.pktDst = rec.src, rec.dst
	// A NAT gateway or load balancer forwards for an instance: the packet's
	// own address on the private side is that instance's.
	if (rec.eni.kind == flENINATGateway || rec.eni.kind == flENILoadBalancer) && rec.publicPeer && !rec.ipv6 {
		inner := vpc.enis[r.IntN(len(vpc.enis))].ip4
		if rec.egress {
			rec.pktSrc = inner
		} else {
			rec.pktDst = inner
		}
	}
}

// flSkewed draws an index in [0, n) with low indexes far more likely, the
// way a few hosts carry most of the traffic.
func flSkewed(r *rand.Rand, n int) int {
	u := r.Float64()
	return int(u * u * u * float64(n))
}

func flPick(r *rand.Rand, pool [][]byte) []byte { return pool[flSkewed(r, len(pool))] }

func (rg *flRecordGen) appendPrivate4(b []byte) []byte {
	r := rg.r
	if r.IntN(3) == 0 {
		b = append(b, "172."...)
		b = strconv.AppendInt(b, int64(16+r.IntN(16)), 10)
	} else {
		b = append(b, "10."...)
		b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
	}
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(1+r.IntN(254)), 10)
}

func (rg *flRecordGen) appendPrivate6(b []byte) []byte {
	b = append(b, rg.f.vpc.prefix6...)
	for i := range 4 {
		if i > 0 {
			b = append(b, ':')
		}
		b = strconv.AppendUint(b, uint64(1+rg.r.IntN(0xfffe)), 16)
	}
	return b
}

func (rg *flRecordGen) appendPublic(b []byte, ipv6 bool) []byte {
	r := rg.r
	if ipv6 {
		b = append(b, "2"...)
		b = strconv.AppendUint(b, uint64(r.IntN(0x1000)), 16) // 2000::/3, global unicast
		for range 7 {
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(1+r.IntN(0xfffe)), 16)
		}
		return b
	}
	b = strconv.AppendInt(b, int64(flPublicFirstOctets[r.IntN(len(flPublicFirstOctets))]), 10)
	for range 2 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
	}
	b = append(b, '.')
	return strconv.AppendInt(b, int64(1+r.IntN(254)), 10)
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// appendField writes one field of rg.rec. NODATA and SKIPDATA records have
// "-" in every traffic field, as AWS writes them; their interface metadata
// (VPC, subnet, ECS task) is still known.
func (rg *flRecordGen) appendField(b []byte, id flFieldID) []byte {
	rec := &rg.rec
	eni := rec.eni
	vpc := rg.f.vpc
	data := rec.status == flOK
	switch id {
	case flVersion:
		return append(b, rg.g.version...)
	case flAccountID:
		return append(b, vpc.acct.id...)
	case flInterfaceID:
		return append(b, eni.id...)
	case flStart:
		return appendInt(b, rec.start)
	case flEnd:
		return appendInt(b, rec.end)
	case flLogStatus:
		return append(b, flStatuses[rec.status]...)
	case flVPCID:
		return append(b, vpc.id...)
	case flSubnetID:
		return append(b, vpc.subnets[eni.subnet].id...)
	case flInstanceID:
		return append(b, eni.instance...)
	case flRegion:
		return append(b, vpc.acct.region.name...)
	case flAZID:
		return append(b, vpc.subnets[eni.subnet].azID...)
	case flInterfaceType:
		return append(b, flENIKindNames[eni.kind]...)
	case flResourceID:
		return append(b, eni.instance...)
	case flECSClusterARN, flECSClusterName, flECSContainerInstanceARN, flECSContainerInstanceID,
		flECSContainerID, flECSSecondContainerID, flECSServiceName, flECSTaskDefinitionARN,
		flECSTaskARN, flECSTaskID:
		return append(b, eni.ecsField(id)...)
	case flResourceType:
		if rg.r.IntN(2) == 0 {
			return append(b, "TransitGateway"...)
		}
		return append(b, "TransitGatewayAttachment"...)
	case flTGWID:
		return append(b, vpc.acct.tgwID...)
	case flTGWAttachmentID, flTGWPairAttachment:
		return append(b, vpc.tgwAttach...)
	case flTGWSrcAccount, flTGWDstAccount:
		return append(b, vpc.acct.id...)
	case flTGWSrcVPC:
		return append(b, vpc.id...)
	case flTGWDstVPC:
		return append(b, vpc.peerVPC...)
	case flTGWSrcSubnet, flTGWDstSubnet:
		return append(b, vpc.subnets[eni.subnet].id...)
	case flTGWSrcENI:
		return append(b, eni.id...)
	case flTGWSrcAZ, flTGWDstAZ:
		return append(b, vpc.subnets[eni.subnet].azID...)
	}
	if !data {
		return append(b, '-')
	}
	switch id {
	case flSrcAddr, flPktSrcAddr:
		if id == flPktSrcAddr {
			return append(b, rec.pktSrc...)
		}
		return append(b, rec.src...)
	case flDstAddr:
		return append(b, rec.dst...)
	case flPktDstAddr:
		return append(b, rec.pktDst...)
	case flSrcPort:
		return appendInt(b, int64(rec.srcPort))
	case flDstPort:
		return appendInt(b, int64(rec.dstPort))
	case flProtocol:
		return appendInt(b, int64(rec.proto))
	case flPackets:
		return appendInt(b, rec.packets)
	case flBytes:
		return appendInt(b, rec.bytes)
	case flAction:
		if rec.reject {
			return append(b, flRejectB...)
		}
		return append(b, flAccept...)
	case flTCPFlags:
		if rec.proto != 6 {
			return append(b, '0')
		}
		if rec.reject {
			return append(b, '2') // an unanswered SYN
		}
		return appendInt(b, int64(flTCPFlagSets[rg.r.IntN(len(flTCPFlagSets))]))
	case flType:
		if rec.ipv6 {
			return append(b, "IPv6"...)
		}
		return append(b, "IPv4"...)
	case flSublocationType, flSublocationID:
		return append(b, '-')
	case flPktSrcService:
		if rec.peerService != nil && !rec.egress {
			return append(b, rec.peerService...)
		}
		return append(b, '-')
	case flPktDstService:
		if rec.peerService != nil && rec.egress {
			return append(b, rec.peerService...)
		}
		return append(b, '-')
	case flFlowDirection:
		if rec.egress {
			return append(b, "egress"...)
		}
		return append(b, "ingress"...)
	case flTrafficPath:
		// Documented for egress only: 1 within the VPC, 2 through an
		// internet or gateway endpoint.
		switch {
		case !rec.egress:
			return append(b, '-')
		case rec.publicPeer:
			return append(b, '2')
		default:
			return append(b, '1')
		}
	case flRejectReason:
		if rec.reject && rg.r.IntN(10) == 0 {
			return append(b, "BPA"...)
		}
		return append(b, '-')
	case flPacketsLostNoRoute, flPacketsLostBlackhole, flPacketsLostMTU, flPacketsLostTTL:
		if rg.r.IntN(50) == 0 {
			return appendInt(b, 1+rg.r.Int64N(20))
		}
		return append(b, '0')
	case flTGWDstENI:
		if rec.peerENI != nil {
			return append(b, rec.peerENI.id...)
		}
		return append(b, '-')
	case flEncryptionStatus:
		// 0 plain, 1 Nitro-encrypted (only between instances inside AWS),
		// 2 application-encrypted (TLS), 3 both.
		tls := rec.dstPort == 443 || rec.srcPort == 443 || rec.dstPort == 8443 || rec.srcPort == 8443
		nitro := rec.peerENI != nil && rg.r.IntN(2) == 0
		switch {
		case tls && nitro:
			return append(b, '3')
		case tls:
			return append(b, '2')
		case nitro:
			return append(b, '1')
		}
		return append(b, '0')
	}
	return append(b, '-')
}

// ecsField returns the value of an ECS field for the interface: "-" unless it
// belongs to an ECS task.
func (e *flENI) ecsField(id flFieldID) []byte {
	c := e.ecs
	if c == nil {
		return flDash
	}
	switch id {
	case flECSClusterARN:
		return c.clusterARN
	case flECSClusterName:
		return c.clusterName
	case flECSContainerInstanceARN:
		return c.containerInstanceARN
	case flECSContainerInstanceID:
		return c.containerInstanceID
	case flECSContainerID:
		return c.containerID
	case flECSSecondContainerID:
		return c.secondContainerID
	case flECSServiceName:
		return c.serviceName
	case flECSTaskDefinitionARN:
		return c.taskDefinitionARN
	case flECSTaskARN:
		return c.taskARN
	case flECSTaskID:
		return c.taskID
	}
	return flDash
}
