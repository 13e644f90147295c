package s3access

import (
	"fmt"
	"strings"
	"testing"
)

// adversarialLines are access-log lines built to make the quote rules of
// splitLine try as many closing-quote candidates as the line allows, each
// candidate followed by as much of a plausible tail as it can be: if a rule
// rescanned the tail per candidate, the time per byte would grow with the
// line's length (a denial of service on one long line). size is the
// length of the repeated part.
func adversarialLines(size int) map[string]string {
	rep := func(unit string) string { return strings.Repeat(unit, max(1, size/len(unit))) }
	return map[string]string{
		// Request-URI: every `" ` a candidate whose next fields have the
		// shapes of status and error code, failing only at the byte counts.
		"uri-candidates": tHead + ` "GET /` + rep(`" 200 X" `) + `HTTP/1.1"` + tMiddle + tRefUA + tVersion + tTail24,
		// The same with long digit tokens (each scanned once per candidate
		// that reaches it).
		"uri-digits": tHead + ` "GET /` + rep(`" 200 - 5120 5120 12 x" `) + `HTTP/1.1"` + tMiddle + tRefUA + tVersion + tTail24,
		// Referrer: every `" ` followed by a quoted user agent that never
		// closes with a valid tail.
		"referrer-quoted-ua": tHead + " " + tURI + tMiddle + `"` + rep(`" "`) + `"` + tVersion + tTail24,
		// Referrer: every `" ` followed by a bare token, so the tail check
		// runs from the user agent on, up to the signature version.
		"referrer-bare-tail": tHead + " " + tURI + tMiddle + `"` + rep(`x" - v h SigX" `) + `"` + tVersion + tTail24,
		// User agent: candidates whose tails hold quote-free tokens up to a
		// wrong signature version.
		"ua-tail": tHead + " " + tURI + tMiddle + `"-" "` + rep(`a" v h Sig" `) + `"` + tVersion + tTail24,
		// No candidate at all: quotes never followed by a space.
		"no-candidates": tHead + ` "GET /` + rep(`""x`) + ` HTTP/1.1"` + tMiddle + tRefUA + tVersion + tTail24,
	}
}

// BenchmarkSplitLineAdversarial: ns per byte must stay flat from 4 KiB to
// 1 MiB lines (the reader's default --max-line-bytes) for every pattern;
// run with -bench SplitLineAdversarial and compare MB/s across sizes.
func BenchmarkSplitLineAdversarial(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		for name, line := range adversarialLines(size) {
			b.Run(fmt.Sprintf("%s/%dKiB", name, size>>10), func(b *testing.B) {
				l := []byte(line)
				b.SetBytes(int64(len(l)))
				b.ReportAllocs()
				var f fields
				for b.Loop() {
					_ = splitLine(l, &f)
				}
			})
		}
	}
}

// The adversarial lines split as the rules say, at a length where a
// quadratic rule would take minutes (1 MiB, the default line bound): the
// request-URI keeps its inner `" ` whole and the fields after it; the
// referrer and user-agent lines are ambiguous by design, and only need to
// parse.
func TestAdversarialLinesSplit(t *testing.T) {
	for name, line := range adversarialLines(1 << 20) {
		var f fields
		_, _, reason := parseLine([]byte(line), &f)
		if reason != "" {
			t.Fatalf("%s: rejected: %s", name, reason)
		}
		if strings.HasPrefix(name, "uri-") || name == "no-candidates" {
			if f.n != MandatoryFields+6 || string(f.v[fieldSigV]) != "SigV4" || string(f.v[fieldReferrer]) != "https://example.com/gallery" {
				t.Fatalf("%s: %d fields, signature version %q, referrer %q", name, f.n, f.v[fieldSigV], f.v[fieldReferrer])
			}
			uri := string(f.v[fieldRequestURI])
			if !strings.HasPrefix(uri, "GET /") || !strings.HasSuffix(uri, "HTTP/1.1") || len(uri) < 1<<20-16 {
				t.Fatalf("%s: request-URI cut short: %d bytes", name, len(uri))
			}
		}
	}
}
