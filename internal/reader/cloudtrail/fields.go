package cloudtrail

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"convert/internal/schema"
)

// This file turns schema.CloudTrailSchema into the tables the decoder walks:
// one level per JSON object the table maps (the record, useridentity, its
// nested structs, a resources element, addendum, tlsdetails), each with its
// known member names. Deriving them from the schema keeps the two in step.

type fieldKind uint8

const (
	kindString    fieldKind = iota // a string column
	kindJSON                       // a string column holding JSON text
	kindStruct                     // a struct column: an object decoded by a child level
	kindResources                  // resources: list<struct>, elements decoded by a child level
	kindMap                        // map<string,string>
)

// field is one known member of a JSON object.
type field struct {
	name  string // column name: the member name, lowercase
	kind  fieldKind
	bit   uint   // index among the level's fields, for duplicate detection
	slot  int    // kindString/kindJSON: value slot; kindMap: map slot
	child *level // kindStruct, kindResources: the level of the object
}

// level is one mapped JSON object.
type level struct {
	id     int // index in levels.all; also the struct's presence slot
	path   string
	fields []field
	// table maps nameHash(name, seed) to the field's index + 1: a perfect
	// hash of the level's names (seed is chosen so that none collide), small
	// enough to stay in cache. A key is compared with one name at most.
	table [hashSlots]uint8
	seed  uint32
	// slots is the number of value slots of a resources element level
	// (elements keep their own values); other levels use the record's slots.
	slots int
	// keyBase is the first of the level's positions in a keyMemory: the
	// positions of the levels before it, len(fields)+2 each.
	keyBase int
}

// levels is the whole decoding plan.
type levels struct {
	root      *level
	all       []*level
	nSlots    int // value slots of the record, outside resources elements
	nMaps     int
	resources *level // the level of a resources element
}

// find returns the field whose name equals k ASCII case-insensitively.
func (l *level) find(k []byte) *field {
	if len(k) == 0 {
		return nil
	}
	i := l.table[nameHash(k, l.seed)]
	if i == 0 {
		return nil
	}
	f := &l.fields[i-1]
	if len(f.name) != len(k) || !foldEqual(k, f.name) {
		return nil
	}
	return f
}

const hashSlots = 256

// nameHash hashes a name (FNV-1a from seed) with every byte folded to lower
// case, so that ASCII case variants of a name hash alike.
func nameHash(k []byte, seed uint32) uint8 {
	h := seed
	for _, c := range k {
		h = (h ^ uint32(c|0x20)) * 16777619
	}
	return uint8(h >> 24)
}

// perfectHash finds a seed for which the names do not collide.
func (l *level) perfectHash() error {
	for seed := uint32(2166136261); seed < 2166136261+1<<20; seed++ {
		var table [hashSlots]uint8
		ok := true
		for i := range l.fields {
			h := nameHash([]byte(l.fields[i].name), seed)
			if table[h] != 0 {
				ok = false
				break
			}
			table[h] = uint8(i + 1)
		}
		if ok {
			l.table, l.seed = table, seed
			return nil
		}
	}
	return fmt.Errorf("cloudtrail: no perfect hash for level %q", l.path)
}

// foldEqual reports whether k equals name, a lowercase column name, with
// ASCII letters compared case-insensitively.
func foldEqual(k []byte, name string) bool {
	for i := 0; i < len(k); i++ {
		c, n := k[i], name[i]
		if c != n && (c|0x20 != n || n < 'a' || n > 'z') {
			return false
		}
	}
	return true
}

var plan = mustBuildPlan(schema.CloudTrailSchema())

func mustBuildPlan(sc *arrow.Schema) *levels {
	p, err := buildPlan(sc)
	if err != nil {
		panic(err)
	}
	return p
}

func buildPlan(sc *arrow.Schema) (*levels, error) {
	p := &levels{}
	var fields []arrow.Field
	for _, f := range sc.Fields() {
		if f.Name != schema.CloudTrailUnmappedColumn {
			fields = append(fields, f)
		}
	}
	root, err := p.newLevel("", fields, false)
	if err != nil {
		return nil, err
	}
	p.root = root
	return p, nil
}

func (p *levels) newLevel(path string, fields []arrow.Field, ownSlots bool) (*level, error) {
	l := &level{id: len(p.all), path: path}
	if len(p.all) > 0 {
		prev := p.all[len(p.all)-1]
		l.keyBase = prev.keyBase + len(prev.fields) + 2
	}
	p.all = append(p.all, l)
	if len(fields) > 64 {
		return nil, fmt.Errorf("cloudtrail: level %q has %d fields, more than 64", path, len(fields))
	}
	l.fields = make([]field, len(fields))
	for i, af := range fields {
		f := &l.fields[i]
		f.name, f.bit = af.Name, uint(i)
		childPath := af.Name
		if path != "" {
			childPath = path + "." + af.Name
		}
		switch t := af.Type.(type) {
		case *arrow.StringType:
			f.kind = kindString
			if path == "" && slices.Contains(schema.CloudTrailJSONColumns, af.Name) {
				f.kind = kindJSON
			}
			if ownSlots {
				f.slot = l.slots
				l.slots++
			} else {
				f.slot = p.nSlots
				p.nSlots++
			}
		case *arrow.StructType:
			f.kind = kindStruct
			child, err := p.newLevel(childPath, t.Fields(), ownSlots)
			if err != nil {
				return nil, err
			}
			f.child = child
		case *arrow.ListType:
			st, ok := t.Elem().(*arrow.StructType)
			if !ok || p.resources != nil || ownSlots {
				return nil, fmt.Errorf("cloudtrail: unsupported list column %s", childPath)
			}
			f.kind = kindResources
			child, err := p.newLevel(childPath+"[]", st.Fields(), true)
			if err != nil {
				return nil, err
			}
			f.child = child
			p.resources = child
		case *arrow.MapType:
			if ownSlots {
				return nil, fmt.Errorf("cloudtrail: unsupported map column %s", childPath)
			}
			f.kind = kindMap
			f.slot = p.nMaps
			p.nMaps++
		default:
			return nil, fmt.Errorf("cloudtrail: unsupported column type %s of %s", af.Type, childPath)
		}
	}
	if err := l.perfectHash(); err != nil {
		return nil, err
	}
	return l, nil
}
