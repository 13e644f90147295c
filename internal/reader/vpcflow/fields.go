package vpcflow

import (
	"fmt"
	"strings"

	"convert/internal/schema"
)

// MaxFields bounds the fields of a format. AWS documents under 80; the bound
// keeps a hostile header from making thousands of columns.
const MaxFields = 256

// ParseFieldList parses a flow-log field list as a user gives it: either
// space-separated names ("version account-id ...") or AWS's log-format string
// ("${version} ${account-id} ..."). Commas also separate names.
func ParseFieldList(s string) ([]string, error) {
	s = strings.NewReplacer(",", " ", "\t", " ").Replace(s)
	var out []string
	for _, tok := range strings.Fields(s) {
		if strings.HasPrefix(tok, "${") {
			if !strings.HasSuffix(tok, "}") || len(tok) < 4 {
				return nil, fmt.Errorf("field list: malformed %q (want ${name})", tok)
			}
			tok = tok[2 : len(tok)-1]
		}
		if !isFieldName([]byte(tok)) {
			return nil, fmt.Errorf("field list: %q is not a field name", tok)
		}
		out = append(out, tok)
	}
	if len(out) > MaxFields {
		return nil, fmt.Errorf("field list: %d fields, more than %d", len(out), MaxFields)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("field list is empty")
	}
	return out, nil
}

// isFieldName reports whether b looks like a flow-log field name: a lowercase
// letter followed by lowercase letters, digits, '-' or '_'.
func isFieldName(b []byte) bool {
	if len(b) == 0 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b[1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// headerFields returns the fields of line if it is a header line: every token
// is name-shaped and at least half of them are documented fields. Data lines
// of custom formats can be all name-shaped (eni-…, i-…), but their values are
// not field names.
func headerFields(line []byte) ([]string, bool) {
	if len(line) == 0 || line[0] < 'a' || line[0] > 'z' {
		return nil, false
	}
	var fields []string
	known := map[string]bool{}
	for _, tok := range strings.Fields(string(line)) {
		if !isFieldName([]byte(tok)) || len(fields) == MaxFields {
			return nil, false
		}
		if _, ok := schema.LookupVPCField(tok); ok {
			known[tok] = true
		}
		fields = append(fields, tok)
	}
	// Distinct names count, so that repeating one known name cannot pass
	// off a line of unknown ones as a header.
	if len(known)*2 < len(fields) {
		return nil, false
	}
	return fields, true
}
