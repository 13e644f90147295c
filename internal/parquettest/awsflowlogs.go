package parquettest

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	pq "github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

// awsFlowParquetTypes are the Parquet types AWS documents for its Parquet
// flow-log delivery ("Parquet data type: …" in the field table, FORMATS.md
// §1.2): INT_32 and INT_64; every other field is STRING.
var awsFlowParquetTypes = map[string]int{
	"version": 32, "srcport": 32, "dstport": 32, "protocol": 32, "tcp-flags": 32, "traffic-path": 32,
	"packets": 64, "bytes": 64, "start": 64, "end": 64,
	"packets-lost-no-route": 64, "packets-lost-blackhole": 64, "packets-lost-mtu-exceeded": 64, "packets-lost-ttl-expired": 64,
}

// AWSFlowLogParquet writes flow-log text (a header line, then records) as a
// Parquet file shaped like AWS's Parquet delivery, written by parquet-go (no
// code shared with the converter's arrow-go): columns named with
// underscores (account_id, as the AWS Parquet DDL names them), INT_32 and
// INT_64 where AWS documents them, STRING otherwise, GZIP-compressed column
// chunks, rowGroupRows rows per row group. A "-" is NULL in an integer column
// and kept as the string "-" in a string column. Columns come in name order
// (parquet-go sorts a group): the reader must map them by name.
func AWSFlowLogParquet(t testing.TB, text []byte, rowGroupRows int) []byte {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	require.True(t, sc.Scan(), "no header line")
	fields := strings.Fields(sc.Text())
	group := pq.Group{}
	for _, f := range fields {
		switch awsFlowParquetTypes[f] {
		case 32:
			group[column(f)] = pq.Optional(pq.Int(32))
		case 64:
			group[column(f)] = pq.Optional(pq.Int(64))
		default:
			group[column(f)] = pq.Optional(pq.String())
		}
	}
	schema := pq.NewSchema("flow_logs", group)
	// The leaf index of each field: the group's columns in name order.
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = column(f)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	leaf := map[string]int{}
	for i, n := range sorted {
		leaf[n] = i
	}
	var out bytes.Buffer
	w := pq.NewWriter(&out, schema, pq.Compression(&pq.Gzip), pq.MaxRowsPerRowGroup(int64(rowGroupRows)))
	var rows []pq.Row
	for sc.Scan() {
		vals := strings.Split(sc.Text(), " ")
		if len(vals) == 1 && vals[0] == "" {
			continue
		}
		require.Len(t, vals, len(fields), sc.Text())
		row := make(pq.Row, len(fields))
		for i, v := range vals {
			c := leaf[names[i]]
			var pv pq.Value
			bits := awsFlowParquetTypes[fields[i]]
			switch {
			case bits != 0 && v == "-":
				pv = pq.NullValue().Level(0, 0, c)
			case bits == 32:
				n, err := strconv.ParseInt(v, 10, 32)
				require.NoError(t, err)
				pv = pq.Int32Value(int32(n)).Level(0, 1, c)
			case bits == 64:
				n, err := strconv.ParseInt(v, 10, 64)
				require.NoError(t, err)
				pv = pq.Int64Value(n).Level(0, 1, c)
			default:
				pv = pq.ByteArrayValue([]byte(v)).Level(0, 1, c)
			}
			row[c] = pv
		}
		rows = append(rows, row)
		if len(rows) == 4096 {
			_, err := w.WriteRows(rows)
			require.NoError(t, err)
			rows = rows[:0]
		}
	}
	require.NoError(t, sc.Err())
	_, err := w.WriteRows(rows)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes()
}

func column(field string) string { return strings.ReplaceAll(field, "-", "_") }

// AWSFlowLogParquetTree replaces every .log.gz or .log flow-log file under dir
// whose relative path satisfies pick with a .log.parquet file of the same
// records (AWSFlowLogParquet), as if the flow log had been delivered as
// Parquet. It returns the relative paths of the Parquet files.
func AWSFlowLogParquetTree(t testing.TB, dir string, rowGroupRows int, pick func(rel string) bool) []string {
	t.Helper()
	var out []string
	for _, rel := range append(Files(t, dir, ".log.gz"), Files(t, dir, ".log")...) {
		if pick != nil && !pick(rel) {
			continue
		}
		path := filepath.Join(dir, rel)
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		if strings.HasSuffix(rel, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(text))
			require.NoError(t, err)
			text, err = io.ReadAll(zr)
			require.NoError(t, err)
		}
		name := strings.TrimSuffix(strings.TrimSuffix(rel, ".gz"), ".log") + ".log.parquet"
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), AWSFlowLogParquet(t, text, rowGroupRows), 0o644))
		require.NoError(t, os.Remove(path))
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
