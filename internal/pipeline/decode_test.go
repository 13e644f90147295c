package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"convert/internal/storage"
)

// TestDecodeStopsRejectsOnceTheUnitIsGone: when the unit stops taking
// messages while a reader rejects line after line inside one Next (a file of
// garbage), decode hands over no more rejects and ends with the object:
// rejects are not copied and sent, only to fail, for the rest of the file.
func TestDecodeStopsRejectsOnceTheUnitIsGone(t *testing.T) {
	dir := t.TempDir()
	lines := 10 * rejectsPerMessage
	data := strings.Repeat("not an access log line\n", lines)
	if err := os.WriteFile(filepath.Join(dir, "garbage.log"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: Config{Kind: &S3Access{}, Source: &storage.LocalSource{Root: dir}, Mem: memory.DefaultAllocator}}
	var o *object
	if err := selectionOf(r.cfg, nil).list(context.Background(), func(ob object) error { o = &ob; return nil }); err != nil || o == nil {
		t.Fatalf("listing: %v", err)
	}

	calls, rejects := 0, 0
	r.decode(context.Background(), o, func(m message) bool {
		calls++
		rejects += len(m.rejects)
		m.release()
		return false // the unit is gone
	})
	// One message of rejects (refused) and the object's end.
	if calls != 2 || rejects != rejectsPerMessage {
		t.Fatalf("emit called %d times with %d rejects; want 2 calls (a refused batch of rejects, the end) and %d rejects", calls, rejects, rejectsPerMessage)
	}

	// The same object to a unit that takes everything: every line is a reject.
	rejects = 0
	r.decode(context.Background(), o, func(m message) bool {
		rejects += len(m.rejects)
		m.release()
		return true
	})
	if rejects != lines {
		t.Fatalf("%d rejects, want %d", rejects, lines)
	}
}
