package main

import (
	"strings"
	"testing"

	"convert/internal/pipeline"
)

// TestEveryKindHasACommand: every registered pipeline kind has its command
// line, complete, and is named in the usage summary; no command is left of a
// kind the pipeline does not register.
func TestEveryKindHasACommand(t *testing.T) {
	seen := map[kindName]bool{}
	for _, k := range pipeline.Kinds() {
		name := kindName(k.Name())
		seen[name] = true
		c := kindCommands[name]
		if c == nil {
			t.Errorf("kind %s has no kindCommand", name)
			continue
		}
		if c.register == nil || c.configure == nil || c.ddl == nil || c.generate == nil {
			t.Errorf("kind %s: kindCommand incomplete", name)
		}
		d := c.Description
		if d.Name != k.Name() || d.Title == "" || d.Table == "" || d.Resource == "" || d.Schema == nil || len(d.Partitions) == 0 {
			t.Errorf("kind %s: description incomplete: %+v", name, d)
		}
		if !strings.Contains(usageSummary, "convert "+string(name)+" --in") {
			t.Errorf("the usage summary does not show convert %s", name)
		}
		if nearestCommand(string(name)) != string(name) {
			t.Errorf("%s is not a command", name)
		}
	}
	for name := range kindCommands {
		if !seen[name] {
			t.Errorf("kindCommand %s has no pipeline kind", name)
		}
	}
}
