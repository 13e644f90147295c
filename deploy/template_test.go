package deploy

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// stack resolves the parts of convert.yaml the tests look into, as
// CloudFormation would for the given parameters: !Ref, !Sub, !If, !Join,
// !Equals, !Not and !GetAtt (as "Logical.Attr") over parameters, pseudo
// parameters and resources (a resource's Ref is its logical id, or the name
// given in names).
type stack struct {
	root       map[string]*yaml.Node
	params     map[string]string
	lists      map[string][]string
	names      map[string]string // resource logical id → what its Ref is
	conditions map[string]bool
}

func loadStack(t *testing.T, params map[string]string, pseudo map[string]string, names map[string]string) *stack {
	t.Helper()
	data, err := os.ReadFile("convert.yaml")
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc))
	s := &stack{root: mapping(doc.Content[0]), params: map[string]string{}, lists: map[string][]string{}, names: names, conditions: map[string]bool{}}
	for k, v := range pseudo {
		s.params[k] = v
	}
	for name, p := range mapping(s.root["Parameters"]) {
		def := mapping(p)
		v, given := params[name]
		if !given && def["Default"] != nil {
			v = def["Default"].Value
		}
		if !given && def["Default"] == nil {
			require.Failf(t, "parameter without default", "%s needs a value", name)
		}
		if typ := def["Type"].Value; strings.HasPrefix(typ, "List<") || typ == "CommaDelimitedList" {
			if v != "" {
				s.lists[name] = strings.Split(v, ",")
			} else {
				s.lists[name] = []string{""}
			}
		}
		s.params[name] = v
	}
	for name, c := range mapping(s.root["Conditions"]) {
		s.conditions[name] = s.resolve(t, c).(bool)
	}
	return s
}

func mapping(n *yaml.Node) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i+1]
	}
	return m
}

// resource returns a resource's Properties, resolved.
func (s *stack) resource(t *testing.T, logicalID string) map[string]any {
	t.Helper()
	r := mapping(s.root["Resources"])[logicalID]
	require.NotNil(t, r, "no resource %s", logicalID)
	props, _ := s.resolve(t, mapping(r)["Properties"]).(map[string]any)
	return props
}

// resourcesOfType returns the logical ids of the resources of a type whose
// condition holds.
func (s *stack) resourcesOfType(typ string) []string {
	var ids []string
	res := s.root["Resources"]
	for i := 0; i+1 < len(res.Content); i += 2 {
		r := mapping(res.Content[i+1])
		if r["Type"].Value != typ {
			continue
		}
		if c := r["Condition"]; c != nil && !s.conditions[c.Value] {
			continue
		}
		ids = append(ids, res.Content[i].Value)
	}
	return ids
}

var subVar = regexp.MustCompile(`\$\{(!?)([A-Za-z0-9:.]+)\}`)

func (s *stack) ref(t *testing.T, name string) any {
	t.Helper()
	if l, ok := s.lists[name]; ok {
		out := make([]any, len(l))
		for i, v := range l {
			out[i] = v
		}
		return out
	}
	if v, ok := s.params[name]; ok {
		return v
	}
	if name == "AWS::NoValue" {
		return noValue{}
	}
	if v, ok := s.names[name]; ok {
		return v
	}
	require.Contains(t, mapping(s.root["Resources"]), name, "!Ref %s", name)
	return name
}

type noValue struct{}

func (s *stack) resolve(t *testing.T, n *yaml.Node) any {
	t.Helper()
	switch n.Tag {
	case "!Ref":
		return s.ref(t, n.Value)
	case "!Sub":
		var vars map[string]any
		text := n.Value
		if n.Kind == yaml.SequenceNode {
			text = n.Content[0].Value
			vars, _ = s.resolve(t, n.Content[1]).(map[string]any)
		}
		return subVar.ReplaceAllStringFunc(text, func(m string) string {
			g := subVar.FindStringSubmatch(m)
			if g[1] == "!" {
				return "${" + g[2] + "}"
			}
			if v, ok := vars[g[2]]; ok {
				return fmt.Sprint(v)
			}
			if name, attr, ok := strings.Cut(g[2], "."); ok {
				return s.names[name+"."+attr]
			}
			v := s.ref(t, g[2])
			str, ok := v.(string)
			require.True(t, ok, "${%s} in !Sub is not a string", g[2])
			return str
		})
	case "!GetAtt":
		key := n.Value
		if n.Kind == yaml.SequenceNode {
			key = n.Content[0].Value + "." + n.Content[1].Value
		}
		return s.names[key]
	case "!If":
		if s.conditions[n.Content[0].Value] {
			return s.resolve(t, n.Content[1])
		}
		return s.resolve(t, n.Content[2])
	case "!Join":
		sep := n.Content[0].Value
		parts, _ := s.resolve(t, n.Content[1]).([]any)
		strs := make([]string, len(parts))
		for i, p := range parts {
			strs[i] = fmt.Sprint(p)
		}
		return strings.Join(strs, sep)
	case "!Equals":
		return fmt.Sprint(s.resolve(t, n.Content[0])) == fmt.Sprint(s.resolve(t, n.Content[1]))
	case "!Not":
		return !s.resolve(t, n.Content[0]).(bool)
	case "!And":
		all := true
		for _, c := range n.Content {
			all = all && s.resolve(t, c).(bool)
		}
		return all
	case "!Condition":
		return s.conditions[n.Value]
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := s.resolve(t, n.Content[i+1]); v != (noValue{}) {
				m[n.Content[i].Value] = v
			}
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			if v := s.resolve(t, c); v != (noValue{}) {
				l = append(l, v)
			}
		}
		return l
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!bool":
			return n.Value == "true"
		case "!!int":
			var i int64
			fmt.Sscan(n.Value, &i)
			return i
		}
		return n.Value
	case yaml.AliasNode:
		return s.resolve(t, n.Alias)
	}
	require.Failf(t, "unresolved node", "line %d: tag %s", n.Line, n.Tag)
	return nil
}
