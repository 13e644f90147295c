package gen

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"

	"convert/internal/reader"
	"convert/internal/reader/vpcflow"
	"convert/internal/schema"
)

// flSmall is a data set small enough for -race: 2 days, 8 files.
func flSmall(dir string) FlowLogsConfig {
	return FlowLogsConfig{Dir: dir, Bytes: 1 << 20, Files: 8, Days: 2, Seed: 42}
}

// flTree reads every file under dir into a map keyed by slash path.
func flTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	require.NoError(t, err)
	return out
}

// flText returns a file's decompressed text.
func flText(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	text, err := io.ReadAll(zr)
	require.NoError(t, err)
	return text
}

func TestGenerateFlowLogsIsDeterministic(t *testing.T) {
	base := t.TempDir()
	gen := func(name string, mutate func(*FlowLogsConfig)) (FlowLogsStats, map[string][]byte) {
		cfg := flSmall(filepath.Join(base, name))
		mutate(&cfg)
		st, err := GenerateFlowLogs(cfg)
		require.NoError(t, err)
		return st, flTree(t, cfg.Dir)
	}
	st1, a := gen("a", func(c *FlowLogsConfig) { c.Workers = 1 })
	st2, b := gen("b", func(c *FlowLogsConfig) { c.Workers = 4 })
	require.Len(t, a, 8)
	require.Equal(t, a, b, "same config, different worker count")
	require.Equal(t, st1, st2)

	_, c := gen("c", func(c *FlowLogsConfig) { c.Seed = 43 })
	require.Len(t, c, 8)
	for k := range c {
		_, same := a[k]
		require.False(t, same, "seed 43 reuses the name %s of seed 42", k)
	}
	var textA, textC [][]byte
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
	}) {
		textA = append(textA, flText(t, a[k]))
	}
	for _, v := range c {
		textC = append(textC, flText(t, v))
	}
	for _, x := range textA {
		for _, y := range textC {
			require.NotEqual(t, x, y)
		}
	}
}

func TestGenerateFlowLogsGzipIsReproducible(t *testing.T) {
	dir := t.TempDir()
	_, err := GenerateFlowLogs(FlowLogsConfig{Dir: dir, Bytes: 64 << 10, Files: 1, Seed: 1})
	require.NoError(t, err)
	for _, b := range flTree(t, dir) {
		// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS. No name, no comment,
		// no extra field, no modification time.
		require.Equal(t, []byte{0x1f, 0x8b, 8}, b[:3])
		require.Equal(t, byte(0), b[3], "FLG")
		require.Equal(t, []byte{0, 0, 0, 0}, b[4:8], "MTIME")
		require.Equal(t, byte(255), b[9], "OS")
	}
}

var (
	flClassicKey = regexp.MustCompile(`^AWSLogs/(\d{12})/vpcflowlogs/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_vpcflowlogs_([a-z0-9-]+)_fl-[0-9a-f]{17}_(\d{8})T(\d{4})Z_[0-9a-f]{8}\.log(\.gz)?$`)
	flHiveKey    = regexp.MustCompile(`^AWSLogs/aws-account-id=(\d{12})/aws-service=vpcflowlogs/aws-region=([a-z0-9-]+)/year=(\d{4})/month=(\d{2})/day=(\d{2})/(\d{12})_vpcflowlogs_([a-z0-9-]+)_fl-[0-9a-f]{17}_(\d{8})T(\d{4})Z_[0-9a-f]{8}\.log(\.gz)?$`)
)

// flKey is what a file's key says.
type flKey struct {
	account, region string
	window          time.Time // from the file-name stamp
	keyDay          time.Time // from the directories
	gzip            bool
}

func flParseKey(t *testing.T, rel string, hive bool) flKey {
	t.Helper()
	re := flClassicKey
	if hive {
		re = flHiveKey
	}
	m := re.FindStringSubmatch(rel)
	require.NotNil(t, m, "key %s", rel)
	require.Equal(t, m[1], m[6], "account in directory and name")
	require.Equal(t, m[2], m[7], "region in directory and name")
	day, err := time.Parse("2006-01-02", m[3]+"-"+m[4]+"-"+m[5])
	require.NoError(t, err)
	window, err := time.Parse("20060102 1504", m[8]+" "+m[9])
	require.NoError(t, err)
	require.Equal(t, day, window.Truncate(24*time.Hour), "directory date and name stamp")
	require.Zero(t, window.Minute()%5, "windows start on 5-minute boundaries")
	return flKey{account: m[1], region: m[2], window: window, keyDay: day, gzip: m[10] != ""}
}

func TestGenerateFlowLogsLayout(t *testing.T) {
	tests := []struct {
		name        string
		hive, plain bool
	}{
		{"classic gzip", false, false},
		{"hive gzip", true, false},
		{"classic plain", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := flSmall(t.TempDir())
			cfg.Hive, cfg.Plain, cfg.Accounts = tc.hive, tc.plain, 3
			st, err := GenerateFlowLogs(cfg)
			require.NoError(t, err)
			tree := flTree(t, cfg.Dir)
			require.Equal(t, slices.Sorted(mapKeys(tree)), st.Paths, "Paths lists exactly the files written")

			accounts := map[string]bool{}
			days := map[time.Time]int{}
			var raw, stored int64
			for rel, b := range tree {
				k := flParseKey(t, rel, tc.hive)
				require.Equal(t, !tc.plain, k.gzip)
				require.Equal(t, !tc.plain, len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b)
				accounts[k.account] = true
				days[k.keyDay]++
				text := flText(t, b)
				raw += int64(len(text))
				stored += int64(len(b))
				// Every record names the key's account.
				for _, line := range bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"))[1:] {
					require.Equal(t, k.account, string(bytes.Fields(line)[1]))
				}
			}
			require.Equal(t, st.UncompressedBytes, raw)
			require.Equal(t, st.CompressedBytes, stored)
			require.Len(t, accounts, 3)
			leadingZero := 0
			for a := range accounts {
				if a[0] == '0' {
					leadingZero++
				}
			}
			require.GreaterOrEqual(t, leadingZero, 1, "an account id with a leading zero")
			require.Equal(t, map[time.Time]int{
				time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC): 4,
				time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC): 4,
			}, days)
		})
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// The Athena DDL's version 5 format, the ECS (version 7) fields, and every
// documented field.
var (
	flV5Fields = strings.Fields(`version account-id interface-id srcaddr dstaddr srcport dstport protocol
		packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr
		pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service
		flow-direction traffic-path`)
	flECSFields = strings.Fields(`version interface-id srcaddr dstaddr start end action log-status
		ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id
		ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn
		ecs-task-id`)
)

func flAllFields() []string {
	var out []string
	for _, f := range schema.VPCFields {
		out = append(out, f.Name)
	}
	return out
}

func TestGenerateFlowLogsFormatsParse(t *testing.T) {
	tests := []struct {
		name        string
		fields      []string
		wantHeader  string
		wantVersion int32
	}{
		{"default", nil, strings.Join(schema.VPCDefaultFormat, " "), 2},
		{"v5 Athena DDL", flV5Fields, strings.Join(flV5Fields, " "), 5},
		{"ECS", flECSFields, strings.Join(flECSFields, " "), 7},
		{"custom order", []string{"start", "srcaddr", "dstaddr", "bytes", "end", "action", "version"},
			"start srcaddr dstaddr bytes end action version", 2},
		{"underscore names", []string{"version", "account_id", "log_status", "tcp_flags"},
			"version account-id log-status tcp-flags", 3},
		{"transit gateway", []string{"version", "resource-type", "tgw-id", "tgw-src-eni", "packets-lost-no-route", "protocol", "start", "end", "log-status"},
			"version resource-type tgw-id tgw-src-eni packets-lost-no-route protocol start end log-status", 6},
		{"every documented field", flAllFields(), strings.Join(flAllFields(), " "), 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := FlowLogsConfig{Dir: t.TempDir(), Bytes: 256 << 10, Files: 3, Seed: 5, Fields: tc.fields}
			st, err := GenerateFlowLogs(cfg)
			require.NoError(t, err)
			nFields := len(strings.Fields(tc.wantHeader))
			var rows, lines int64
			for rel, b := range flTree(t, cfg.Dir) {
				text := flText(t, b)
				header, body, ok := bytes.Cut(text, []byte("\n"))
				require.True(t, ok)
				require.Equal(t, tc.wantHeader, string(header), rel)
				for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
					lines++
					require.Len(t, bytes.Split(line, []byte(" ")), nFields, "line %q", line)
				}
				rows += flReadAll(t, rel, text, tc.wantVersion)
			}
			require.Equal(t, st.Records, lines)
			require.Equal(t, st.Records, rows)
		})
	}
}

// flReadAll parses text with the project's flow-log reader, requires that
// nothing is rejected and that every row's version is want, and returns the
// row count.
func flReadAll(t *testing.T, object string, text []byte, want int32) int64 {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var rejects []reader.Reject
	rd, err := vpcflow.NewReader(bytes.NewReader(text), vpcflow.Config{
		Object: object, Mem: mem, ChunkRows: 4096,
		Reject: func(r reader.Reject) {
			r.Raw = slices.Clone(r.Raw)
			rejects = append(rejects, r)
		},
	})
	require.NoError(t, err)
	defer rd.Release()
	for rd.Next() {
		rec := rd.RecordBatch()
		idx := rec.Schema().FieldIndices("version")
		require.Len(t, idx, 1)
		col := rec.Column(idx[0]).(*array.Int32)
		for i := range col.Len() {
			require.Equal(t, want, col.Value(i))
		}
	}
	require.NoError(t, rd.Err())
	require.Empty(t, rejects)
	require.Empty(t, rd.UnknownFields())
	st := rd.Stats()
	require.Equal(t, int64(0), st.Rejected)
	require.Equal(t, st.Records, st.Rows)
	return st.Rows
}

var (
	flENIRe     = regexp.MustCompile(`^eni-[0-9a-f]{17}$`)
	flPrivateV4 = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12")}
)

// flParsed is what TestGenerateFlowLogsValues counts over a data set.
type flParsed struct {
	records, nodata, skipdata, crossDay      int64
	ipv6, public, private                    int64
	tcp, udp, icmp, reject                   int64
	byDay                                    map[string]int64
	longFlows, maxPackets, packetsOverOneK   int64
	smallFlows                               int64 // accepted flows of 1 or 2 packets
	wellKnownDst, ephemeralSrc, portedFlowsN int64
}

func TestGenerateFlowLogsValues(t *testing.T) {
	cfg := FlowLogsConfig{Dir: t.TempDir(), Bytes: 4 << 20, Files: 8, Days: 2, Seed: 9}
	st, err := GenerateFlowLogs(cfg)
	require.NoError(t, err)
	p := flParsed{byDay: map[string]int64{}}
	for rel, b := range flTree(t, cfg.Dir) {
		k := flParseKey(t, rel, false)
		sc := bufio.NewScanner(bytes.NewReader(flText(t, b)))
		sc.Scan() // header
		for sc.Scan() {
			flCheckLine(t, &p, k, sc.Text())
		}
		require.NoError(t, sc.Err())
	}
	require.Equal(t, st.Records, p.records)
	require.Equal(t, st.NoDataRecords, p.nodata)
	require.Equal(t, st.SkipDataRecords, p.skipdata)
	require.Equal(t, st.CrossDayRecords, p.crossDay)
	require.Equal(t, st.RecordsByStartDay, p.byDay)

	share := func(n int64) float64 { return float64(n) / float64(p.records) }
	data := p.records - p.nodata - p.skipdata
	dataShare := func(n int64) float64 { return float64(n) / float64(data) }
	require.InDelta(t, 0.015, share(p.nodata), 0.005, "NODATA share")
	require.InDelta(t, 0.003, share(p.skipdata), 0.002, "SKIPDATA share")
	require.Greater(t, dataShare(p.private), 0.5, "mostly private addresses")
	require.Greater(t, dataShare(p.public), 0.2, "public addresses too")
	require.InDelta(t, 0.05, dataShare(p.ipv6), 0.03, "some IPv6")
	require.Greater(t, dataShare(p.tcp+p.udp), 0.95, "TCP and UDP")
	require.Greater(t, dataShare(p.icmp), 0.01, "some ICMP")
	require.InDelta(t, 0.07, dataShare(p.reject), 0.02, "REJECT share")
	require.Greater(t, float64(p.wellKnownDst)/float64(p.portedFlowsN), 0.4, "client flows to well-known ports")
	require.Greater(t, float64(p.ephemeralSrc)/float64(p.portedFlowsN), 0.4, "from ephemeral ports")
	require.Greater(t, share(p.longFlows), 0.03, "some flows span a 10-minute interval")
	require.Less(t, share(p.longFlows), 0.15, "most flows are under a minute")
	// Heavy tail (Pareto, alpha 1.1): about 1 flow in 2000 carries over
	// 1000 packets, while most carry one or two.
	require.GreaterOrEqual(t, p.packetsOverOneK, int64(5))
	require.Greater(t, float64(p.smallFlows)/float64(data-p.reject), 0.6)
	require.Greater(t, p.maxPackets, int64(2000))
}

// flCheckLine checks one default-format line against its file's key and
// counts it.
func flCheckLine(t *testing.T, p *flParsed, k flKey, line string) {
	f := strings.Split(line, " ")
	require.Len(t, f, 14, line)
	p.records++
	require.Equal(t, "2", f[0])
	require.Equal(t, k.account, f[1])
	require.Regexp(t, flENIRe, f[2])
	start, err := strconv.ParseInt(f[10], 10, 64)
	require.NoError(t, err)
	end, err := strconv.ParseInt(f[11], 10, 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, end, k.window.Unix(), "end in the file's window: %s", line)
	require.Less(t, end, k.window.Unix()+300, "end in the file's window: %s", line)
	require.LessOrEqual(t, start, end)
	require.LessOrEqual(t, end-start, int64(600), "within the longest aggregation interval")
	if end-start > 60 {
		p.longFlows++
	}
	if start < k.keyDay.Unix() {
		p.crossDay++
		require.Less(t, k.window.Sub(k.keyDay), 10*time.Minute, "only files of just after midnight carry earlier records")
	}
	p.byDay[time.Unix(start, 0).UTC().Format(time.DateOnly)]++

	switch f[13] {
	case "NODATA", "SKIPDATA":
		if f[13] == "NODATA" {
			p.nodata++
		} else {
			p.skipdata++
		}
		// As AWS writes them: no traffic fields.
		require.Equal(t, []string{"-", "-", "-", "-", "-", "-", "-"}, f[3:10], line)
		require.Equal(t, "-", f[12])
		return
	case "OK":
	default:
		t.Fatalf("log-status %q", f[13])
	}
	src, err := netip.ParseAddr(f[3])
	require.NoError(t, err, line)
	dst, err := netip.ParseAddr(f[4])
	require.NoError(t, err, line)
	require.Equal(t, src.Is6(), dst.Is6(), "one address family per flow: %s", line)
	if src.Is6() {
		p.ipv6++
	} else {
		for _, a := range []netip.Addr{src, dst} {
			if flPrivateV4[0].Contains(a) || flPrivateV4[1].Contains(a) {
				p.private++
			} else {
				p.public++
			}
		}
	}
	var nums [5]int64
	for i := range nums {
		nums[i], err = strconv.ParseInt(f[5+i], 10, 64)
		require.NoError(t, err, line)
	}
	srcPort, dstPort, proto, packets, size := nums[0], nums[1], nums[2], nums[3], nums[4]
	require.True(t, srcPort >= 0 && srcPort <= 65535 && dstPort >= 0 && dstPort <= 65535, line)
	switch proto {
	case 6, 17:
		if proto == 6 {
			p.tcp++
		} else {
			p.udp++
		}
		p.portedFlowsN++
		if dstPort < 10000 {
			p.wellKnownDst++
		}
		if srcPort >= 32768 {
			p.ephemeralSrc++
		}
	case 1, 58:
		p.icmp++
		require.Zero(t, srcPort)
		require.Zero(t, dstPort)
	}
	require.GreaterOrEqual(t, packets, int64(1))
	require.GreaterOrEqual(t, size, 40*packets, "at least a header per packet")
	require.LessOrEqual(t, size, 1500*packets, "at most an MTU per packet")
	p.maxPackets = max(p.maxPackets, packets)
	if packets > 1000 {
		p.packetsOverOneK++
	}
	switch f[12] {
	case "ACCEPT":
		if packets <= 2 {
			p.smallFlows++
		}
	case "REJECT":
		p.reject++
	default:
		t.Fatalf("action %q", f[12])
	}
}

func TestGenerateFlowLogsCrossDay(t *testing.T) {
	tests := []struct {
		name     string
		crossDay float64
		want     float64
	}{
		{"default", 0, FlowLogsDefaultCrossDay},
		{"five percent", 0.05, 0.05},
		{"none", -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := FlowLogsConfig{Dir: t.TempDir(), Bytes: 4 << 20, Files: 16, Days: 2, Seed: 3, CrossDay: tc.crossDay}
			st, err := GenerateFlowLogs(cfg)
			require.NoError(t, err)
			var records, cross int64
			for rel, b := range flTree(t, cfg.Dir) {
				k := flParseKey(t, rel, false)
				sc := bufio.NewScanner(bytes.NewReader(flText(t, b)))
				sc.Scan()
				for sc.Scan() {
					start, err := strconv.ParseInt(strings.Fields(sc.Text())[10], 10, 64)
					require.NoError(t, err)
					records++
					if start < k.keyDay.Unix() {
						cross++
					}
				}
			}
			require.Equal(t, st.Records, records)
			require.Equal(t, st.CrossDayRecords, cross)
			got := float64(cross) / float64(records)
			require.InDelta(t, tc.want, got, tc.want*0.2+1e-9, "cross-day share %d/%d", cross, records)
		})
	}
}

func TestGenerateFlowLogsDerivesFileCount(t *testing.T) {
	tests := []struct {
		name      string
		bytes     int64
		days      int
		wantFiles int
	}{
		{"one per 8 MiB", 20 << 20, 1, 3},
		{"at least one per day", 1 << 20, 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := flNewGenerator(FlowLogsConfig{Dir: "unused", Bytes: tc.bytes, Days: tc.days})
			require.NoError(t, err)
			require.Len(t, g.files, tc.wantFiles)
			var total int64
			for _, f := range g.files {
				total += f.target
			}
			require.InDelta(t, tc.bytes, total, float64(len(g.files)))
		})
	}
}

func TestGenerateFlowLogsFileSizesVary(t *testing.T) {
	g, err := flNewGenerator(FlowLogsConfig{Dir: "unused", Bytes: 256 << 20, Days: 2, Seed: 1})
	require.NoError(t, err)
	require.Len(t, g.files, 32)
	lo, hi := g.files[0].target, g.files[0].target
	for _, f := range g.files {
		lo, hi = min(lo, f.target), max(hi, f.target)
	}
	require.Greater(t, lo, int64(3<<20))
	require.Less(t, hi, int64(20<<20))
	require.Greater(t, float64(hi)/float64(lo), 1.5, "sizes vary like busy and quiet hours")
}

func TestGenerateFlowLogsRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  FlowLogsConfig
		want string
	}{
		{"no dir", FlowLogsConfig{Bytes: 1}, "Dir is required"},
		{"no bytes", FlowLogsConfig{Dir: "x"}, "Bytes must be positive"},
		{"negative files", FlowLogsConfig{Dir: "x", Bytes: 1, Files: -1}, "must not be negative"},
		{"unknown field", FlowLogsConfig{Dir: "x", Bytes: 1, Fields: []string{"version", "colour"}}, `"colour" is not a documented`},
		{"field twice", FlowLogsConfig{Dir: "x", Bytes: 1, Fields: []string{"start", "start"}}, `"start" listed twice`},
		{"cross-day over 1", FlowLogsConfig{Dir: "x", Bytes: 1, CrossDay: 2}, "over 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GenerateFlowLogs(tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestGenerateFlowLogsStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := GenerateFlowLogsContext(ctx, FlowLogsConfig{Dir: dir, Bytes: 8 << 20, Files: 4, Seed: 1})
	require.ErrorIs(t, err, context.Canceled)
	for rel := range flTree(t, dir) {
		require.False(t, strings.HasPrefix(filepath.Base(rel), "."), "temporary %s left behind", rel)
	}
}

// Every documented field has a generator, except those whose values AWS has
// not published (written as "-"). A field added to the schema fails here
// until the generator knows it.
func TestFlowLogsFieldCoverage(t *testing.T) {
	dashOnly := []string{"next-hop-interface-id", "next-hop-subnet-id", "next-hop-az-id", "next-hop-vpc-id",
		"next-hop-interface-type", "instance-tag", "instance-tag-2", "interface-tag", "interface-tag-2",
		"asg-tag", "asg-tag-2"}
	var missing []string
	for _, f := range schema.VPCFields {
		if _, ok := flFieldIDs[f.Name]; !ok {
			missing = append(missing, f.Name)
		}
	}
	require.ElementsMatch(t, dashOnly, missing)
	for name := range flFieldIDs {
		_, ok := schema.LookupVPCField(name)
		require.True(t, ok, "generator for undocumented field %q", name)
	}
}

func TestAppendHex(t *testing.T) {
	r := NewRand(1, 1)
	for _, n := range []int{0, 1, 8, 16, 17, 64} {
		s := RandomHex(r, n)
		require.Regexp(t, `^[0-9a-f]*$`, s)
		require.Len(t, s, n)
	}
	require.Equal(t, RandomHex(NewRand(7, 3), 32), RandomHex(NewRand(7, 3), 32))
	require.NotEqual(t, RandomHex(NewRand(7, 3), 32), RandomHex(NewRand(7, 4), 32))
}

func TestForEachReturnsFirstError(t *testing.T) {
	boom := context.DeadlineExceeded
	var ran [100]bool
	err := ForEach(context.Background(), 100, 3, func(ctx context.Context, i int) error {
		ran[i] = true
		if i == 10 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	require.True(t, ran[10])
	require.False(t, ran[99], "no new work after an error")

	var count [50]int
	require.NoError(t, ForEach(context.Background(), 50, 4, func(ctx context.Context, i int) error {
		count[i]++
		return nil
	}))
	for i, c := range count {
		require.Equal(t, 1, c, "index %d", i)
	}
}
