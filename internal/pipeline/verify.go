package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"convert/internal/storage"
	"convert/internal/writer"
)

// VerifyReport is what Verify found. OK means no problem of any kind.
type VerifyReport struct {
	Output  string        `json:"output"`
	OK      bool          `json:"ok"`
	Units   int           `json:"units"`
	Files   int           `json:"files"`
	Rows    int64         `json:"rows"`
	Missing []string      `json:"missing,omitempty"` // in the ledger, not in the output
	Extra   []string      `json:"extra,omitempty"`   // in the output, in no ledger record
	Corrupt []VerifyIssue `json:"corrupt,omitempty"` // unreadable, wrong size, rows or schema
	Pending []string      `json:"pending,omitempty"` // units whose commit did not finish
	// Superseded are units a committed unit replaced whose removal did not
	// finish (a run was stopped): the next run in their days removes them.
	Superseded []string `json:"superseded,omitempty"`
	// Overlaps are objects whose rows more than one committed unit holds:
	// rows that are in the output twice.
	Overlaps []VerifyOverlap `json:"overlaps,omitempty"`
	Kinds    map[string]int  `json:"kinds"` // units per kind
}

// VerifyOverlap is a set of committed units that hold rows of the same
// objects, with how to repair it.
type VerifyOverlap struct {
	Kind    string   `json:"kind"`
	Day     string   `json:"day"` // the units' key date, or "nodate"
	Units   []string `json:"units"`
	Objects int      `json:"objects"`
	Example string   `json:"example"` // one of the objects
	Repair  string   `json:"repair"`
}

// VerifyIssue is one file's problem.
type VerifyIssue struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

var parquetMagic = []byte("PAR1")

// ErrNoLedger is Verify's error for a tree without a single ledger or
// pending record: an empty or mistyped path, or a tree convert did not write,
// must not pass as verified.
var ErrNoLedger = errors.New("no ledger")

// Verify checks an output tree against its ledger: every file a committed
// unit names exists with its size, is Parquet with a readable footer, the
// row count the ledger recorded and the columns of its kind; every Parquet
// file and rejects file belongs to a committed unit; no commit is pending.
// A tree without any ledger record is an error (ErrNoLedger), with the
// report of what was found there.
func Verify(ctx context.Context, sink storage.Sink) (VerifyReport, error) {
	rep := VerifyReport{Output: sink.String(), Kinds: map[string]int{}}
	var ledgerPaths, pendingPaths []string
	present := map[string]int64{}
	err := sink.List(ctx, "", func(o storage.Object) error {
		switch _, rk := parseRecordPath(o.Key); {
		case rk == unitRecord:
			ledgerPaths = append(ledgerPaths, o.Key)
		case rk == pendingRecord:
			pendingPaths = append(pendingPaths, o.Key)
		case strings.HasPrefix(o.Key, LedgerDir+"/"): // leases
		case strings.HasSuffix(o.Key, ".parquet"), strings.HasPrefix(o.Key, writer.RejectsDir+"/"):
			present[o.Key] = o.Size
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("listing %s: %w", sink, err)
	}
	if len(ledgerPaths) == 0 && len(pendingPaths) == 0 {
		for p := range present {
			rep.Extra = append(rep.Extra, p)
		}
		sort.Strings(rep.Extra)
		return rep, fmt.Errorf("%w under %s (no %s/KIND/units/ records): a mistyped path, or no unit was ever committed there",
			ErrNoLedger, sink, LedgerDir)
	}
	units, err := readRecords(ctx, sink, ledgerPaths)
	if err != nil {
		return rep, err
	}
	byKind := map[string]*ledger{}
	for _, u := range units {
		l := byKind[u.Kind]
		if l == nil {
			l = newLedger(sink, u.Kind)
			byKind[u.Kind] = l
		}
		l.add(u)
	}
	for kind, l := range byKind {
		for _, u := range l.retired() {
			rep.Superseded = append(rep.Superseded, u.ID)
		}
		rep.Overlaps = append(rep.Overlaps, overlapReport(kind, l)...)
	}
	sort.Strings(rep.Superseded)
	sort.Slice(rep.Overlaps, func(i, j int) bool { return rep.Overlaps[i].Example < rep.Overlaps[j].Example })
	expected := map[string]bool{}
	for _, u := range units {
		rep.Units++
		rep.Kinds[u.Kind]++
		for _, f := range u.Files {
			expected[f.Path] = true
			size, ok := present[f.Path]
			if !ok {
				rep.Missing = append(rep.Missing, f.Path)
				continue
			}
			rep.Files++
			rep.Rows += f.Rows
			if size != f.Bytes {
				rep.Corrupt = append(rep.Corrupt, VerifyIssue{f.Path, fmt.Sprintf("%d bytes, the ledger says %d", size, f.Bytes)})
				continue
			}
			if err := checkParquet(ctx, sink, u.Kind, f); err != nil {
				rep.Corrupt = append(rep.Corrupt, VerifyIssue{f.Path, err.Error()})
			}
		}
		if u.Rejects != "" {
			expected[u.Rejects] = true
			if _, ok := present[u.Rejects]; !ok {
				rep.Missing = append(rep.Missing, u.Rejects)
			}
		}
	}
	for p := range present {
		if !expected[p] {
			rep.Extra = append(rep.Extra, p)
		}
	}
	for _, p := range pendingPaths {
		rep.Pending = append(rep.Pending, strings.TrimSuffix(path.Base(p), ".json"))
	}
	sort.Strings(rep.Missing)
	sort.Strings(rep.Extra)
	rep.OK = len(rep.Missing) == 0 && len(rep.Extra) == 0 && len(rep.Corrupt) == 0 && len(rep.Pending) == 0 &&
		len(rep.Superseded) == 0 && len(rep.Overlaps) == 0
	return rep, nil
}

// overlapReport groups a kind's overlapping objects by the set of units
// holding them.
func overlapReport(kind string, l *ledger) []VerifyOverlap {
	bySet := map[string]*VerifyOverlap{}
	for key, ids := range l.overlaps() {
		set := strings.Join(ids, ",")
		o := bySet[set]
		if o == nil {
			day := l.units[ids[0]].Group
			o = &VerifyOverlap{Kind: kind, Day: day, Units: ids, Example: key,
				Repair: fmt.Sprintf("convert the key date %s again without --incremental (convert %s --in … --out … --from %s --to %s): the new unit replaces all of these", day, kind, day, day)}
			if day == noDateGroup {
				o.Repair = fmt.Sprintf("convert the same input again without --incremental (convert %s --in … --out …): the new units replace all of these", kind)
			}
			bySet[set] = o
		}
		o.Objects++
		if key < o.Example {
			o.Example = key
		}
	}
	out := make([]VerifyOverlap, 0, len(bySet))
	for _, o := range bySet {
		out = append(out, *o)
	}
	return out
}

// checkParquet reads a file's footer and checks its magic, row count and
// columns.
func checkParquet(ctx context.Context, sink storage.Sink, kind string, f writer.FileInfo) error {
	rr, ok := sink.(storage.RangeReader)
	if !ok {
		return fmt.Errorf("the output cannot be read by range")
	}
	if f.Bytes < 12 {
		return fmt.Errorf("too small for Parquet (%d bytes)", f.Bytes)
	}
	head, err := rr.ReadRange(ctx, f.Path, 0, 4)
	if err != nil {
		return err
	}
	tail, err := rr.ReadRange(ctx, f.Path, f.Bytes-8, 8)
	if err != nil {
		return err
	}
	if !bytes.Equal(head, parquetMagic) || !bytes.Equal(tail[4:], parquetMagic) {
		return fmt.Errorf("not a Parquet file (magic bytes)")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > f.Bytes-12 {
		return fmt.Errorf("footer length %d out of range", n)
	}
	footer, err := rr.ReadRange(ctx, f.Path, f.Bytes-8-n, n)
	if err != nil {
		return err
	}
	md, err := metadata.NewFileMetaData(footer, nil)
	if err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	if md.NumRows != f.Rows {
		return fmt.Errorf("%d rows, the ledger says %d", md.NumRows, f.Rows)
	}
	sc, err := pqarrow.FromParquet(md.Schema, &pqarrow.ArrowReadProperties{}, md.KeyValueMetadata())
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	return checkColumns(kind, sc)
}

// checkColumns compares a file's columns with its kind's documented schema.
// Ledger records of a kind this convert does not know are not checked.
func checkColumns(kind string, sc *arrow.Schema) error {
	k, ok := KindNamed(kind)
	if !ok {
		return nil
	}
	d := k.Describe()
	want := d.Schema()
	if d.Optional != nil {
		want = d.Optional()
	}
	for _, f := range sc.Fields() {
		idx := want.FieldIndices(f.Name)
		if len(idx) == 0 {
			if d.UndocumentedStrings && f.Type.ID() == arrow.STRING {
				continue // an undocumented field, read as a string
			}
			return fmt.Errorf("column %s is not a %s column", f.Name, kind)
		}
		if !arrow.TypeEqual(want.Field(idx[0]).Type, f.Type) {
			return fmt.Errorf("column %s is %s, want %s", f.Name, f.Type, want.Field(idx[0]).Type)
		}
	}
	return nil
}
