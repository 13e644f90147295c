package gen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// CloudTrailConfig describes a CloudTrail data set. Only Dir and Bytes are
// required; every other zero value has a documented default.
type CloudTrailConfig struct {
	// Dir is the root the AWSLogs/ tree is written under. Files of the same
	// name are overwritten; nothing else in Dir is touched.
	Dir string
	// Bytes is the approximate total of uncompressed JSON. Each file stops
	// at the first record past its share, so the total exceeds Bytes by at
	// most one record per file.
	Bytes int64
	// Files is the number of files. 0 derives it from Bytes: one per
	// CloudTrailMeanFileBytes, and at least one per day.
	Files int
	// Days is the number of UTC days the files are spread over (0 = 1).
	Days int
	// Seed selects the data set. Equal configurations give byte-identical
	// files; a different seed gives different ones.
	Seed int64
	// Start is the first day, truncated to its UTC date
	// (0 = CloudTrailDefaultStart).
	Start time.Time
	// Accounts are the trail's account ids (nil = two accounts, the second
	// with a leading zero).
	Accounts []string
	// Regions are the regions delivering logs (nil = us-east-1, eu-west-1
	// and cn-north-1, whose ARNs use the aws-cn partition).
	Regions []string
	// OrgID, when set (o-…), writes an organization trail:
	// AWSLogs/<OrgID>/<account>/CloudTrail/….
	OrgID string
	// Plain writes uncompressed .json files instead of .json.gz.
	Plain bool
	// GzipLevel is the compression level (0 = gzip.DefaultCompression).
	GzipLevel int
	// Workers is the number of files written at once (0 = GOMAXPROCS). It
	// changes the speed, never the bytes.
	Workers int
}

// Defaults of CloudTrailConfig.
const (
	// CloudTrailMeanFileBytes is about the uncompressed size of a busy
	// trail's 5-minute file.
	CloudTrailMeanFileBytes = 1 << 20
)

// CloudTrailDefaultStart is the first day of a data set whose Start is zero.
var CloudTrailDefaultStart = time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)

var (
	ctDefaultAccounts = []string{"111122223333", "012345678901"}
	ctDefaultRegions  = []string{"us-east-1", "eu-west-1", "cn-north-1"}
)

// CloudTrailStats counts what GenerateCloudTrail wrote.
type CloudTrailStats struct {
	Files             int   `json:"files"`
	Records           int64 `json:"records"`
	UncompressedBytes int64 `json:"uncompressed_bytes"`
	CompressedBytes   int64 `json:"compressed_bytes"`
	// RecordsByPartition counts records by the partition a conversion by
	// event time must put them in:
	// account=<recipientAccountId>/region=<awsRegion>/year=YYYY/month=MM/day=DD.
	RecordsByPartition map[string]int64 `json:"records_by_partition"`
	// EventNames counts records by eventName.
	EventNames map[string]int64 `json:"event_names"`
	// Errors counts records with an errorCode.
	Errors int64 `json:"errors"`
	// GetObjectBytesOut sums additionalEventData.bytesTransferredOut of the
	// S3 GetObject events, by sourceIPAddress: the seed's "who downloads
	// what" question.
	GetObjectBytesOut map[string]int64 `json:"get_object_bytes_out"`
	// Paths lists the files written, slash-separated, relative to Dir, sorted.
	Paths []string `json:"paths"`
}

// GenerateCloudTrail writes a CloudTrail data set; see
// GenerateCloudTrailContext.
func GenerateCloudTrail(cfg CloudTrailConfig) (CloudTrailStats, error) {
	return GenerateCloudTrailContext(context.Background(), cfg)
}

// GenerateCloudTrailContext writes a CloudTrail data set under cfg.Dir in the
// layout CloudTrail delivers to S3:
//
//	AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz
//
// Each file is one {"Records":[…]} object of events from the minutes before
// its delivery time (a few from the previous UTC day, for files delivered
// just after midnight), in no particular order, as CloudTrail writes them:
// S3 data events (GetObject, PutObject, ListObjects) with
// additionalEventData, resources and tlsDetails; AssumeRole and
// AssumeRoleWithWebIdentity; ConsoleLogin; EC2 Describe calls with request
// parameters of varying shape; IAM calls with policy documents as escaped
// JSON strings; failed calls with errorCode and errorMessage; AWS service
// events with serviceEventDetails; identities of every kind (IAM users,
// assumed roles with sessionContext and sessionIssuer, web-identity
// federation, AWS services, root, IAM Identity Center with onBehalfOf); and
// fields the Athena table has no column for (managementEvent,
// sessionContext.sourceIdentity, tlsDetails.keyExchange). Regions cn-* use
// the aws-cn ARN partition. The result does not depend on Workers.
func GenerateCloudTrailContext(ctx context.Context, cfg CloudTrailConfig) (CloudTrailStats, error) {
	g, err := ctNewGenerator(cfg)
	if err != nil {
		return CloudTrailStats{}, err
	}
	results, err := WriteFiles(ctx, g.files, g.cfg.Workers, g.writeFile)
	if err != nil {
		return CloudTrailStats{}, err
	}
	stats := CloudTrailStats{
		Files:              len(g.files),
		RecordsByPartition: map[string]int64{},
		EventNames:         map[string]int64{},
		GetObjectBytesOut:  map[string]int64{},
	}
	for i, r := range results {
		stats.Records += r.records
		stats.UncompressedBytes += r.raw
		stats.CompressedBytes += r.stored
		stats.Errors += r.errors
		for k, n := range r.byPartition {
			stats.RecordsByPartition[k] += n
		}
		for k, n := range r.names {
			stats.EventNames[k] += n
		}
		for k, n := range r.bytesOut {
			stats.GetObjectBytesOut[k] += n
		}
		stats.Paths = append(stats.Paths, g.files[i].rel)
	}
	slices.Sort(stats.Paths)
	return stats, nil
}

// CloudTrailSample returns one uncompressed log file, {"Records":[…]}, of
// about size bytes, with the events GenerateCloudTrail writes: realistic
// input for benchmarks and tests that want bytes rather than files.
func CloudTrailSample(seed int64, size int) []byte {
	g, err := ctNewGenerator(CloudTrailConfig{Dir: ".", Bytes: int64(size), Files: 1, Seed: seed})
	if err != nil {
		panic(err) // the configuration above is always valid
	}
	f := &g.files[0]
	st := ctNewFileStats()
	eg := g.newEventGen(f, &st)
	out := append(make([]byte, 0, size+8<<10), `{"Records":[`...)
	for n := 0; n == 0 || len(out) < size; n++ {
		if n > 0 {
			out = append(out, ',')
		}
		out = eg.appendEvent(out)
	}
	return append(out, "]}\n"...)
}

// ctGenerator holds the plan of a data set; workers only read it.
type ctGenerator struct {
	cfg      CloudTrailConfig
	accounts []*ctAccount
	files    []ctFile
}

type ctAccount struct {
	id      string
	users   []string
	roles   []string
	buckets []string
	// keys are object keys per bucket (shared, so downloads repeat).
	keys      [][]string
	instances []string
	ips       []string // the account's clients
}

type ctFile struct {
	index    int
	acct     *ctAccount
	region   string
	delivery int64 // Unix seconds of the delivery time in the name
	target   int64
	rel      string
}

func ctNewGenerator(cfg CloudTrailConfig) (*ctGenerator, error) {
	if cfg.Dir == "" {
		return nil, errors.New("gen: CloudTrailConfig.Dir is empty")
	}
	if cfg.Bytes <= 0 {
		return nil, errors.New("gen: CloudTrailConfig.Bytes must be positive")
	}
	if cfg.Days <= 0 {
		cfg.Days = 1
	}
	if cfg.Files <= 0 {
		cfg.Files = int(max(int64(cfg.Days), cfg.Bytes/CloudTrailMeanFileBytes))
	}
	if cfg.Start.IsZero() {
		cfg.Start = CloudTrailDefaultStart
	}
	if cfg.GzipLevel == 0 {
		cfg.GzipLevel = gzip.DefaultCompression
	}
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = ctDefaultAccounts
	}
	if len(cfg.Regions) == 0 {
		cfg.Regions = ctDefaultRegions
	}
	if cfg.OrgID != "" && !strings.HasPrefix(cfg.OrgID, "o-") {
		return nil, fmt.Errorf("gen: organization id %q does not start with o-", cfg.OrgID)
	}
	for _, s := range append(slices.Clone(cfg.Accounts), cfg.Regions...) {
		if s == "" || strings.ContainsAny(s, `/\_"`) {
			return nil, fmt.Errorf("gen: invalid account or region %q", s)
		}
	}
	g := &ctGenerator{cfg: cfg}
	r := NewRand(cfg.Seed, 0)
	for _, id := range cfg.Accounts {
		g.accounts = append(g.accounts, ctPlanAccount(r, id))
	}
	g.planFiles(r)
	return g, nil
}

var (
	ctFirstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"}
	ctRoleNames  = []string{"Admin", "ReadOnly", "DataScientist", "DeployRole", "LambdaExecution", "EC2InstanceRole", "AWSServiceRoleForConfig", "BackupRole"}
	ctBucketWord = []string{"logs", "data", "backup", "artifacts", "reports", "media", "raw", "curated"}
	ctKeyDirs    = []string{"2025/03/", "exports/", "images/", "tmp/", "users/", "daily/", "models/v2/", ""}
	ctKeyExt     = []string{".csv", ".json", ".parquet", ".jpg", ".tar.gz", ".txt"}
)

func ctPlanAccount(r *rand.Rand, id string) *ctAccount {
	a := &ctAccount{id: id}
	for _, i := range r.Perm(len(ctFirstNames))[:6] {
		a.users = append(a.users, ctFirstNames[i])
	}
	for _, i := range r.Perm(len(ctRoleNames))[:5] {
		a.roles = append(a.roles, ctRoleNames[i])
	}
	for _, i := range r.Perm(len(ctBucketWord))[:4] {
		b := "example-" + ctBucketWord[i] + "-" + RandomHex(r, 6)
		a.buckets = append(a.buckets, b)
		var keys []string
		for range 12 {
			keys = append(keys, ctKeyDirs[r.IntN(len(ctKeyDirs))]+RandomHex(r, 8)+ctKeyExt[r.IntN(len(ctKeyExt))])
		}
		a.keys = append(a.keys, keys)
	}
	for range 8 {
		a.instances = append(a.instances, "i-"+RandomHex(r, 17))
	}
	for range 6 {
		// Documentation ranges (RFC 5737) and a private one.
		nets := []string{"192.0.2.", "198.51.100.", "203.0.113.", "10.0.12."}
		a.ips = append(a.ips, nets[r.IntN(len(nets))]+strconv.Itoa(1+r.IntN(254)))
	}
	return a
}

// ctWindow is CloudTrail's delivery interval: about every 5 minutes.
const ctWindow = 300

func (g *ctGenerator) planFiles(r *rand.Rand) {
	cfg := g.cfg
	st := cfg.Start.UTC()
	day0 := time.Date(st.Year(), st.Month(), st.Day(), 0, 0, 0, 0, time.UTC).Unix()
	weights := make([]float64, 0, cfg.Files)
	var total float64
	idx := 0
	for d := range cfg.Days {
		n := cfg.Files / cfg.Days
		if d < cfg.Files%cfg.Days {
			n++
		}
		for j := range n {
			slot := j * (86400 / ctWindow) / n
			f := ctFile{
				index:  idx,
				acct:   g.accounts[idx%len(g.accounts)],
				region: cfg.Regions[(idx/len(g.accounts))%len(cfg.Regions)],
				// Delivered a little after the end of the window.
				delivery: day0 + int64(d)*86400 + int64(slot+1)*ctWindow + int64(r.IntN(60)),
			}
			w := math.Exp(0.3 * r.NormFloat64())
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
			f.rel = g.fileKey(f, ctUniqueString(r))
			if !seen[f.rel] {
				break
			}
		}
		seen[f.rel] = true
	}
}

const ctAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ctUniqueString is the 16-character string that ends a log file's name.
func ctUniqueString(r *rand.Rand) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = ctAlnum[r.IntN(len(ctAlnum))]
	}
	return string(b)
}

func (g *ctGenerator) fileKey(f *ctFile, unique string) string {
	t := time.Unix(f.delivery, 0).UTC()
	ext := ".json.gz"
	if g.cfg.Plain {
		ext = ".json"
	}
	name := fmt.Sprintf("%s_CloudTrail_%s_%sZ_%s%s", f.acct.id, f.region, t.Format("20060102T1504"), unique, ext)
	parts := []string{"AWSLogs"}
	if g.cfg.OrgID != "" {
		parts = append(parts, g.cfg.OrgID)
	}
	parts = append(parts, f.acct.id, "CloudTrail", f.region, t.Format("2006/01/02"), name)
	return path.Join(parts...)
}

type ctFileStats struct {
	records, errors, raw, stored int64
	byPartition, names, bytesOut map[string]int64
}

func ctNewFileStats() ctFileStats {
	return ctFileStats{byPartition: map[string]int64{}, names: map[string]int64{}, bytesOut: map[string]int64{}}
}

const ctFlushBytes = 64 << 10

func (g *ctGenerator) writeFile(ctx context.Context, f *ctFile) (ctFileStats, error) {
	st := ctNewFileStats()
	w, err := CreateFile(filepath.Join(g.cfg.Dir, filepath.FromSlash(f.rel)), !g.cfg.Plain, g.cfg.GzipLevel)
	if err != nil {
		return st, err
	}
	eg := g.newEventGen(f, &st)
	buf := make([]byte, 0, ctFlushBytes+16<<10)
	buf = append(buf, `{"Records":[`...)
	size := int64(len(buf))
	for st.records == 0 || size < f.target {
		n := len(buf)
		if st.records > 0 {
			buf = append(buf, ',')
		}
		buf = eg.appendEvent(buf)
		size += int64(len(buf) - n)
		if len(buf) >= ctFlushBytes {
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
	buf = append(buf, "]}"...)
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

// ctEventGen writes the events of one file.
type ctEventGen struct {
	g         *ctGenerator
	f         *ctFile
	r         *rand.Rand
	st        *ctFileStats
	w         ctJSON
	partition string // ARN partition: aws, aws-cn, aws-us-gov
	domain    string // amazonaws.com or amazonaws.com.cn
	// per event
	t       time.Time
	name    string
	errCode string
	ip      string
	bytes   int64
}

func (g *ctGenerator) newEventGen(f *ctFile, st *ctFileStats) *ctEventGen {
	eg := &ctEventGen{g: g, f: f, r: NewRand(g.cfg.Seed, uint64(f.index)+1), st: st, partition: "aws", domain: "amazonaws.com"}
	switch {
	case strings.HasPrefix(f.region, "cn-"):
		eg.partition, eg.domain = "aws-cn", "amazonaws.com.cn"
	case strings.HasPrefix(f.region, "us-gov-"):
		eg.partition = "aws-us-gov"
	}
	return eg
}

// ctKinds are the event kinds with their weights (per mille).
var ctKinds = []struct {
	weight int
	write  func(*ctEventGen)
}{
	{260, (*ctEventGen).s3GetObject},
	{90, (*ctEventGen).s3PutObject},
	{60, (*ctEventGen).s3ListObjects},
	{90, (*ctEventGen).assumeRole},
	{15, (*ctEventGen).assumeRoleWithWebIdentity},
	{25, (*ctEventGen).consoleLogin},
	{250, (*ctEventGen).ec2Describe},
	{50, (*ctEventGen).iamCall},
	{40, (*ctEventGen).serviceEvent},
	{40, (*ctEventGen).kmsDecrypt},
	{30, (*ctEventGen).getCallerIdentity},
	{50, (*ctEventGen).lambdaCall},
}

var ctKindTotal = func() (n int) {
	for _, k := range ctKinds {
		n += k.weight
	}
	return n
}()

// appendEvent appends one event object to b.
func (eg *ctEventGen) appendEvent(b []byte) []byte {
	r := eg.r
	// Events of the five minutes before delivery; one in fifty is up to ten
	// minutes older (late delivery), which crosses midnight for the first
	// files of a day.
	back := int64(r.IntN(ctWindow))
	if r.IntN(50) == 0 {
		back += int64(r.IntN(600))
	}
	eg.t = time.Unix(eg.f.delivery-30-back, int64(r.IntN(1000))*1e6).UTC()
	eg.errCode, eg.ip, eg.bytes = "", "", -1
	eg.w.b = b
	eg.w.reset()
	pick := r.IntN(ctKindTotal)
	for _, k := range ctKinds {
		if pick < k.weight {
			k.write(eg)
			eg.w.b = append(eg.w.b, '}')
			break
		}
		pick -= k.weight
	}
	st := eg.st
	st.records++
	st.names[eg.name]++
	if eg.errCode != "" {
		st.errors++
	}
	if eg.name == "GetObject" && eg.errCode == "" && eg.bytes >= 0 {
		st.bytesOut[eg.ip] += eg.bytes
	}
	st.byPartition[fmt.Sprintf("account=%s/region=%s/year=%04d/month=%02d/day=%02d",
		eg.f.acct.id, eg.f.region, eg.t.Year(), int(eg.t.Month()), eg.t.Day())]++
	return eg.w.b
}

func (eg *ctEventGen) pick(s []string) string { return s[eg.r.IntN(len(s))] }

func (eg *ctEventGen) arn(service, resource string) string {
	return "arn:" + eg.partition + ":" + service + "::" + eg.f.acct.id + ":" + resource
}

func (eg *ctEventGen) regionalARN(service, resource string) string {
	return "arn:" + eg.partition + ":" + service + ":" + eg.f.region + ":" + eg.f.acct.id + ":" + resource
}

func (eg *ctEventGen) host(service string) string {
	return service + "." + eg.domain
}

func (eg *ctEventGen) uuid() string {
	h := RandomHex(eg.r, 32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (eg *ctEventGen) upperID(prefix string, n int) string {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(prefix)
	for range n {
		b = append(b, upper[eg.r.IntN(len(upper))])
	}
	return string(b)
}

var ctUserAgents = []string{
	"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.164.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/s3.cp",
	"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
	"aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.0",
	"aws-sdk-java/2.25.16 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/adaptive",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
	"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.660 Linux/5.10.213-179.855.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 vendor/Oracle_Corporation cfg/retry-mode/standard]",
	"Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0",
}

// identity kinds
const (
	ctIAMUser = iota
	ctAssumedRole
	ctFederatedRole // assumed through web identity: webIdFederationData
	ctRoot
	ctIdentityCenter
)

// userIdentity writes the userIdentity member for a caller of kind k.
func (eg *ctEventGen) userIdentity(k int, console bool) {
	w, r, a := &eg.w, eg.r, eg.f.acct
	w.open("userIdentity")
	switch k {
	case ctIAMUser:
		user := eg.pick(a.users)
		w.str("type", "IAMUser")
		w.str("principalId", eg.upperID("AIDA", 17))
		w.str("arn", eg.arn("iam", "user/"+user))
		w.str("accountId", a.id)
		w.str("accessKeyId", eg.upperID("AKIA", 16))
		w.str("userName", user)
		if console {
			w.open("sessionContext")
			w.open("sessionIssuer")
			w.close()
			w.open("webIdFederationData")
			w.close()
			eg.sessionAttributes(true)
			w.close()
		}
	case ctAssumedRole, ctFederatedRole:
		role := eg.pick(a.roles)
		roleID := eg.upperID("AROA", 17)
		session := eg.pick(a.users)
		if role == "EC2InstanceRole" {
			session = eg.pick(a.instances)
		}
		w.str("type", "AssumedRole")
		w.str("principalId", roleID+":"+session)
		w.str("arn", eg.arn("sts", "assumed-role/"+role+"/"+session))
		w.str("accountId", a.id)
		w.str("accessKeyId", eg.upperID("ASIA", 16))
		if r.IntN(20) == 0 {
			w.str("invokedBy", eg.host("servicecatalog"))
		}
		w.open("sessionContext")
		w.open("sessionIssuer")
		w.str("type", "Role")
		w.str("principalId", roleID)
		w.str("arn", eg.arn("iam", "role/"+role))
		w.str("accountId", a.id)
		w.str("userName", role)
		w.close()
		w.open("webIdFederationData")
		if k == ctFederatedRole {
			w.str("federatedProvider", eg.arn("iam", "oidc-provider/token.actions.githubusercontent.com"))
			w.open("attributes")
			w.str("token.actions.githubusercontent.com:sub", "repo:example-org/app:ref:refs/heads/main")
			w.str("token.actions.githubusercontent.com:aud", "sts.amazonaws.com")
			w.close()
		}
		w.close()
		eg.sessionAttributes(console)
		if r.IntN(8) == 0 {
			w.str("sourceIdentity", eg.pick(a.users)+"@example.com")
		}
		if role == "EC2InstanceRole" {
			w.str("ec2RoleDelivery", "2.0")
		}
		w.close()
	case ctRoot:
		w.str("type", "Root")
		w.str("principalId", a.id)
		w.str("arn", eg.arn("iam", "root"))
		w.str("accountId", a.id)
		w.str("accessKeyId", eg.upperID("ASIA", 16))
		if console {
			w.open("sessionContext")
			w.open("sessionIssuer")
			w.close()
			w.open("webIdFederationData")
			w.close()
			eg.sessionAttributes(true)
			w.close()
		}
	case ctIdentityCenter:
		w.str("type", "IdentityCenterUser")
		w.str("accountId", a.id)
		w.open("onBehalfOf")
		w.str("userId", eg.uuid())
		w.str("identityStoreArn", eg.arn("identitystore", "identitystore/d-"+RandomHex(r, 10)))
		w.close()
		w.str("credentialId", RandomHex(r, 40))
	}
	w.close()
}

func (eg *ctEventGen) sessionAttributes(mfaPossible bool) {
	w := &eg.w
	w.open("attributes")
	created := eg.t.Add(-time.Duration(eg.r.IntN(3600)) * time.Second)
	w.str("creationDate", created.Format("2006-01-02T15:04:05Z"))
	w.str("mfaAuthenticated", strconv.FormatBool(mfaPossible && eg.r.IntN(3) == 0))
	w.close()
}

// callerKind draws the kind of caller of an API call.
func (eg *ctEventGen) callerKind() int {
	switch n := eg.r.IntN(100); {
	case n < 22:
		return ctIAMUser
	case n < 88:
		return ctAssumedRole
	case n < 95:
		return ctFederatedRole
	case n < 97:
		return ctRoot
	default:
		return ctIdentityCenter
	}
}

// head writes the members every event starts with.
func (eg *ctEventGen) head(version, source, name string, identity func()) {
	w := &eg.w
	eg.name = name
	w.str("eventVersion", version)
	identity()
	w.str("eventTime", eg.t.Format("2006-01-02T15:04:05Z"))
	w.str("eventSource", source)
	w.str("eventName", name)
	w.str("awsRegion", eg.f.region)
	if eg.ip == "" {
		eg.ip = eg.pick(eg.f.acct.ips)
	}
	w.str("sourceIPAddress", eg.ip)
	w.str("userAgent", eg.pick(ctUserAgents))
}

// maybeError makes a call fail now and then; it returns whether it did.
func (eg *ctEventGen) maybeError(permille int, code, message string) bool {
	if eg.r.IntN(1000) >= permille {
		return false
	}
	eg.errCode = code
	eg.w.str("errorCode", code)
	eg.w.str("errorMessage", message)
	return true
}

// tail writes the members after the response: ids, type, category.
func (eg *ctEventGen) tail(readOnly bool, eventType, category string, management bool, resources func()) {
	w, a := &eg.w, eg.f.acct
	w.str("requestID", eg.upperID("", 16))
	w.str("eventID", eg.uuid())
	w.boolean("readOnly", readOnly)
	if resources != nil {
		w.openArr("resources")
		resources()
		w.closeArr()
	}
	w.str("eventType", eventType)
	w.boolean("managementEvent", management)
	w.str("recipientAccountId", a.id)
	if eg.r.IntN(25) == 0 {
		w.str("vpcEndpointId", "vpce-"+RandomHex(eg.r, 17))
		w.str("vpcEndpointAccountId", a.id)
	}
	w.str("eventCategory", category)
}

func (eg *ctEventGen) tls(host string) {
	w := &eg.w
	w.open("tlsDetails")
	if eg.r.IntN(4) == 0 {
		w.str("tlsVersion", "TLSv1.2")
		w.str("cipherSuite", "ECDHE-RSA-AES128-GCM-SHA256")
	} else {
		w.str("tlsVersion", "TLSv1.3")
		w.str("cipherSuite", "TLS_AES_128_GCM_SHA256")
	}
	w.str("clientProvidedHostHeader", host)
	if eg.r.IntN(3) == 0 {
		w.str("keyExchange", "x25519")
	}
	w.close()
}

func (eg *ctEventGen) s3Object() (bucket, key string) {
	a := eg.f.acct
	i := eg.r.IntN(len(a.buckets))
	return a.buckets[i], eg.pick(a.keys[i])
}

func (eg *ctEventGen) s3Resources(bucket, key string) func() {
	return func() {
		w := &eg.w
		w.openElem()
		w.str("type", "AWS::S3::Object")
		w.str("ARN", "arn:"+eg.partition+":s3:::"+bucket+"/"+key)
		w.close()
		w.openElem()
		w.str("accountId", eg.f.acct.id)
		w.str("type", "AWS::S3::Bucket")
		w.str("ARN", "arn:"+eg.partition+":s3:::"+bucket)
		w.close()
	}
}

func (eg *ctEventGen) s3Host(bucket string) string {
	return bucket + ".s3." + eg.f.region + "." + eg.domain
}

func (eg *ctEventGen) s3AdditionalData(in, out int64) {
	w := &eg.w
	w.open("additionalEventData")
	w.str("SignatureVersion", "SigV4")
	w.str("CipherSuite", "TLS_AES_128_GCM_SHA256")
	w.num("bytesTransferredIn", in)
	w.str("AuthenticationMethod", "AuthHeader")
	w.str("x-amz-id-2", RandomHex(eg.r, 60))
	w.num("bytesTransferredOut", out)
	w.close()
}

func (eg *ctEventGen) s3GetObject() {
	w := &eg.w
	bucket, key := eg.s3Object()
	kind := eg.callerKind()
	eg.head("1.10", eg.host("s3"), "GetObject", func() { eg.userIdentity(kind, false) })
	failed := eg.maybeError(40, "AccessDenied", "Access Denied")
	w.open("requestParameters")
	w.str("bucketName", bucket)
	w.str("Host", eg.s3Host(bucket))
	w.str("key", key)
	if eg.r.IntN(10) == 0 {
		w.str("versionId", RandomHex(eg.r, 32))
	}
	w.close()
	w.null("responseElements")
	out := int64(0)
	if !failed {
		out = 1 + int64(eg.r.ExpFloat64()*2e6)
		eg.bytes = out
	}
	eg.s3AdditionalData(0, out)
	eg.tail(true, "AwsApiCall", "Data", false, eg.s3Resources(bucket, key))
	eg.tls(eg.s3Host(bucket))
}

func (eg *ctEventGen) s3PutObject() {
	w := &eg.w
	bucket, key := eg.s3Object()
	kind := eg.callerKind()
	eg.head("1.10", eg.host("s3"), "PutObject", func() { eg.userIdentity(kind, false) })
	failed := eg.maybeError(30, "AccessDenied", "Access Denied")
	w.open("requestParameters")
	w.str("bucketName", bucket)
	w.str("Host", eg.s3Host(bucket))
	w.str("key", key)
	if eg.r.IntN(3) == 0 {
		w.str("x-amz-server-side-encryption", "aws:kms")
		w.str("x-amz-server-side-encryption-aws-kms-key-id", eg.regionalARN("kms", "key/"+eg.uuid()))
	}
	w.close()
	if failed {
		w.null("responseElements")
	} else {
		w.open("responseElements")
		w.str("x-amz-server-side-encryption", "AES256")
		w.str("x-amz-version-id", RandomHex(eg.r, 32))
		w.close()
	}
	in := 1 + int64(eg.r.ExpFloat64()*5e5)
	eg.s3AdditionalData(in, 0)
	eg.tail(false, "AwsApiCall", "Data", false, eg.s3Resources(bucket, key))
	eg.tls(eg.s3Host(bucket))
}

func (eg *ctEventGen) s3ListObjects() {
	w := &eg.w
	bucket, _ := eg.s3Object()
	kind := eg.callerKind()
	name := "ListObjects"
	if eg.r.IntN(2) == 0 {
		name = "ListObjectsV2"
	}
	eg.head("1.09", eg.host("s3"), name, func() { eg.userIdentity(kind, false) })
	w.open("requestParameters")
	if name == "ListObjectsV2" {
		w.str("list-type", "2")
	}
	w.str("bucketName", bucket)
	w.str("encoding-type", "url")
	w.str("prefix", eg.pick(ctKeyDirs))
	w.str("delimiter", "/")
	w.str("Host", eg.s3Host(bucket))
	w.close()
	w.null("responseElements")
	eg.s3AdditionalData(0, int64(300+eg.r.IntN(20000)))
	eg.tail(true, "AwsApiCall", "Data", false, func() {
		w.openElem()
		w.str("accountId", eg.f.acct.id)
		w.str("type", "AWS::S3::Bucket")
		w.str("ARN", "arn:"+eg.partition+":s3:::"+bucket)
		w.close()
	})
	eg.tls(eg.s3Host(bucket))
}

func (eg *ctEventGen) assumeRole() {
	w, r, a := &eg.w, eg.r, eg.f.acct
	role := eg.pick(a.roles)
	session := eg.pick(a.users)
	service := r.IntN(3) == 0
	eg.head("1.08", eg.host("sts"), "AssumeRole", func() {
		if service {
			w.open("userIdentity")
			w.str("type", "AWSService")
			w.str("invokedBy", eg.pick([]string{"ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"}))
			w.close()
		} else {
			eg.userIdentity(eg.pick2(ctIAMUser, ctAssumedRole), false)
		}
	})
	if service {
		eg.ip = "AWS Internal"
	}
	failed := eg.maybeError(30, "AccessDenied", "User: "+eg.arn("iam", "user/"+session)+" is not authorized to perform: sts:AssumeRole on resource: "+eg.arn("iam", "role/"+role))
	w.open("requestParameters")
	w.str("roleArn", eg.arn("iam", "role/"+role))
	w.str("roleSessionName", session)
	w.num("durationSeconds", int64(900*(1+r.IntN(4))))
	if r.IntN(5) == 0 {
		w.openArr("tags")
		w.openElem()
		w.str("key", "team")
		w.str("value", eg.pick([]string{"data", "platform", "security"}))
		w.close()
		w.closeArr()
	}
	w.close()
	if failed {
		w.null("responseElements")
	} else {
		w.open("responseElements")
		w.open("credentials")
		w.str("accessKeyId", eg.upperID("ASIA", 16))
		w.str("sessionToken", RandomHex(r, 120))
		w.str("expiration", eg.t.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM"))
		w.close()
		w.open("assumedRoleUser")
		w.str("assumedRoleId", eg.upperID("AROA", 17)+":"+session)
		w.str("arn", eg.arn("sts", "assumed-role/"+role+"/"+session))
		w.close()
		w.close()
	}
	eg.tail(true, "AwsApiCall", "Management", true, func() {
		w.openElem()
		w.str("accountId", a.id)
		w.str("type", "AWS::IAM::Role")
		w.str("ARN", eg.arn("iam", "role/"+role))
		w.close()
	})
	if service {
		w.str("sharedEventID", eg.uuid())
	}
	eg.tls(eg.host("sts"))
}

func (eg *ctEventGen) pick2(a, b int) int {
	if eg.r.IntN(2) == 0 {
		return a
	}
	return b
}

func (eg *ctEventGen) assumeRoleWithWebIdentity() {
	w, r, a := &eg.w, eg.r, eg.f.acct
	role := eg.pick(a.roles)
	eg.head("1.08", eg.host("sts"), "AssumeRoleWithWebIdentity", func() {
		w.open("userIdentity")
		w.str("type", "WebIdentityUser")
		w.str("principalId", eg.arn("iam", "oidc-provider/token.actions.githubusercontent.com")+":sts.amazonaws.com:repo:example-org/app:ref:refs/heads/main")
		w.str("userName", "repo:example-org/app:ref:refs/heads/main")
		w.str("identityProvider", eg.arn("iam", "oidc-provider/token.actions.githubusercontent.com"))
		w.close()
	})
	w.open("requestParameters")
	w.str("roleArn", eg.arn("iam", "role/"+role))
	w.str("roleSessionName", "GitHubActions")
	w.close()
	w.open("responseElements")
	w.str("subjectFromWebIdentityToken", "repo:example-org/app:ref:refs/heads/main")
	w.str("provider", eg.arn("iam", "oidc-provider/token.actions.githubusercontent.com"))
	w.str("audience", "sts.amazonaws.com")
	w.close()
	w.open("additionalEventData")
	w.str("identityProviderConnectionVerificationMethod", "IAMTrustStore")
	w.close()
	eg.tail(true, "AwsApiCall", "Management", true, nil)
	_ = r
}

func (eg *ctEventGen) consoleLogin() {
	w, r := &eg.w, eg.r
	kind := eg.pick2(ctIAMUser, ctRoot)
	ok := r.IntN(6) != 0
	eg.head("1.09", "signin.amazonaws.com", "ConsoleLogin", func() { eg.userIdentity(kind, false) })
	eg.ip = eg.pick(eg.f.acct.ips)
	if !ok {
		// A failed sign-in has an errorMessage and no errorCode.
		w.str("errorMessage", "Failed authentication")
	}
	w.null("requestParameters")
	w.open("responseElements")
	if ok {
		w.str("ConsoleLogin", "Success")
	} else {
		w.str("ConsoleLogin", "Failure")
	}
	w.close()
	w.open("additionalEventData")
	w.str("LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true")
	w.str("MobileVersion", "No")
	w.str("MFAUsed", eg.pick([]string{"Yes", "No"}))
	w.close()
	w.str("eventID", eg.uuid())
	w.boolean("readOnly", false)
	w.str("eventType", "AwsConsoleSignIn")
	w.boolean("managementEvent", true)
	w.str("recipientAccountId", eg.f.acct.id)
	w.str("eventCategory", "Management")
	w.str("sessionCredentialFromConsole", "true")
}

var ctDescribeCalls = []string{"DescribeInstances", "DescribeVolumes", "DescribeSecurityGroups", "DescribeSubnets", "DescribeSnapshots", "DescribeInstanceStatus", "DescribeVpcs", "DescribeImages"}

func (eg *ctEventGen) ec2Describe() {
	w, r, a := &eg.w, eg.r, eg.f.acct
	name := eg.pick(ctDescribeCalls)
	kind := eg.callerKind()
	eg.head("1.09", eg.host("ec2"), name, func() { eg.userIdentity(kind, r.IntN(4) == 0) })
	eg.maybeError(60, "Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: "+eg.arn("iam", "user/"+eg.pick(a.users))+" is not authorized to perform: ec2:"+name+" because no identity-based policy allows the ec2:"+name+" action")
	w.open("requestParameters")
	switch r.IntN(4) {
	case 0:
		w.open("instancesSet")
		w.openArr("items")
		for range 1 + r.IntN(4) {
			w.openElem()
			w.str("instanceId", eg.pick(a.instances))
			w.close()
		}
		w.closeArr()
		w.close()
		w.open("filterSet")
		w.close()
	case 1:
		w.open("filterSet")
		w.openArr("items")
		w.openElem()
		w.str("name", "tag:Environment")
		w.open("valueSet")
		w.openArr("items")
		w.openElem()
		w.str("value", eg.pick([]string{"prod", "staging", "dev"}))
		w.close()
		w.closeArr()
		w.close()
		w.close()
		w.openElem()
		w.str("name", "instance-state-name")
		w.open("valueSet")
		w.openArr("items")
		w.openElem()
		w.str("value", "running")
		w.close()
		w.closeArr()
		w.close()
		w.close()
		w.closeArr()
		w.close()
	case 2:
		w.num("maxResults", int64(100*(1+r.IntN(10))))
		w.str("nextToken", RandomHex(r, 64))
	default:
		w.open(name + "Request")
		w.num("MaxResults", 1000)
		w.boolean("IncludeAllInstances", r.IntN(2) == 0)
		w.close()
	}
	w.close()
	w.null("responseElements")
	eg.tail(true, "AwsApiCall", "Management", true, nil)
	eg.tls(eg.host("ec2"))
	if kind == ctIAMUser && r.IntN(4) == 0 {
		w.str("sessionCredentialFromConsole", "true")
	}
}

func (eg *ctEventGen) iamCall() {
	w, r, a := &eg.w, eg.r, eg.f.acct
	role := eg.pick(a.roles)
	name := eg.pick([]string{"PutRolePolicy", "CreateRole", "AttachRolePolicy"})
	kind := eg.pick2(ctIAMUser, ctAssumedRole)
	// IAM is global: its events come from us-east-1 (cn-north-1 in China).
	eg.head("1.09", "iam.amazonaws.com", name, func() { eg.userIdentity(kind, false) })
	eg.maybeError(80, "EntityAlreadyExists", "Role with name "+role+" already exists.")
	bucket, _ := eg.s3Object()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:` +
		eg.partition + `:s3:::` + bucket + `","arn:` + eg.partition + `:s3:::` + bucket + `/*"]}]}`
	w.open("requestParameters")
	w.str("roleName", role)
	switch name {
	case "PutRolePolicy":
		w.str("policyName", "inline-"+RandomHex(r, 6))
		w.str("policyDocument", policy)
	case "CreateRole":
		// Pretty-printed, as consoles send it: escaped newlines and quotes.
		w.str("assumeRolePolicyDocument", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": {\"Service\": \"lambda.amazonaws.com\"},\n      \"Action\": \"sts:AssumeRole\"\n    }\n  ]\n}")
		w.str("path", "/")
	default:
		w.str("policyArn", "arn:"+eg.partition+":iam::aws:policy/ReadOnlyAccess")
	}
	w.close()
	if name == "CreateRole" && eg.errCode == "" {
		w.open("responseElements")
		w.open("role")
		w.str("path", "/")
		w.str("roleName", role)
		w.str("roleId", eg.upperID("AROA", 17))
		w.str("arn", eg.arn("iam", "role/"+role))
		w.str("createDate", eg.t.Format("Jan 2, 2006, 3:04:05 PM"))
		w.close()
		w.close()
	} else {
		w.null("responseElements")
	}
	eg.tail(false, "AwsApiCall", "Management", true, nil)
	eg.tls("iam.amazonaws.com")
	if r.IntN(40) == 0 {
		w.open("addendum")
		w.str("reason", "UPDATED_DATA")
		w.str("updatedFields", "userIdentity")
		w.str("originalRequestID", eg.upperID("", 16))
		w.str("originalEventID", eg.uuid())
		w.close()
	}
}

func (eg *ctEventGen) serviceEvent() {
	w, r, a := &eg.w, eg.r, eg.f.acct
	eg.ip = ""
	switch r.IntN(2) {
	case 0:
		eg.name = "RotateKey"
		w.str("eventVersion", "1.08")
		w.open("userIdentity")
		w.str("accountId", a.id)
		w.str("invokedBy", "kms.amazonaws.com")
		w.close()
		w.str("eventTime", eg.t.Format("2006-01-02T15:04:05Z"))
		w.str("eventSource", eg.host("kms"))
		w.str("eventName", "RotateKey")
		w.str("awsRegion", eg.f.region)
		w.str("sourceIPAddress", "kms.amazonaws.com")
		w.str("userAgent", "kms.amazonaws.com")
		w.null("requestParameters")
		w.null("responseElements")
		w.open("additionalEventData")
		w.str("keyId", eg.regionalARN("kms", "key/"+eg.uuid()))
		w.close()
		w.str("eventID", eg.uuid())
		w.boolean("readOnly", false)
		w.openArr("resources")
		w.openElem()
		w.str("accountId", a.id)
		w.str("type", "AWS::KMS::Key")
		w.str("ARN", eg.regionalARN("kms", "key/"+eg.uuid()))
		w.close()
		w.closeArr()
		w.str("eventType", "AwsServiceEvent")
		w.boolean("managementEvent", true)
		w.str("recipientAccountId", a.id)
		w.open("serviceEventDetails")
		w.str("keyRotationStatus", "ROTATED")
		w.num("rotationPeriodInDays", 365)
		w.close()
		w.str("eventCategory", "Management")
	default:
		eg.name = "CreateSnapshot"
		w.str("eventVersion", "1.08")
		w.open("userIdentity")
		w.str("accountId", a.id)
		w.str("invokedBy", "dlm.amazonaws.com")
		w.close()
		w.str("eventTime", eg.t.Format("2006-01-02T15:04:05Z"))
		w.str("eventSource", eg.host("ec2"))
		w.str("eventName", "CreateSnapshot")
		w.str("awsRegion", eg.f.region)
		w.str("sourceIPAddress", "dlm.amazonaws.com")
		w.str("userAgent", "dlm.amazonaws.com")
		w.null("requestParameters")
		w.null("responseElements")
		w.str("eventID", eg.uuid())
		w.boolean("readOnly", false)
		w.str("eventType", "AwsServiceEvent")
		w.boolean("managementEvent", true)
		w.str("recipientAccountId", a.id)
		w.open("serviceEventDetails")
		w.str("snapshotId", "snap-"+RandomHex(r, 17))
		w.str("source", "vol-"+RandomHex(r, 17))
		w.num("startTime", eg.t.UnixMilli())
		w.num("endTime", eg.t.UnixMilli()+int64(r.IntN(600000)))
		w.str("result", "succeeded")
		w.boolean("encrypted", true)
		w.close()
		w.str("eventCategory", "Management")
	}
}

func (eg *ctEventGen) kmsDecrypt() {
	w, a := &eg.w, eg.f.acct
	eg.head("1.08", eg.host("kms"), "Decrypt", func() {
		w.open("userIdentity")
		w.str("type", "AWSService")
		w.str("invokedBy", eg.host("s3"))
		w.close()
	})
	eg.ip = eg.host("s3")
	w.open("requestParameters")
	w.str("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
	w.open("encryptionContext")
	bucket, key := eg.s3Object()
	w.str("aws:s3:arn", "arn:"+eg.partition+":s3:::"+bucket+"/"+key)
	w.close()
	w.close()
	w.null("responseElements")
	eg.tail(true, "AwsApiCall", "Management", true, func() {
		w.openElem()
		w.str("accountId", a.id)
		w.str("type", "AWS::KMS::Key")
		w.str("ARN", eg.regionalARN("kms", "key/"+eg.uuid()))
		w.close()
	})
	w.str("sharedEventID", eg.uuid())
}

func (eg *ctEventGen) getCallerIdentity() {
	w := &eg.w
	kind := eg.callerKind()
	eg.head("1.08", eg.host("sts"), "GetCallerIdentity", func() { eg.userIdentity(kind, false) })
	w.null("requestParameters")
	w.null("responseElements")
	eg.tail(true, "AwsApiCall", "Management", true, nil)
	eg.tls(eg.host("sts"))
}

func (eg *ctEventGen) lambdaCall() {
	w, r, a := &eg.w, eg.r, eg.f.acct
	fn := "fn-" + eg.pick(ctBucketWord)
	name := eg.pick([]string{"GetFunction20150331v2", "ListFunctions20150331", "UpdateFunctionCode20150331v2"})
	kind := eg.callerKind()
	eg.head("1.08", eg.host("lambda"), name, func() { eg.userIdentity(kind, false) })
	eg.maybeError(50, "ResourceNotFoundException", "Function not found: "+eg.regionalARN("lambda", "function:"+fn))
	switch name {
	case "ListFunctions20150331":
		w.null("requestParameters")
	case "UpdateFunctionCode20150331v2":
		w.open("requestParameters")
		w.str("functionName", fn)
		w.str("s3Bucket", a.buckets[0])
		w.str("s3Key", "lambda/"+fn+".zip")
		w.boolean("publish", r.IntN(2) == 0)
		w.openArr("architectures")
		w.elemStr("x86_64")
		w.closeArr()
		w.close()
	default:
		w.open("requestParameters")
		w.str("functionName", fn)
		w.close()
	}
	w.null("responseElements")
	w.str("apiVersion", "2015-03-31")
	eg.tail(name != "UpdateFunctionCode20150331v2", "AwsApiCall", "Management", true, nil)
	eg.tls(eg.host("lambda"))
}

// ctJSON writes JSON members in order, tracking where commas go.
type ctJSON struct {
	b     []byte
	comma bool
}

func (w *ctJSON) reset() {
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *ctJSON) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = ctAppendString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *ctJSON) str(k, v string) {
	w.key(k)
	w.b = ctAppendString(w.b, v)
	w.comma = true
}

func (w *ctJSON) num(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
	w.comma = true
}

func (w *ctJSON) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
	w.comma = true
}

func (w *ctJSON) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
	w.comma = true
}

func (w *ctJSON) open(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *ctJSON) openArr(k string) {
	w.key(k)
	w.b = append(w.b, '[')
	w.comma = false
}

// openElem opens an object element of an array.
func (w *ctJSON) openElem() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *ctJSON) elemStr(v string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = ctAppendString(w.b, v)
	w.comma = true
}

func (w *ctJSON) close() {
	w.b = append(w.b, '}')
	w.comma = true
}

func (w *ctJSON) closeArr() {
	w.b = append(w.b, ']')
	w.comma = true
}

// ctAppendString appends s as a JSON string, escaping what JSON requires and
// '/' nowhere (as CloudTrail does).
func ctAppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	if !utf8.ValidString(s[start:]) {
		panic("gen: invalid UTF-8 in a generated string")
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
