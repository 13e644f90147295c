package cloudtrail

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// A released reader's column set goes to the next reader even after garbage
// collections, which empty a sync.Pool.
func TestColumnsOutliveGC(t *testing.T) {
	read := func() *columns {
		rd, err := NewReader(bytes.NewReader([]byte(ev1+"\n"+ev2)), Config{Object: "x"})
		require.NoError(t, err)
		for rd.Next() {
		}
		require.NoError(t, rd.Err())
		c := rd.cols
		rd.Release()
		return c
	}
	c := read()
	runtime.GC()
	runtime.GC()
	rd, err := NewReader(bytes.NewReader(nil), Config{Object: "x"})
	require.NoError(t, err)
	defer rd.Release()
	require.Same(t, c, rd.cols)
}

// The sets kept across collections hold at most freeColumnsBytes.
func TestFreeColumnsBounded(t *testing.T) {
	// Start from an empty list, and leave it as it was.
	var saved []*columns
	for {
		freeColumns.Lock()
		n := len(freeColumns.sets)
		freeColumns.Unlock()
		if n == 0 {
			break
		}
		saved = append(saved, getColumns())
	}
	defer func() {
		for _, c := range saved {
			putColumns(c)
		}
	}()
	big := func() *columns {
		c := newColumns()
		c.top[0].data = make([]byte, 0, freeColumnsBytes/2+1)
		return c
	}
	a, b := big(), big()
	putColumns(a)
	putColumns(b)
	freeColumns.Lock()
	n, size := len(freeColumns.sets), freeColumns.bytes
	freeColumns.Unlock()
	require.Equal(t, 1, n)
	require.LessOrEqual(t, size, freeColumnsBytes)
	require.Same(t, a, getColumns())
	freeColumns.Lock()
	require.Zero(t, freeColumns.bytes)
	freeColumns.Unlock()
}
