// Command compare measures convert against the gunzip floor and DuckDB 1.5.6
// in one run, on the same generated files, in interleaved rounds, and prints
// medians and ratios (wall, CPU, peak RSS, output bytes).
//
// It is its own module so that DuckDB (cgo) never enters convert's go.mod.
// From the repository root:
//
//	cd bench/compare && go run . -kinds flowlogs,cloudtrail -size 256MiB -files 64 -rounds 3
//
// Each job runs as a child process (this binary re-executed for the floor and
// DuckDB, the convert binary for convert), so wall, CPU (user+sys) and peak
// RSS (ru_maxrss) are the child's own. -convert NAME=PATH (repeatable) adds
// convert binaries to compare, e.g. a baseline build against a new one; the
// default builds ../../cmd/convert with its PGO profile.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/klauspost/compress/gzip"
)

type convertBin struct{ name, path string }

type convertFlags []convertBin

func (c *convertFlags) String() string { return fmt.Sprint(*c) }
func (c *convertFlags) Set(s string) error {
	name, path, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=PATH")
	}
	*c = append(*c, convertBin{name, path})
	return nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		if err := child(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
		return
	}
	var (
		kinds   = flag.String("kinds", "flowlogs,cloudtrail", "kinds to measure: flowlogs, cloudtrail")
		size    = flag.String("size", "256MiB", "uncompressed size of the generated input (convert gen --size)")
		files   = flag.Int("files", 64, "number of generated files")
		rounds  = flag.Int("rounds", 3, "interleaved rounds")
		work    = flag.String("work", filepath.Join(os.TempDir(), "convert-compare"), "directory for input and output")
		workers = flag.Int("workers", 2, "files at a time for the floor, --workers for convert, threads for DuckDB")
		noDuck  = flag.Bool("no-duckdb", false, "skip DuckDB")
		bins    convertFlags
	)
	flag.Var(&bins, "convert", "NAME=PATH of a convert binary (repeatable; default: build ../../cmd/convert with -pgo)")
	flag.Parse()
	if err := run(strings.Split(*kinds, ","), *size, *files, *rounds, *work, *workers, *noDuck, bins); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
	outBytes  int64
}

func run(kinds []string, size string, files, rounds int, work string, workers int, noDuck bool, bins convertFlags) error {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if len(bins) == 0 {
		bin := filepath.Join(work, "convert")
		cmd := exec.Command("go", "build", "-pgo=cmd/convert/convert.pgo", "-o", bin, "./cmd/convert")
		cmd.Dir = "../.."
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building convert: %w", err)
		}
		bins = convertFlags{{"convert", bin}}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, kind := range kinds {
		in := filepath.Join(work, "in-"+kind+"-"+size+fmt.Sprintf("-%d", files))
		gen := exec.Command(bins[0].path, "gen", kind, "--dir", in, "--size", size, "--files", fmt.Sprint(files), "--days", "2")
		gen.Stdout, gen.Stderr = os.Stderr, os.Stderr
		if err := gen.Run(); err != nil {
			return fmt.Errorf("generating %s: %w", kind, err)
		}
		type job struct {
			name string
			args []string // argv; "{out}" is replaced by a fresh output directory
		}
		jobs := []job{{"gunzip floor", []string{self, "-child", "floor", in, fmt.Sprint(workers)}}}
		for _, b := range bins {
			jobs = append(jobs, job{b.name, []string{b.path, kind, "--in", in, "--out", "{out}",
				"--workers", fmt.Sprint(workers), "--max-reject-ratio", "-1", "--log-level", "warn"}})
		}
		if !noDuck {
			jobs = append(jobs, job{"duckdb", []string{self, "-child", "duckdb", kind, in, "{out}", fmt.Sprint(workers)}})
		}
		results := make([][]sample, len(jobs))
		for r := 0; r < rounds; r++ {
			for j, jb := range jobs {
				out := filepath.Join(work, "out")
				if err := os.RemoveAll(out); err != nil {
					return err
				}
				args := slices.Clone(jb.args)
				for i := range args {
					if args[i] == "{out}" {
						args[i] = out
					}
				}
				s, err := measure(args, out)
				if err != nil {
					return fmt.Errorf("%s %s: %w", kind, jb.name, err)
				}
				fmt.Fprintf(os.Stderr, "%s round %d %-14s wall %6.2fs cpu %6.2fs rss %5d MiB out %.1f MB\n",
					kind, r+1, jb.name, s.wall.Seconds(), s.cpu.Seconds(), s.rssKiB>>10, float64(s.outBytes)/1e6)
				results[j] = append(results[j], s)
			}
		}
		med := make([]sample, len(jobs))
		for j := range jobs {
			med[j] = median(results[j])
		}
		fmt.Printf("\n%s, %s of text in %d files, %d rounds, medians:\n", kind, size, files, rounds)
		fmt.Printf("| job | wall | CPU | peak RSS | output | floor wall / wall | duckdb wall / wall | duckdb CPU / CPU |\n|---|---|---|---|---|---|---|---|\n")
		for j, jb := range jobs {
			m := med[j]
			duck := "-"
			duckCPU := "-"
			if !noDuck {
				d := med[len(jobs)-1]
				duck = fmt.Sprintf("%.2fx", d.wall.Seconds()/m.wall.Seconds())
				duckCPU = fmt.Sprintf("%.2fx", d.cpu.Seconds()/m.cpu.Seconds())
			}
			outs := "-"
			if m.outBytes > 0 {
				outs = fmt.Sprintf("%.1f MB", float64(m.outBytes)/1e6)
			}
			fmt.Printf("| %s | %.2f s | %.2f s | %d MiB | %s | %.2fx | %s | %s |\n", jb.name, m.wall.Seconds(), m.cpu.Seconds(),
				m.rssKiB>>10, outs, med[0].wall.Seconds()/m.wall.Seconds(), duck, duckCPU)
		}
		// Paired ratios of each convert binary to the first, round by round.
		for j := 2; j < 1+len(bins); j++ {
			var w, c []float64
			for r := 0; r < rounds; r++ {
				w = append(w, results[j][r].wall.Seconds()/results[1][r].wall.Seconds())
				c = append(c, results[j][r].cpu.Seconds()/results[1][r].cpu.Seconds())
			}
			fmt.Printf("paired %s / %s: wall %.3f, CPU %.3f (medians of %d rounds)\n", jobs[j].name, jobs[1].name, medianF(w), medianF(c), rounds)
		}
	}
	return nil
}

func measure(args []string, out string) (sample, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%w: %s", err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	s := sample{wall: wall, cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rssKiB: ru.Maxrss}
	_ = filepath.Walk(out, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && strings.HasSuffix(fi.Name(), ".parquet") {
			s.outBytes += fi.Size()
		}
		return nil
	})
	return s, nil
}

func median(s []sample) sample {
	pick := func(f func(sample) float64) float64 {
		var v []float64
		for _, x := range s {
			v = append(v, f(x))
		}
		return medianF(v)
	}
	return sample{
		wall:     time.Duration(pick(func(x sample) float64 { return float64(x.wall) })),
		cpu:      time.Duration(pick(func(x sample) float64 { return float64(x.cpu) })),
		rssKiB:   int64(pick(func(x sample) float64 { return float64(x.rssKiB) })),
		outBytes: int64(pick(func(x sample) float64 { return float64(x.outBytes) })),
	}
}

func medianF(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func child(args []string) error {
	switch {
	case len(args) == 3 && args[0] == "floor":
		var workers int
		fmt.Sscan(args[2], &workers)
		return floor(args[1], workers)
	case len(args) == 5 && args[0] == "duckdb":
		return duck(args[1], args[2], args[3], args[4])
	case len(args) == 2 && args[0] == "sql":
		return query(args[1])
	}
	return fmt.Errorf("bad child arguments %q", args)
}

// floor decompresses every .gz file under dir, workers at a time, with
// klauspost/compress (what convert uses), and discards the bytes.
func floor(dir string, workers int) error {
	var paths []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && strings.HasSuffix(p, ".gz") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	ch := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			zr := new(gzip.Reader)
			buf := make([]byte, 256<<10)
			for p := range ch {
				f, err := os.Open(p)
				if err != nil {
					errs <- err
					return
				}
				if err := zr.Reset(f); err != nil {
					f.Close()
					errs <- err
					return
				}
				_, err = io.CopyBuffer(io.Discard, zr, buf)
				f.Close()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, p := range paths {
		ch <- p
	}
	close(ch)
	wg.Wait()
	close(errs)
	return <-errs
}

// The flow-log columns of the default format, typed as convert types them.
const flowColumns = `{'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR',
 'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER',
 'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT',
 'action': 'VARCHAR', 'log_status': 'VARCHAR'}`

// The CloudTrail record schema given to read_json: the fields convert types,
// the free-form ones (requestParameters, responseElements, …) as JSON, as
// convert keeps them as JSON text.
const trailRecord = `STRUCT(
 eventVersion VARCHAR,
 userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR,
   accessKeyId VARCHAR, userName VARCHAR, sessionContext JSON),
 eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, sourceIPAddress VARCHAR,
 userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, requestParameters JSON, responseElements JSON,
 additionalEventData JSON, requestID VARCHAR, eventID VARCHAR, readOnly BOOLEAN,
 resources STRUCT(accountId VARCHAR, type VARCHAR, ARN VARCHAR)[],
 eventType VARCHAR, apiVersion VARCHAR, managementEvent BOOLEAN, recipientAccountId VARCHAR,
 sharedEventID VARCHAR, vpcEndpointId VARCHAR, eventCategory VARCHAR, serviceEventDetails JSON,
 tlsDetails STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, clientProvidedHostHeader VARCHAR),
 sessionCredentialFromConsole VARCHAR)`

func duck(kind, in, out, threads string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	for _, s := range []string{"SET threads = " + threads, "SET preserve_insertion_order = false"} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	var q string
	switch kind {
	case "flowlogs":
		q = fmt.Sprintf(`COPY (
  SELECT *, strftime(to_timestamp("start"), '%%Y') AS year, strftime(to_timestamp("start"), '%%m') AS month,
         strftime(to_timestamp("start"), '%%d') AS day
  FROM read_csv('%s/**/*.log.gz', delim = ' ', header = true, nullstr = '-', columns = %s)
) TO '%s' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year, month, day))`, in, flowColumns, out)
	case "cloudtrail":
		q = fmt.Sprintf(`COPY (
  SELECT r.*, substr(r.eventTime, 1, 4) AS year, substr(r.eventTime, 6, 2) AS month, substr(r.eventTime, 9, 2) AS day
  FROM (SELECT unnest(Records) AS r
        FROM read_json('%s/**/*.json.gz', format = 'auto', maximum_object_size = 1073741824,
                       columns = {'Records': '%s[]'}))
) TO '%s' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year, month, day))`,
			in, strings.ReplaceAll(trailRecord, "\n", ""), out)
	default:
		return fmt.Errorf("no DuckDB query for %s", kind)
	}
	_, err = db.ExecContext(ctx, q)
	return err
}

// query runs one SQL statement in DuckDB and prints its rows tab-separated
// (compare -child sql 'SELECT … FROM parquet_metadata(…)'), for looking at
// outputs.
func query(q string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	fmt.Println(strings.Join(cols, "\t"))
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		fmt.Println(strings.Join(parts, "\t"))
	}
	return rows.Err()
}
