package gen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// S3AccessConfig describes an S3 server access log data set. Only Dir and
// Bytes are required; every other zero value has a documented default.
type S3AccessConfig struct {
	// Dir is the root the log objects are written under. Files of the same
	// name are overwritten; nothing else in Dir is touched.
	Dir string
	// Bytes is the approximate total of text. Each file stops at the first
	// line boundary past its share, so the total exceeds Bytes by at most
	// one line (two for a copy) per file.
	Bytes int64
	// Files is the number of log objects. 0 derives it from Bytes: one per
	// S3AccessMeanFileBytes, and at least one per day.
	Files int
	// Days is the number of UTC days the requests are spread over (0 = 1).
	Days int
	// Seed selects the data set. Equal configurations give byte-identical
	// files; a different seed gives different ones.
	Seed int64
	// Start is the first day, truncated to its UTC date
	// (0 = S3AccessDefaultStart). No request is earlier.
	Start time.Time
	// DateBased selects AWS's date-based key format (PartitionedPrefix with
	// EventTime): prefix/<account>/<region>/<bucket>/YYYY/MM/DD/
	// YYYY-MM-DD-00-00-00-UNIQUE, each object holding requests of its day
	// only. Otherwise the simple format prefix/YYYY-MM-DD-hh-mm-ss-UNIQUE is
	// used, keyed by delivery time: an object delivered early in a day holds
	// requests of the day before as well.
	DateBased bool
	// Prefix is the destination prefix (0 = "logs/"); with several source
	// buckets in the simple format each bucket logs to Prefix<bucket>/.
	Prefix string
	// Buckets is the number of source buckets (0 = 2).
	Buckets int
	// Workers is the number of files written at once (0 = GOMAXPROCS). It
	// changes the speed, never the bytes.
	Workers int
}

// Defaults of S3AccessConfig.
const (
	S3AccessMeanFileBytes = 2 << 20
	s3aDefaultBuckets     = 2
	s3aDefaultPrefix      = "logs/"
)

// S3AccessDefaultStart is the first day of a data set whose Start is zero.
var S3AccessDefaultStart = time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)

// S3AccessStats counts what GenerateS3Access wrote. Every line written is a
// valid access-log record: a reader must turn all of them into rows.
type S3AccessStats struct {
	Files             int   `json:"files"`
	Records           int64 `json:"records"`
	UncompressedBytes int64 `json:"uncompressed_bytes"`
	// RecordsByDay counts records by the UTC date (YYYY-MM-DD) of their
	// request time: the partitions a conversion must produce, with their
	// row counts.
	RecordsByDay map[string]int64 `json:"records_by_day"`
	// RecordsByFieldCount counts records by their number of fields (24 to
	// 27: the formats of 2019, +access point, +aclRequired, +source region).
	RecordsByFieldCount map[int]int64 `json:"records_by_field_count"`
	// RecordsByOperation counts records by operation (REST.GET.OBJECT, …).
	RecordsByOperation map[string]int64 `json:"records_by_operation"`
	// QuotedUserAgents counts records whose user agent contains a quote,
	// which AWS writes unescaped.
	QuotedUserAgents int64 `json:"quoted_user_agents"`
	// Paths lists the files written, slash-separated, relative to Dir, sorted.
	Paths []string `json:"paths"`
}

// GenerateS3Access writes an S3 server access log data set; see
// GenerateS3AccessContext.
func GenerateS3Access(cfg S3AccessConfig) (S3AccessStats, error) {
	return GenerateS3AccessContext(context.Background(), cfg)
}

// GenerateS3AccessContext writes plain-text access-log objects under cfg.Dir
// in one of the two key formats AWS uses (see S3AccessConfig.DateBased).
// Lines are in request-time order within a file and mix what real logs
// hold: REST.GET.OBJECT dominant, PUT, HEAD, copies (REST.COPY.OBJECT
// followed by its REST.COPY.OBJECT_GET record), BATCH.DELETE.OBJECT with
// bare "-" fields, lifecycle S3.EXPIRE.OBJECT, errors, 24 to 27 fields, user
// agents with spaces and unescaped quotes. A few client IPs make most of the
// downloads and copies, as in the seed's "top IPs" queries. Files are written
// Workers at a time; the result does not depend on Workers. On error or
// cancellation the files already completed stay; none is left half-written
// under its final name.
func GenerateS3AccessContext(ctx context.Context, cfg S3AccessConfig) (S3AccessStats, error) {
	g, err := s3aNewGenerator(cfg)
	if err != nil {
		return S3AccessStats{}, err
	}
	results, err := WriteFiles(ctx, g.files, g.cfg.Workers, g.writeFile)
	if err != nil {
		return S3AccessStats{}, err
	}
	stats := S3AccessStats{
		Files:               len(g.files),
		RecordsByDay:        map[string]int64{},
		RecordsByFieldCount: map[int]int64{},
		RecordsByOperation:  map[string]int64{},
	}
	for i, r := range results {
		stats.Records += r.records
		stats.UncompressedBytes += r.raw
		stats.QuotedUserAgents += r.quotedUA
		for d, n := range r.byDay {
			stats.RecordsByDay[time.Unix(d*86400, 0).UTC().Format(time.DateOnly)] += n
		}
		for c, n := range r.byFields {
			if n > 0 {
				stats.RecordsByFieldCount[c] += n
			}
		}
		for op, n := range r.byOp {
			stats.RecordsByOperation[s3aOperations[op].name] += n
		}
		stats.Paths = append(stats.Paths, g.files[i].rel)
	}
	slices.Sort(stats.Paths)
	return stats, nil
}

type s3aGenerator struct {
	cfg     S3AccessConfig
	buckets []*s3aBucket
	clients []s3aClient
	files   []s3aFile
}

type s3aBucket struct {
	name, owner, account, region string
	endpoint                     string // virtual-hosted host header
	keys                         []string
	sizes                        []int64
	accessPoint                  string
}

type s3aClient struct {
	ip        string
	requester string // "-" for anonymous
	agent     int    // index into s3aUserAgents
}

type s3aFile struct {
	index    int
	rel      string
	bucket   *s3aBucket
	from, to int64 // request times in [from, to), Unix seconds
	target   int64 // text bytes to write
}

type s3aFileStats struct {
	records, raw, quotedUA int64
	byDay                  map[int64]int64
	byFields               [s3aMaxFields + 1]int64
	byOp                   []int64
}

func s3aNewGenerator(cfg S3AccessConfig) (*s3aGenerator, error) {
	if cfg.Dir == "" {
		return nil, errors.New("gen: s3 access logs: Dir is required")
	}
	if cfg.Bytes <= 0 {
		return nil, errors.New("gen: s3 access logs: Bytes must be positive")
	}
	if cfg.Days < 0 || cfg.Files < 0 || cfg.Buckets < 0 || cfg.Workers < 0 {
		return nil, errors.New("gen: s3 access logs: Days, Files, Buckets and Workers must not be negative")
	}
	if cfg.Days == 0 {
		cfg.Days = 1
	}
	if cfg.Files == 0 {
		cfg.Files = int(max(int64(cfg.Days), (cfg.Bytes+S3AccessMeanFileBytes-1)/S3AccessMeanFileBytes))
	}
	if cfg.Buckets == 0 {
		cfg.Buckets = s3aDefaultBuckets
	}
	if cfg.Prefix == "" {
		cfg.Prefix = s3aDefaultPrefix
	}
	if path.IsAbs(cfg.Prefix) || slices.Contains(strings.Split(cfg.Prefix, "/"), "..") {
		return nil, fmt.Errorf("gen: s3 access logs: prefix %q must stay under Dir", cfg.Prefix)
	}
	if cfg.Start.IsZero() {
		cfg.Start = S3AccessDefaultStart
	}
	cfg.Start = cfg.Start.UTC().Truncate(24 * time.Hour)
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	g := &s3aGenerator{cfg: cfg}
	r := NewRand(cfg.Seed, 0)
	g.planBuckets(r)
	g.planClients(r)
	g.planFiles(r)
	return g, nil
}

var s3aRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}

var s3aBucketWords = []string{"assets", "backups", "datalake", "media", "reports", "static-site", "uploads", "artifacts"}

var s3aKeyDirs = []string{"images/2024/", "data/raw/", "exports/daily/", "videos/", "releases/v2/", "docs/", "tmp/", "logs/app/", ""}

var s3aKeyNames = []string{"cat one.jpg", "report-q4.pdf", "part-00017.snappy.parquet", "index.html", "video_1080p.mp4",
	"build #42.tar.gz", "résumé.docx", "data.csv", "thumbnail(2).png", "config.json", "a+b=c.txt"}

func (g *s3aGenerator) planBuckets(r *rand.Rand) {
	account := fmt.Sprintf("%012d", 100000000000+r.Int64N(899999999999))
	owner := string(AppendHex(nil, r, 64))
	for i := range g.cfg.Buckets {
		region := s3aRegions[r.IntN(len(s3aRegions))]
		name := fmt.Sprintf("%s-%s-%d", s3aBucketWords[(i+r.IntN(len(s3aBucketWords)))%len(s3aBucketWords)], region, i+1)
		b := &s3aBucket{name: name, owner: owner, account: account, region: region,
			endpoint: name + ".s3." + region + ".amazonaws.com"}
		b.accessPoint = fmt.Sprintf("arn:aws:s3:%s:%s:accesspoint/%s-ap", region, account, s3aBucketWords[i%len(s3aBucketWords)])
		for range 3000 {
			key := s3aKeyDirs[r.IntN(len(s3aKeyDirs))] + strconv.Itoa(r.IntN(10000)) + "-" + s3aKeyNames[r.IntN(len(s3aKeyNames))]
			b.keys = append(b.keys, s3aURLEncodeKey(key))
			// Log-normal-ish sizes: most objects are kilobytes, a few are
			// gigabytes (above 2^32, which must not wrap).
			b.sizes = append(b.sizes, int64(100*s3aExpish(r, 18)))
		}
		g.buckets = append(g.buckets, b)
	}
}

// s3aExpish returns a random value in [1, 2^maxExp), log-uniformly distributed.
func s3aExpish(r *rand.Rand, maxExp int) float64 {
	return float64(uint64(1)<<r.IntN(maxExp)) * (1 + r.Float64())
}

// s3aURLEncodeKey encodes a key the way access logs show it: spaces as %20
// (S3 logs keys URL-encoded), other unsafe bytes as %XX, '+' kept.
func s3aURLEncodeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '/', c == '-', c == '_', c == '.', c == '+', c == '=':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// s3aUserAgents are realistic user agents; some contain quotes the way AWS
// logs them (unescaped). Referrers never contain `" "`, so every line has
// one reading (see the s3access reader's tokenizer).
var s3aUserAgents = []string{
	"aws-cli/2.15.10 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.61-85.141.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.cp",
	"aws-sdk-java/2.21.29 Linux/5.10.199-190.747.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
	"Boto3/1.34.14 md/Botocore#1.34.14 ua/2.0 os/linux#5.10.205 md/arch#x86_64 lang/python#3.12.1 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.14",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1\"",
	"S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.186-157.751.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard",
	"aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.47.7",
	"curl/8.5.0",
	"rclone/v1.65.0",
	`Mozilla/5.0 (compatible; "scanner" "v2")`,
	`() { :;}; echo; echo "vulnerable"`,
	"aws-internal/3 aws-sdk-java/1.12.576 Linux/5.10.199 OpenJDK_64-Bit_Server_VM/25.392-b08 java/1.8.0_392 vendor/Oracle_Corporation cfg/retry-mode/standard AWSServiceRoleForS3Replication",
}

var s3aReferrers = []string{"https://www.example.com/", "https://app.example.org/dashboard?tab=files", `https://search.example.net/?q="annual report"`, "https://console.aws.amazon.com/"}

func (g *s3aGenerator) planClients(r *rand.Rand) {
	for i := range 600 {
		var c s3aClient
		if r.IntN(20) == 0 {
			c.ip = fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(0xffff), r.IntN(0xffff), 1+r.IntN(0xfffe))
		} else {
			c.ip = fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		}
		switch k := r.IntN(10); {
		case k < 5:
			c.requester = fmt.Sprintf("arn:aws:iam::%s:user/user-%d", g.buckets[0].account, i%40)
		case k < 8:
			c.requester = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/session-%d", g.buckets[0].account,
				[]string{"etl-job", "web-app", "ReadOnly", "replication"}[r.IntN(4)], r.IntN(1000))
		default:
			c.requester = "-"
		}
		c.agent = r.IntN(len(s3aUserAgents))
		g.clients = append(g.clients, c)
	}
}

func (g *s3aGenerator) planFiles(r *rand.Rand) {
	cfg := g.cfg
	start := cfg.Start.Unix()
	share := cfg.Bytes / int64(cfg.Files)
	extra := cfg.Bytes % int64(cfg.Files)
	seen := map[string]bool{}
	// Files per day: spread evenly, the first days taking the remainder.
	idx := 0
	for d := range cfg.Days {
		n := cfg.Files / cfg.Days
		if d < cfg.Files%cfg.Days {
			n++
		}
		day := start + int64(d)*86400
		for j := range n {
			b := g.buckets[(idx+j)%len(g.buckets)]
			f := s3aFile{index: idx, bucket: b, target: share}
			if int64(idx) < extra {
				f.target++
			}
			var keyTime int64
			if cfg.DateBased {
				// EventTime partitioning: the object holds requests of one
				// day; the key's time of day is 00-00-00.
				f.from = day + int64(j)*86400/int64(n)
				f.to = day + int64(j+1)*86400/int64(n)
				keyTime = day
			} else {
				// Delivery-time keys: objects are delivered 5 to 35
				// minutes after the end of the stretch of requests they
				// hold, and the stretches of a day's objects tile it. So
				// the first object keyed on a day holds requests of the
				// day before.
				stretch := int64(86400 / n)
				deliver := day + int64(j)*stretch + 300 + r.Int64N(1800)
				f.from, f.to = max(start, deliver-stretch), deliver
				keyTime = deliver
			}
			for {
				unique := s3aUniqueString(r)
				kt := time.Unix(keyTime, 0).UTC()
				name := kt.Format("2006-01-02-15-04-05") + "-" + unique
				if cfg.DateBased {
					f.rel = path.Join(cfg.Prefix, b.account, b.region, b.name, kt.Format("2006/01/02"), name)
				} else if cfg.Buckets > 1 {
					f.rel = path.Join(cfg.Prefix, b.name, name)
				} else {
					f.rel = path.Join(cfg.Prefix, name)
				}
				if !seen[f.rel] {
					seen[f.rel] = true
					break
				}
			}
			g.files = append(g.files, f)
			idx++
		}
	}
}

// s3aUniqueString is the 16 upper-case hex digits AWS ends a key with.
func s3aUniqueString(r *rand.Rand) string {
	const hex = "0123456789ABCDEF"
	var b [16]byte
	v := r.Uint64()
	for i := range b {
		b[i] = hex[v&15]
		v >>= 4
	}
	return string(b[:])
}

// s3aOperation is one kind of request and how often it appears.
type s3aOperation struct {
	name   string
	weight int
	method string
}

const (
	s3aOpGet = iota
	s3aOpHead
	s3aOpPut
	s3aOpCopy // REST.COPY.OBJECT, always followed by s3aOpCopyGet
	s3aOpCopyGet
	s3aOpList
	s3aOpBatchDelete
	s3aOpDelete
	s3aOpExpire
	s3aOpUploadPart
	s3aOpWebsite
	s3aOpGetACL
)

var s3aOperations = []s3aOperation{
	s3aOpGet:         {"REST.GET.OBJECT", 540, "GET"},
	s3aOpHead:        {"REST.HEAD.OBJECT", 120, "HEAD"},
	s3aOpPut:         {"REST.PUT.OBJECT", 90, "PUT"},
	s3aOpCopy:        {"REST.COPY.OBJECT", 40, "PUT"},
	s3aOpCopyGet:     {"REST.COPY.OBJECT_GET", 0, "GET"}, // logged with each copy
	s3aOpList:        {"REST.GET.BUCKET", 60, "GET"},
	s3aOpBatchDelete: {"BATCH.DELETE.OBJECT", 40, ""},
	s3aOpDelete:      {"REST.DELETE.OBJECT", 20, "DELETE"},
	s3aOpExpire:      {"S3.EXPIRE.OBJECT", 30, ""},
	s3aOpUploadPart:  {"REST.PUT.PART", 30, "PUT"},
	s3aOpWebsite:     {"WEBSITE.GET.OBJECT", 15, "GET"},
	s3aOpGetACL:      {"REST.GET.ACL", 15, "GET"},
}

var s3aOpTotalWeight = func() int {
	t := 0
	for _, o := range s3aOperations {
		t += o.weight
	}
	return t
}()

// s3aMaxFields is the number of fields of the current format.
const s3aMaxFields = 27

var s3aMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// s3aLineGen writes the lines of one file.
type s3aLineGen struct {
	r     *rand.Rand
	g     *s3aGenerator
	f     *s3aFile
	buf   []byte
	stats *s3aFileStats
}

func (g *s3aGenerator) writeFile(ctx context.Context, f *s3aFile) (s3aFileStats, error) {
	st := s3aFileStats{byDay: map[int64]int64{}, byOp: make([]int64, len(s3aOperations))}
	w, err := CreateFile(filepath.Join(g.cfg.Dir, filepath.FromSlash(f.rel)), false, 0)
	if err != nil {
		return st, err
	}
	lg := &s3aLineGen{r: NewRand(g.cfg.Seed, uint64(f.index)+1), g: g, f: f, buf: make([]byte, 0, 64<<10), stats: &st}
	// Request times follow the bytes written, so that the file's lines
	// span its window whatever their lengths, in non-decreasing order.
	span := f.to - f.from
	sec := f.from
	for written := int64(0); written < f.target; written = st.raw + int64(len(lg.buf)) {
		if len(lg.buf) >= 60<<10 {
			if err := ctx.Err(); err != nil {
				w.Abort()
				return st, err
			}
			if _, err := w.Write(lg.buf); err != nil {
				w.Abort()
				return st, err
			}
			st.raw += int64(len(lg.buf))
			lg.buf = lg.buf[:0]
		}
		sec = max(sec, min(f.to-1, f.from+int64(float64(span)*float64(written)/float64(f.target))))
		lg.record(sec)
	}
	if _, err := w.Write(lg.buf); err != nil {
		w.Abort()
		return st, err
	}
	st.raw += int64(len(lg.buf))
	if err := w.Close(); err != nil {
		return st, err
	}
	return st, nil
}

// record appends one request (two lines for a copy) at Unix second sec.
func (lg *s3aLineGen) record(sec int64) {
	r := lg.r
	op := s3aOpGet
	for k := r.IntN(s3aOpTotalWeight); ; op++ {
		if k < s3aOperations[op].weight {
			break
		}
		k -= s3aOperations[op].weight
	}
	// A Zipf-like pick: a few clients make most requests.
	client := &lg.g.clients[int(float64(len(lg.g.clients))*r.Float64()*r.Float64()*r.Float64())]
	key := r.IntN(len(lg.f.bucket.keys))
	lg.line(sec, op, client, key)
	if op == s3aOpCopy {
		lg.line(sec, s3aOpCopyGet, client, key)
	}
}

func (lg *s3aLineGen) line(sec int64, op int, c *s3aClient, keyIdx int) {
	r, b := lg.r, lg.f.bucket
	o := s3aOperations[op]
	key, size := b.keys[keyIdx], b.sizes[keyIdx]
	buf := lg.buf
	buf = append(buf, b.owner...)
	buf = append(buf, ' ')
	buf = append(buf, b.name...)
	buf = append(buf, " ["...)
	buf = s3aAppendTime(buf, sec)
	buf = append(buf, "] "...)

	ip, requester, agent := c.ip, c.requester, s3aUserAgents[c.agent]
	switch op {
	case s3aOpExpire:
		ip, requester, agent = "-", "AmazonS3", "-"
	case s3aOpWebsite:
		requester = "-" // website endpoints serve anonymous requests only
	}
	buf = append(buf, ip...)
	buf = append(buf, ' ')
	buf = append(buf, requester...)
	buf = append(buf, ' ')
	buf = s3aAppendUpperHex(buf, r, 16)
	buf = append(buf, ' ')
	buf = append(buf, o.name...)
	buf = append(buf, ' ')
	if op == s3aOpList || op == s3aOpGetACL && r.IntN(2) == 0 {
		buf = append(buf, '-')
	} else {
		buf = append(buf, key...)
	}
	buf = append(buf, ' ')

	// Request-URI; batch deletes and copy GETs log a bare "-" (no request
	// line of their own), lifecycle actions a quoted one.
	bare := op == s3aOpBatchDelete || op == s3aOpCopyGet
	switch {
	case bare:
		buf = append(buf, '-')
	case op == s3aOpExpire:
		buf = append(buf, `"-"`...)
	default:
		buf = append(buf, '"')
		buf = append(buf, o.method...)
		buf = append(buf, ' ')
		switch op {
		case s3aOpList:
			buf = append(buf, "/?list-type=2&prefix="...)
			buf = append(buf, s3aKeyDirs[r.IntN(len(s3aKeyDirs))]...)
			buf = append(buf, "&encoding-type=url"...)
		case s3aOpGetACL:
			buf = append(buf, "/?acl"...)
		case s3aOpUploadPart:
			buf = append(buf, '/')
			buf = append(buf, key...)
			buf = append(buf, "?partNumber="...)
			buf = strconv.AppendInt(buf, int64(1+r.IntN(100)), 10)
			buf = append(buf, "&uploadId=Xb5QW"...)
			buf = s3aAppendUpperHex(buf, r, 24)
		default:
			if r.IntN(4) == 0 { // path-style
				buf = append(buf, '/')
				buf = append(buf, b.name...)
			}
			buf = append(buf, '/')
			buf = append(buf, key...)
			if op == s3aOpGet && r.IntN(3) == 0 {
				buf = append(buf, "?x-id=GetObject"...)
			}
		}
		buf = append(buf, " HTTP/1.1\""...)
	}

	// Status, error code, bytes sent, object size, times.
	status, errCode := "200", "-"
	var sent, objSize int64 = -1, -1
	switch op {
	case s3aOpGet, s3aOpWebsite, s3aOpCopyGet:
		objSize = size
		switch k := r.IntN(100); {
		case k < 4:
			status, errCode, sent, objSize = "404", "NoSuchKey", 243+int64(r.IntN(100)), -1
		case k < 6:
			status, errCode, sent, objSize = "403", "AccessDenied", 243, -1
		case k < 8:
			status, sent = "304", -1
		case k < 15:
			status, sent = "206", min(size, int64(1+r.IntN(1<<20)))
		default:
			sent = size
		}
		if op == s3aOpCopyGet {
			status, errCode, sent, objSize = "200", "-", -1, size
		}
	case s3aOpHead:
		objSize = size
	case s3aOpPut, s3aOpUploadPart:
		objSize = size
		if r.IntN(50) == 0 {
			status, errCode, sent, objSize = "503", "SlowDown", 306, -1
		}
	case s3aOpCopy:
		sent, objSize = 234+int64(r.IntN(40)), size
	case s3aOpList, s3aOpGetACL:
		sent = int64(300 + r.IntN(20000))
	case s3aOpBatchDelete, s3aOpDelete:
		status, objSize = "204", size
		if op == s3aOpDelete {
			objSize = -1
		}
	case s3aOpExpire:
		status, objSize = "-", size
	}
	buf = append(buf, ' ')
	buf = append(buf, status...)
	buf = append(buf, ' ')
	buf = append(buf, errCode...)
	buf = append(buf, ' ')
	buf = s3aAppendCount(buf, sent)
	buf = append(buf, ' ')
	buf = s3aAppendCount(buf, objSize)
	buf = append(buf, ' ')
	if op == s3aOpExpire || bare {
		buf = append(buf, "- -"...)
	} else {
		total := 1 + r.IntN(80)
		if sent > 1<<20 {
			total += int(sent >> 16)
		}
		buf = strconv.AppendInt(buf, int64(total), 10)
		buf = append(buf, ' ')
		if status == "304" || o.method == "PUT" && r.IntN(3) == 0 {
			buf = append(buf, '-')
		} else {
			buf = strconv.AppendInt(buf, int64(1+r.IntN(total)), 10)
		}
	}
	buf = append(buf, ' ')

	// Referrer and user agent.
	switch {
	case bare:
		buf = append(buf, "- -"...)
	case op == s3aOpExpire:
		buf = append(buf, `"-" "-"`...)
	default:
		if op == s3aOpWebsite || r.IntN(12) == 0 {
			buf = append(buf, '"')
			buf = append(buf, s3aReferrers[r.IntN(len(s3aReferrers))]...)
			buf = append(buf, '"')
		} else {
			buf = append(buf, `"-"`...)
		}
		buf = append(buf, ' ', '"')
		buf = append(buf, agent...)
		buf = append(buf, '"')
		for i := 0; i < len(agent); i++ {
			if agent[i] == '"' {
				lg.stats.quotedUA++
				break
			}
		}
	}
	buf = append(buf, ' ')

	// Version id, host id, then the optional fields.
	if r.IntN(10) == 0 && op != s3aOpList {
		buf = s3aAppendBase64ish(buf, r, 32, false)
	} else {
		buf = append(buf, '-')
	}
	buf = append(buf, ' ')
	buf = s3aAppendBase64ish(buf, r, 76, true)
	fields := 24 + s3aFieldCountExtra(r)
	tls := op != s3aOpExpire && op != s3aOpWebsite && r.IntN(40) != 0
	if op == s3aOpExpire {
		buf = append(buf, " - - - -"...)
	} else {
		sig, auth := " SigV4", " AuthHeader"
		if r.IntN(25) == 0 {
			sig = " SigV2"
		}
		if r.IntN(15) == 0 {
			auth = " QueryString"
		}
		if requester == "-" {
			sig, auth = " -", " -"
		}
		buf = append(buf, sig...)
		if tls {
			if r.IntN(3) == 0 {
				buf = append(buf, " TLS_AES_128_GCM_SHA256"...)
			} else {
				buf = append(buf, " ECDHE-RSA-AES128-GCM-SHA256"...)
			}
		} else {
			buf = append(buf, " -"...)
		}
		buf = append(buf, auth...)
		buf = append(buf, ' ')
		if op == s3aOpWebsite {
			buf = append(buf, b.name...)
			buf = append(buf, ".s3-website-"...)
			buf = append(buf, b.region...)
			buf = append(buf, ".amazonaws.com"...)
		} else {
			buf = append(buf, b.endpoint...)
		}
	}
	switch {
	case !tls:
		buf = append(buf, " -"...)
	case r.IntN(3) == 0:
		buf = append(buf, " TLSv1.3"...)
	default:
		buf = append(buf, " TLSv1.2"...)
	}
	if fields >= 25 {
		if op != s3aOpExpire && r.IntN(20) == 0 {
			buf = append(buf, ' ')
			buf = append(buf, b.accessPoint...)
		} else {
			buf = append(buf, " -"...)
		}
	}
	if fields >= 26 {
		if op != s3aOpExpire && r.IntN(30) == 0 {
			buf = append(buf, " Yes"...)
		} else {
			buf = append(buf, " -"...)
		}
	}
	if fields >= 27 {
		if op == s3aOpExpire {
			buf = append(buf, " -"...)
		} else {
			buf = append(buf, ' ')
			buf = append(buf, b.region...)
		}
	}
	buf = append(buf, '\n')
	lg.buf = buf

	lg.stats.records++
	lg.stats.byDay[sec/86400]++
	lg.stats.byFields[fields]++
	lg.stats.byOp[op]++
}

// s3aFieldCountExtra picks how many optional fields follow the TLS version:
// 0-3 for the 24- to 27-field formats, current format most often.
func s3aFieldCountExtra(r *rand.Rand) int {
	switch k := r.IntN(20); {
	case k < 2:
		return 0
	case k < 4:
		return 1
	case k < 10:
		return 2
	}
	return 3
}

func s3aAppendCount(b []byte, v int64) []byte {
	if v < 0 {
		return append(b, '-')
	}
	return strconv.AppendInt(b, v, 10)
}

// s3aAppendTime appends dd/Mon/yyyy:hh:mm:ss +0000, the bracketed time.
func s3aAppendTime(b []byte, sec int64) []byte {
	t := time.Unix(sec, 0).UTC()
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	b = s3aAppend2(b, d)
	b = append(b, '/')
	b = append(b, s3aMonths[m-1]...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, ':')
	b = s3aAppend2(b, hh)
	b = append(b, ':')
	b = s3aAppend2(b, mm)
	b = append(b, ':')
	b = s3aAppend2(b, ss)
	return append(b, " +0000"...)
}

func s3aAppend2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func s3aAppendUpperHex(b []byte, r *rand.Rand, n int) []byte {
	const hex = "0123456789ABCDEF"
	for n > 0 {
		v := r.Uint64()
		for k := 0; k < 16 && n > 0; k++ {
			b = append(b, hex[v&15])
			v >>= 4
			n--
		}
	}
	return b
}

// s3aAppendBase64ish appends n characters of base64 text: host ids
// (x-amz-id-2, with '+', '/' and a final '=') and version ids (URL-safe).
func s3aAppendBase64ish(b []byte, r *rand.Rand, n int, std bool) []byte {
	const std64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	const url64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
	alphabet := url64
	if std {
		alphabet = std64
		n--
	}
	for n > 0 {
		v := r.Uint64()
		for k := 0; k < 10 && n > 0; k++ {
			b = append(b, alphabet[v&63])
			v >>= 6
			n--
		}
	}
	if std {
		b = append(b, '=')
	}
	return b
}
