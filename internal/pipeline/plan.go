package pipeline

import (
	"context"
	"fmt"
	"strings"
)

// KeyRange is a contiguous run of keys in listing order: the keys under
// Prefix that sort after After (exclusive; empty means from the start) and
// up to Last (inclusive).
type KeyRange struct {
	Prefix string `json:"prefix"`
	After  string `json:"after,omitempty"`
	Last   string `json:"last"`
}

func (k KeyRange) contains(key string) bool {
	return strings.HasPrefix(key, k.Prefix) && key > k.After && key <= k.Last
}

func inRanges(ranges []KeyRange, key string) bool {
	for _, r := range ranges {
		if r.contains(key) {
			return true
		}
	}
	return false
}

// Item is one piece of a planned backfill: a disjoint set of input objects,
// as key ranges, of about the planned size, with what is needed to convert it
// in a process of its own (a Step Functions Distributed Map child or an AWS
// Batch array job).
type Item struct {
	ID      string     `json:"id"`
	Kind    string     `json:"kind"`
	In      string     `json:"in"`
	Out     string     `json:"out"`
	Ranges  []KeyRange `json:"ranges"`
	Objects int64      `json:"objects"`
	Bytes   int64      `json:"bytes"`
	// Flags are the conversion flags the plan was made with (--fields,
	// --partition-time, …); converting the item applies them.
	Flags []string `json:"flags,omitempty"`
	// Args is the complete command line that converts this item.
	Args []string `json:"args,omitempty"`
}

// PlanConfig configures Plan.
type PlanConfig struct {
	Run Config // Kind, Source, From, To: what a conversion would read
	// Prefixes are the key prefixes the source lists (its day prefixes when
	// pruned, else its base prefix); every range lies within one of them.
	Prefixes    []string
	TargetBytes int64 // input bytes (as stored) per item
	In, Out     string
	Flags       []string
}

// Plan lists the input as a conversion would and cuts it into items of about
// TargetBytes each, in listing order. Items never share an object, and a
// unit of a conversion never spans two items (an item ends where a unit
// would: at a change of account, region or key date, or at the size), so
// running every item gives exactly the rows a single run gives.
func Plan(ctx context.Context, cfg PlanConfig) ([]Item, error) {
	if cfg.TargetBytes <= 0 {
		cfg.TargetBytes = 2 << 30
	}
	rc := cfg.Run
	if rc.UnitBytes <= 0 {
		rc.UnitBytes = DefaultUnitBytes
	}
	var items []Item
	var cur *Item
	var prevKey, curGroup string
	var curPrefix string
	var curRange *KeyRange
	newItem := func() {
		items = append(items, Item{ID: fmt.Sprintf("%05d", len(items)), Kind: rc.Kind.Name(), In: cfg.In, Out: cfg.Out, Flags: cfg.Flags})
		cur = &items[len(items)-1]
		curRange = nil
	}
	err := selectionOf(rc, nil).list(ctx, func(o object) error {
		prefix := longestPrefix(cfg.Prefixes, o.Key)
		group := o.unitGroup()
		if cur == nil || (cur.Bytes >= cfg.TargetBytes && group != curGroup) || cur.Bytes+o.Size > 2*cfg.TargetBytes {
			newItem()
		}
		if curRange == nil || prefix != curPrefix {
			after := prevKey
			if prefix != curPrefix || !strings.HasPrefix(prevKey, prefix) {
				after = ""
			}
			cur.Ranges = append(cur.Ranges, KeyRange{Prefix: prefix, After: after})
			curRange = &cur.Ranges[len(cur.Ranges)-1]
		}
		curRange.Last = o.Key
		cur.Objects++
		cur.Bytes += o.Size
		prevKey, curGroup, curPrefix = o.Key, group, prefix
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", rc.Source, err)
	}
	return items, nil
}

// longestPrefix returns the longest of prefixes that key starts with, or "".
func longestPrefix(prefixes []string, key string) string {
	best := ""
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

// ItemPrefixes returns the distinct prefixes of an item's ranges: what a
// source needs to list to convert it (the pipeline filters keys by range).
func ItemPrefixes(item Item) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range item.Ranges {
		if !seen[r.Prefix] {
			seen[r.Prefix] = true
			out = append(out, r.Prefix)
		}
	}
	return out
}
