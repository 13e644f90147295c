package writer

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/storage"
)

// PartitionedConfig configures a Partitioned writer.
type PartitionedConfig struct {
	Sink storage.Sink
	// Stem names the files: <partition>/part-<Stem>-<nnnnn>.<codec>.parquet.
	// Deterministic stems make reruns overwrite rather than duplicate.
	Stem string
	// Order sorts the columns of a merged schema (the kind's documented order).
	Order func([]arrow.Field) []arrow.Field
	Options
}

// Partitioned writes batches into one open file per partition. Files roll at
// Options.TargetFileBytes; at most Options.MaxOpenFiles are open at once.
// When a new partition finds no free slot, the least recently used file is
// finished to make room if it has been idle for a while (input sorted by
// time moves on from one day to the next); otherwise, and for a partition
// whose file was finished that way before, the rows are spilled to a
// temporary file and written at Finish, one partition at a time (input whose
// rows interleave many days). Either way a partition gets a few files per
// unit, not one per visit. When a batch brings columns the current file
// lacks, that file is finished and the next one has the union of both
// column sets; batches lacking some of a file's columns get NULLs there.
// Nothing is visible until Commit; Abort discards everything.
type Partitioned struct {
	cfg     PartitionedConfig
	open    map[string]*list.Element // partition → element of lru holding *File
	lru     *list.List
	seq     map[string]int
	seen    map[string]bool  // every partition written to, for MaxPartitions
	evicted map[string]bool  // partitions whose file was finished to make room
	lastRow map[string]int64 // rows written in all when the partition was last written
	rows    int64            // rows written in all
	spill   *spill
	// spillErr says why no spill file could be created; files are then
	// finished to make room instead.
	spillErr error
	// spillCtx is the context of the first spilled write: Finish, which
	// takes none, creates the files of spilled partitions with it.
	spillCtx context.Context
	finished []*File
	infos    []FileInfo
}

// idleRows is how many rows must have gone to other partitions since the
// least recently used file was last written before it is finished to make
// room for a new partition. Rows that interleave partitions revisit each of
// them within a batch or two (32 Ki rows); a day of time-sorted input is left
// for good.
const idleRows = 128 << 10

// SpillStats says how much a Partitioned writer spilled.
type SpillStats struct {
	Partitions int   // partitions whose rows were spilled
	Bytes      int64 // bytes written to the spill file
	// Err is why no spill file could be created (no writable temporary
	// directory): the writer then finishes the least recently used file to
	// make room, as if it were idle, which makes more and smaller files.
	Err error
}

// ErrTooManyPartitions is returned when a Partitioned writer would exceed
// Options.MaxPartitions.
var ErrTooManyPartitions = errors.New("writer: too many partitions")

// NewPartitioned returns a writer with no files yet.
func NewPartitioned(cfg PartitionedConfig) *Partitioned {
	cfg.Options = cfg.Options.withDefaults()
	if cfg.Order == nil {
		cfg.Order = func(f []arrow.Field) []arrow.Field { return f }
	}
	return &Partitioned{cfg: cfg, open: map[string]*list.Element{}, lru: list.New(), seq: map[string]int{},
		seen: map[string]bool{}, evicted: map[string]bool{}, lastRow: map[string]int64{}}
}

// Spilled reports what was spilled so far.
func (p *Partitioned) Spilled() SpillStats {
	if p.spill == nil {
		return SpillStats{Err: p.spillErr}
	}
	return SpillStats{Partitions: len(p.spill.order), Bytes: p.spill.bytes()}
}

// Write appends rec to the file of partition.
func (p *Partitioned) Write(ctx context.Context, partition string, rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	if !p.seen[partition] {
		if len(p.seen) == p.cfg.MaxPartitions {
			return fmt.Errorf("%w: the rows of one unit fall into more than %d partitions; check the records' times",
				ErrTooManyPartitions, p.cfg.MaxPartitions)
		}
		p.seen[partition] = true
	}
	p.rows += rec.NumRows()
	if p.spillErr == nil && p.spilling(partition) {
		if p.spill == nil {
			p.spill, p.spillErr = newSpill(p.cfg.SpillDir, p.cfg.Mem)
			p.spillCtx = ctx
		}
		if p.spillErr == nil {
			return p.spill.add(partition, rec)
		}
	}
	p.lastRow[partition] = p.rows
	return p.write(ctx, partition, rec)
}

// spilling decides whether the rows of partition go to the spill file: they
// do once some have, and when the partition has no open file, every slot is
// taken, and the least recently used file is not idle or the partition's
// file was finished to make room before.
func (p *Partitioned) spilling(partition string) bool {
	if p.spill != nil && p.spill.has(partition) {
		return true
	}
	if _, ok := p.open[partition]; ok || p.lru.Len() < p.cfg.MaxOpenFiles {
		return false
	}
	oldest := p.lru.Back().Value.(*File).info.Partition
	return p.evicted[partition] || p.rows-p.lastRow[oldest] < idleRows
}

// write appends rec to partition's file, opening one if needed.
func (p *Partitioned) write(ctx context.Context, partition string, rec arrow.RecordBatch) error {
	f, err := p.fileFor(ctx, partition, rec.Schema())
	if err != nil {
		return err
	}
	conformed, err := conform(rec, f.Schema(), p.cfg.Mem)
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.info.Path, err)
	}
	defer conformed.Release()
	if err := f.Write(conformed); err != nil {
		return err
	}
	if f.Size() >= p.cfg.TargetFileBytes {
		return p.finish(partition)
	}
	return nil
}

// fileFor returns the open file of partition, opening or replacing it when
// needed so that it can hold every column of sc.
func (p *Partitioned) fileFor(ctx context.Context, partition string, sc *arrow.Schema) (*File, error) {
	want := sc
	if el, ok := p.open[partition]; ok {
		f := el.Value.(*File)
		merged, same, err := union(f.Schema(), sc, p.cfg.Order)
		if err != nil {
			return nil, fmt.Errorf("partition %s: %w", partition, err)
		}
		if same {
			p.lru.MoveToFront(el)
			return f, nil
		}
		if err := p.finish(partition); err != nil {
			return nil, err
		}
		want = merged
	} else {
		want = arrow.NewSchema(p.cfg.Order(append([]arrow.Field(nil), sc.Fields()...)), nil)
	}
	n := p.seq[partition]
	for p.lru.Len() >= p.cfg.MaxOpenFiles {
		oldest := p.lru.Back().Value.(*File)
		p.evicted[oldest.info.Partition] = true
		if err := p.finish(oldest.info.Partition); err != nil {
			return nil, err
		}
	}
	p.seq[partition] = n + 1
	name := fmt.Sprintf("part-%s-%05d.%sparquet", p.cfg.Stem, n, codecSuffix(p.cfg.Compression))
	rel := path.Join(partition, name)
	opts := p.cfg.Options
	opts.DictionaryPageBytes = crowdedDictionaryBytes(opts.DictionaryPageBytes, p.lru.Len()+1)
	opts.DataPageBytes = crowdedPageBytes(opts.pageBytes(), p.lru.Len()+1)
	f, err := NewFile(ctx, p.cfg.Sink, rel, partition, want, opts)
	if err != nil {
		return nil, err
	}
	p.open[partition] = p.lru.PushFront(f)
	return f, nil
}

// crowdedDictionaryBytes shares a dictionary allowance between open files:
// up to crowdFiles files each get limit; with more, each gets a share of
// crowdFiles×limit (at least minDictionaryPageBytes). Input whose rows
// interleave many partitions keeps that many dictionaries (and their hash
// tables) alive at once; smaller ones bound that memory and fall back to
// plain encoding sooner, which on such input is also faster. The usual unit
// has one or two partitions and keeps the full limit.
func crowdedDictionaryBytes(limit int64, open int) int64 {
	const crowdFiles = 4
	if open <= crowdFiles {
		return limit
	}
	return max(limit*crowdFiles/int64(open), minDictionaryPageBytes)
}

// crowdedPageBytes shares the unfinished pages' allowance between open
// files as crowdedDictionaryBytes shares the dictionaries': every column of
// an open file buffers up to a page (values, dictionary indices, levels)
// that no budget counts, so 32 files of interleaved days with 1 MiB pages
// would hold about 32 × 14 MiB per unit. A file opened while more than
// crowdFiles are open gets a share of crowdFiles pages (at least
// minCrowdedPageBytes).
func crowdedPageBytes(limit int64, open int) int64 {
	const crowdFiles = 2
	if open <= crowdFiles {
		return limit
	}
	return max(limit*crowdFiles/int64(open), min(limit, minCrowdedPageBytes))
}

// minCrowdedPageBytes floors the page size of a crowded writer.
const minCrowdedPageBytes = 32 << 10

// finish completes the open file of partition, if any.
func (p *Partitioned) finish(partition string) error {
	el, ok := p.open[partition]
	if !ok {
		return nil
	}
	delete(p.open, partition)
	p.lru.Remove(el)
	f := el.Value.(*File)
	p.finished = append(p.finished, f)
	info, err := f.Finish()
	if err != nil {
		return err
	}
	p.infos = append(p.infos, info)
	return nil
}

// Finish completes every open file, then writes the spilled rows of each
// partition into files of their own, and returns all files written, in the
// order they were finished. Nothing is visible until Commit.
func (p *Partitioned) Finish() ([]FileInfo, error) {
	if err := p.finishOpen(); err != nil {
		return nil, err
	}
	if p.spill != nil {
		ctx := p.spillCtx
		for _, part := range p.spill.order {
			err := p.spill.replay(part, func(rec arrow.RecordBatch) error { return p.write(ctx, part, rec) })
			if err == nil {
				err = p.finish(part)
			}
			if err != nil {
				return nil, err
			}
		}
		if err := p.spill.close(); err != nil {
			return nil, fmt.Errorf("writer: removing the spill file: %w", err)
		}
		p.spill = nil
	}
	return p.infos, nil
}

func (p *Partitioned) finishOpen() error {
	for p.lru.Len() > 0 {
		f := p.lru.Back().Value.(*File)
		if err := p.finish(f.info.Partition); err != nil {
			return err
		}
	}
	return nil
}

// Commit publishes every finished file. Call Finish first.
func (p *Partitioned) Commit() error {
	if p.lru.Len() > 0 {
		return errors.New("writer: commit with open files; call Finish first")
	}
	for _, f := range p.finished {
		if err := f.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Abort discards every file not yet committed.
func (p *Partitioned) Abort() {
	for el := p.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*File).Abort()
	}
	for _, f := range p.finished {
		f.Abort()
	}
	p.lru.Init()
	clear(p.open)
	if p.spill != nil {
		_ = p.spill.close()
		p.spill = nil
	}
}

// union merges two schemas by column name. same reports that b adds nothing
// to a. Two columns of one name and different types are an error.
func union(a, b *arrow.Schema, order func([]arrow.Field) []arrow.Field) (*arrow.Schema, bool, error) {
	fields := append([]arrow.Field(nil), a.Fields()...)
	same := true
	for _, f := range b.Fields() {
		idx := a.FieldIndices(f.Name)
		if len(idx) == 0 {
			fields = append(fields, f)
			same = false
			continue
		}
		if !arrow.TypeEqual(a.Field(idx[0]).Type, f.Type) {
			return nil, false, fmt.Errorf("column %s is %s in one input and %s in another", f.Name, a.Field(idx[0]).Type, f.Type)
		}
	}
	if same {
		return a, true, nil
	}
	return arrow.NewSchema(order(fields), nil), false, nil
}

// conform returns rec with the columns of sc, in sc's order: columns rec
// lacks are all NULL. The result must be released.
func conform(rec arrow.RecordBatch, sc *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	if rec.Schema().Equal(sc) {
		rec.Retain()
		return rec, nil
	}
	n := int(rec.NumRows())
	cols := make([]arrow.Array, sc.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range sc.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			cols[i] = array.MakeArrayOfNull(mem, f.Type, n)
			continue
		}
		c := rec.Column(idx[0])
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, fmt.Errorf("column %s is %s, file has %s", f.Name, c.DataType(), f.Type)
		}
		c.Retain()
		cols[i] = c
	}
	return array.NewRecordBatch(sc, cols, int64(n)), nil
}
