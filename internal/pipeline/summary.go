package pipeline

import (
	"sort"
	"sync"

	"convert/internal/writer"
)

// Summary is the result of a run, printed as one JSON object.
type Summary struct {
	Kind   string `json:"kind"`
	Input  string `json:"input"`
	Output string `json:"output"`
	Status string `json:"status"` // StatusOK or StatusFailed
	Error  string `json:"error,omitempty"`

	ObjectsListed  int64            `json:"objects_listed"`
	ObjectsRead    int64            `json:"objects_read"`
	ObjectsSkipped map[string]int64 `json:"objects_skipped,omitempty"` // by reason
	BadObjects     []BadObject      `json:"bad_objects,omitempty"`
	// ChangedObjects are objects converted before whose size or ETag has
	// changed (--incremental converts their units again); at most
	// maxListed are named, ChangedCount counts them all.
	ChangedObjects []string `json:"changed_objects,omitempty"`
	ChangedCount   int64    `json:"changed_count,omitempty"`
	// SupersededUnits counts units of earlier runs this run replaced.
	SupersededUnits int64 `json:"superseded_units,omitempty"`
	// ObjectsGone counts objects converted by earlier runs, in this run's
	// scope, that the source no longer lists; their rows are kept.
	ObjectsGone int64 `json:"objects_gone,omitempty"`

	BytesIn           int64 `json:"bytes_in"`           // as stored (compressed)
	BytesUncompressed int64 `json:"bytes_uncompressed"` // after decompression

	RecordsRead     int64   `json:"records_read"`
	RecordsWritten  int64   `json:"records_written"`
	RecordsRejected int64   `json:"records_rejected"`
	Balanced        bool    `json:"balanced"` // read == written + rejected
	RejectRatio     float64 `json:"reject_ratio"`

	Units        int               `json:"units"`
	OutputFiles  []writer.FileInfo `json:"output_files"`
	OutputBytes  int64             `json:"output_bytes"`
	Partitions   []string          `json:"partitions"`
	RejectsFiles []string          `json:"rejects_files,omitempty"`
	Warnings     []string          `json:"warnings,omitempty"`

	WallSeconds float64 `json:"wall_seconds"`
	MBPerSecond float64 `json:"mb_per_second"` // uncompressed input MB (10^6) per second
}

// Summary.Status values.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Reasons the pipeline skips a listed object (keys of
// Summary.ObjectsSkipped; kinds and sources add their own).
const (
	SkipOutsideItem = "outside the work item's key ranges"
	SkipNoKeyDate   = "no date in key (--from/--to given)"
	SkipOutsideDays = "key date outside --from/--to"
	SkipEmpty       = "empty object"
	SkipIncremental = "already converted (--incremental)"
)

// BadObject is an object that could not be read to the end.
type BadObject struct {
	Object string `json:"object"`
	Error  string `json:"error"`
}

// tally collects the summary from concurrent units.
type tally struct {
	mu       sync.Mutex
	s        Summary
	warnings map[string]bool
	// timeFallbacks counts, over committed units, rows partitioned by a
	// fallback date although they carry a time (PartitionCounts).
	timeFallbacks int64
	parts         map[string]bool
}

func newTally(kind, in, out string) *tally {
	return &tally{
		s:        Summary{Kind: kind, Input: in, Output: out, ObjectsSkipped: map[string]int64{}, OutputFiles: []writer.FileInfo{}, Partitions: []string{}},
		warnings: map[string]bool{},
		parts:    map[string]bool{},
	}
}

func (t *tally) skip(reason string) {
	t.mu.Lock()
	t.s.ObjectsSkipped[reason]++
	t.mu.Unlock()
}

// maxListed bounds the object names a summary list holds.
const maxListed = 100

func (t *tally) changed(key string) {
	t.mu.Lock()
	t.s.ChangedCount++
	if len(t.s.ChangedObjects) < maxListed {
		t.s.ChangedObjects = append(t.s.ChangedObjects, key)
	}
	t.mu.Unlock()
}

func (t *tally) superseded() {
	t.mu.Lock()
	t.s.SupersededUnits++
	t.mu.Unlock()
}

func (t *tally) listed() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.s.ObjectsListed
}

func (t *tally) gone(n int64) {
	t.mu.Lock()
	t.s.ObjectsGone += n
	t.mu.Unlock()
}

func (t *tally) warn(w string) {
	t.mu.Lock()
	if !t.warnings[w] {
		t.warnings[w] = true
		t.s.Warnings = append(t.s.Warnings, w)
	}
	t.mu.Unlock()
}

// unitDone adds a committed unit.
func (t *tally) unitDone(r *unitResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.Units++
	t.s.ObjectsRead += r.objects
	t.s.BytesIn += r.bytesIn
	t.s.BytesUncompressed += r.bytesOut
	t.s.RecordsRead += r.records
	t.s.RecordsRejected += r.rejected
	for _, f := range r.files {
		t.s.RecordsWritten += f.Rows
		t.s.OutputBytes += f.Bytes
		t.s.OutputFiles = append(t.s.OutputFiles, f)
		if !t.parts[f.Partition] {
			t.parts[f.Partition] = true
			t.s.Partitions = append(t.s.Partitions, f.Partition)
		}
	}
	if r.rejectsFile != "" {
		t.s.RejectsFiles = append(t.s.RejectsFiles, r.rejectsFile)
	}
	t.s.BadObjects = append(t.s.BadObjects, r.bad...)
	t.timeFallbacks += r.partitionCounts.TimeFallbacks
}

// committed returns the objects and units committed so far.
func (t *tally) committed() (objects, units int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.s.ObjectsRead, int64(t.s.Units)
}

func (t *tally) timeFallbackCount() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.timeFallbacks
}

func (t *tally) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	sort.Slice(s.OutputFiles, func(i, j int) bool { return s.OutputFiles[i].Path < s.OutputFiles[j].Path })
	sort.Strings(s.Partitions)
	sort.Strings(s.RejectsFiles)
	s.Balanced = s.RecordsRead == s.RecordsWritten+s.RecordsRejected
	if s.RecordsRead > 0 {
		s.RejectRatio = float64(s.RecordsRejected) / float64(s.RecordsRead)
	}
	return s
}
