package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// placeholderPattern matches the ${Name} placeholders a user fills in.
var placeholderPattern = regexp.MustCompile(`\$\{([A-Za-z]+)\}`)

// jsonFiles returns the JSON files under the deploy directory.
func jsonFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// decodeFile decodes one JSON value from path and requires that nothing follows it.
func decodeFile(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	require.NoError(t, dec.Decode(&v), "%s does not parse", path)
	require.False(t, dec.More(), "%s: data after the JSON value", path)
	return v
}

func TestEveryJSONFileParses(t *testing.T) {
	for _, path := range jsonFiles(t) {
		t.Run(path, func(t *testing.T) {
			_, ok := decodeFile(t, path).(map[string]any)
			require.True(t, ok, "%s: top level is not an object", path)
		})
	}
}

// TestPlaceholdersAreDocumented ties the files to README.md: every placeholder
// used is a row of its placeholder table, every documented one is used, and no ARN names a
// partition literally (China regions need arn:aws-cn:).
func TestPlaceholdersAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `\\$\\{([A-Za-z]+)\\}` \\|").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	used := map[string]bool{}
	for _, path := range jsonFiles(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, m := range placeholderPattern.FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = true
			require.True(t, documented[m[1]], "%s uses ${%s}, which README.md does not document", path, m[1])
		}
		require.False(t, strings.Contains(string(data), `"arn:aws:`), "%s: use arn:${Partition}: so the file works in aws-cn", path)
	}
	for name := range documented {
		require.True(t, used[name], "README.md documents ${%s}, which no file uses", name)
	}
}

// TestFilledForChina substitutes the placeholders as README.md's sed line does
// for cn-north-1 and checks that every ARN is then a complete aws-cn ARN.
func TestFilledForChina(t *testing.T) {
	values := map[string]string{
		"Partition": "aws-cn", "Region": "cn-north-1", "AccountId": "123456789012",
		"ImageUri":     "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/convert:1.0.0",
		"SourceBucket": "flow-logs-src", "SourcePrefix": "AWSLogs/",
		"OutputBucket": "flow-logs-parquet", "OutputPrefix": "flowlogs/",
		"Kind": "flowlogs", "Cluster": "convert", "TaskDefinition": "convert",
		"SubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1", "SecurityGroupIds": "sg-0123456789abcdef0",
		"AssignPublicIp": "DISABLED", "LogGroup": "/ecs/convert", "BackfillItemBytes": "2GiB",
		"SourceKmsKeyArn": "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"OutputKmsKeyArn": "arn:aws-cn:kms:cn-north-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab",
	}
	arnPattern := regexp.MustCompile(`^arn:aws-cn:[a-z0-9-]+:(cn-north-1)?:(123456789012|aws)?:\S+$`)
	for _, path := range jsonFiles(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		filled := placeholderPattern.ReplaceAllStringFunc(string(data), func(p string) string {
			v, ok := values[p[2:len(p)-1]]
			require.True(t, ok, "%s: no test value for %s", path, p)
			return v
		})
		var v any
		require.NoError(t, json.Unmarshal([]byte(filled), &v), "%s after filling", path)
		walkStrings(v, func(s string) {
			if strings.HasPrefix(s, "arn:") {
				require.Regexp(t, arnPattern, s, "%s", path)
			}
		})
	}
}

func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, e := range v {
			walkStrings(e, fn)
		}
	case map[string]any:
		for _, e := range v {
			walkStrings(e, fn)
		}
	}
}

func TestStateMachines(t *testing.T) {
	machines, err := filepath.Glob("*.asl.json")
	require.NoError(t, err)
	require.Len(t, machines, 2)
	for _, path := range machines {
		t.Run(path, func(t *testing.T) {
			def := decodeFile(t, path).(map[string]any)
			checkScope(t, path, def, stringField(def, "QueryLanguage", "JSONPath"))
		})
	}
}

// checkScope checks one StartAt/States scope (a state machine, a Map's
// ItemProcessor or a Parallel branch): every transition names a state of the
// scope, every state is reachable from StartAt, and from every state an end
// (End, Succeed or Fail) is reachable.
func checkScope(t *testing.T, where string, scope map[string]any, language string) {
	t.Helper()
	states, ok := scope["States"].(map[string]any)
	require.True(t, ok, "%s: no States", where)
	startAt, _ := scope["StartAt"].(string)
	_, ok = states[startAt]
	require.True(t, ok, "%s: StartAt %q is not a state", where, startAt)

	next := map[string][]string{}
	ends := map[string]bool{}
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		at := where + ": " + name
		st, ok := states[name].(map[string]any)
		require.True(t, ok, "%s: not an object", at)
		lang := stringField(st, "QueryLanguage", language)
		checkFields(t, at, st, lang)
		typ, _ := st["Type"].(string)
		var targets []string
		if n, ok := st["Next"].(string); ok {
			targets = append(targets, n)
		}
		end, _ := st["End"].(bool)
		switch typ {
		case "Succeed", "Fail":
			require.Empty(t, targets, "%s: a %s state has no Next", at, typ)
			ends[name] = true
		case "Choice":
			require.False(t, end, "%s: a Choice state cannot End", at)
			choices, _ := st["Choices"].([]any)
			require.NotEmpty(t, choices, "%s: no Choices", at)
			for _, c := range choices {
				n, _ := c.(map[string]any)["Next"].(string)
				targets = append(targets, n)
			}
			if d, ok := st["Default"].(string); ok {
				targets = append(targets, d)
			}
		case "Task", "Pass", "Wait", "Map", "Parallel":
			require.True(t, (len(targets) == 1) != end, "%s: needs exactly one of Next or End", at)
			ends[name] = end
		default:
			require.Failf(t, "unknown state type", "%s: Type %q", at, typ)
		}
		for _, c := range listField(st, "Catch") {
			n, _ := c.(map[string]any)["Next"].(string)
			targets = append(targets, n)
			require.NotEmpty(t, listField(c.(map[string]any), "ErrorEquals"), "%s: Catch without ErrorEquals", at)
		}
		for _, r := range listField(st, "Retry") {
			require.NotEmpty(t, listField(r.(map[string]any), "ErrorEquals"), "%s: Retry without ErrorEquals", at)
		}
		for _, n := range targets {
			_, ok := states[n]
			require.True(t, ok, "%s: transition to %q, which is not a state here", at, n)
		}
		next[name] = targets

		if typ == "Task" {
			res, _ := st["Resource"].(string)
			require.True(t, strings.HasPrefix(res, "arn:${Partition}:states:::"), "%s: Resource %q", at, res)
		}
		if typ == "Map" {
			proc, ok := st["ItemProcessor"].(map[string]any)
			require.True(t, ok, "%s: Map without ItemProcessor", at)
			checkScope(t, at, proc, lang)
		}
		for i, b := range listField(st, "Branches") {
			checkScope(t, fmt.Sprintf("%s branch %d", at, i), b.(map[string]any), lang)
		}
	}

	reachable := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if reachable[n] {
			return
		}
		reachable[n] = true
		for _, m := range next[n] {
			visit(m)
		}
	}
	visit(startAt)
	for _, name := range names {
		require.True(t, reachable[name], "%s: state %q cannot be reached from %q", where, name, startAt)
		require.True(t, reachesEnd(name, next, ends, map[string]bool{}), "%s: no end can be reached from %q", where, name)
	}
}

func reachesEnd(n string, next map[string][]string, ends, seen map[string]bool) bool {
	if ends[n] {
		return true
	}
	if seen[n] {
		return false
	}
	seen[n] = true
	for _, m := range next[n] {
		if reachesEnd(m, next, ends, seen) {
			return true
		}
	}
	return false
}

// checkFields catches the mistakes the service would reject at creation or
// at run time: JSONPath fields in a JSONata state (and the reverse), and a
// path or intrinsic without ".$" on its key (or ".$" on a plain value).
func checkFields(t *testing.T, at string, st map[string]any, lang string) {
	t.Helper()
	jsonPathOnly := []string{"Parameters", "InputPath", "OutputPath", "ResultPath", "ResultSelector", "ItemsPath"}
	jsonataOnly := []string{"Arguments", "Output", "Assign"}
	switch lang {
	case "JSONata":
		for _, f := range jsonPathOnly {
			_, has := st[f]
			require.False(t, has, "%s: %s in a JSONata state", at, f)
		}
		walkStrings(st, func(s string) {
			if strings.Contains(s, "{%") {
				require.True(t, strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}"), "%s: %q", at, s)
			}
		})
	case "JSONPath":
		for _, f := range jsonataOnly {
			_, has := st[f]
			require.False(t, has, "%s: %s in a JSONPath state", at, f)
		}
		for _, f := range []string{"Parameters", "ItemSelector", "ResultSelector"} {
			if p, ok := st[f]; ok {
				checkPayloadTemplate(t, at+" "+f, p)
			}
		}
		if r, ok := st["ItemReader"].(map[string]any); ok {
			checkPayloadTemplate(t, at+" ItemReader", r["Parameters"])
		}
	default:
		require.Failf(t, "unknown QueryLanguage", "%s: %q", at, lang)
	}
}

func checkPayloadTemplate(t *testing.T, at string, v any) {
	t.Helper()
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			checkPayloadTemplate(t, at, e)
		}
	case map[string]any:
		for k, e := range v {
			s, isString := e.(string)
			if strings.HasSuffix(k, ".$") {
				require.True(t, isString && (strings.HasPrefix(s, "$") || strings.HasPrefix(s, "States.")),
					"%s: %s is not a path or an intrinsic: %v", at, k, e)
				continue
			}
			if isString {
				require.False(t, strings.HasPrefix(s, "$.") || strings.HasPrefix(s, "$$.") || strings.HasPrefix(s, "States."),
					"%s: %s looks like a path or intrinsic but its key has no .$", at, k)
			}
			checkPayloadTemplate(t, at+"."+k, e)
		}
	}
}

func stringField(m map[string]any, key, def string) string {
	if s, ok := m[key].(string); ok {
		return s
	}
	return def
}

func listField(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

// TestFilesAgree checks the names that tie the files together: the task
// definition's family, container and roles are the ones the state machines
// run and override, the state machine role may run and pass, and the Batch
// job definition uses.
func TestFilesAgree(t *testing.T) {
	taskDef := decodeFile(t, "ecs-task-definition.json").(map[string]any)
	family := taskDef["family"].(string)
	taskRole, execRole := taskDef["taskRoleArn"].(string), taskDef["executionRoleArn"].(string)
	containers := listField(taskDef, "containerDefinitions")
	require.Len(t, containers, 1)
	container := containers[0].(map[string]any)
	require.Equal(t, true, container["readonlyRootFilesystem"])
	require.Equal(t, "65532:65532", container["user"], "the image's non-root user")

	machines, err := filepath.Glob("*.asl.json")
	require.NoError(t, err)
	tasks := 0
	for _, path := range machines {
		walkObjects(decodeFile(t, path), func(o map[string]any) {
			if res, _ := o["Resource"].(string); strings.HasSuffix(res, ":ecs:runTask.sync") {
				tasks++
				params := o["Parameters"].(map[string]any)
				require.Equal(t, "${TaskDefinition}", params["TaskDefinition"], "%s: README: ${TaskDefinition} is the family %s", path, family)
				require.Equal(t, "FARGATE", params["LaunchType"], "%s", path)
				for _, co := range listField(params["Overrides"].(map[string]any), "ContainerOverrides") {
					require.Equal(t, container["name"], co.(map[string]any)["Name"], "%s", path)
				}
			}
		})
	}
	require.Equal(t, 7, tasks, "daily convert and its last try; backfill plan, item (each with a last try) and verify")

	policy := decodeFile(t, "iam-state-machine-role-policy.json").(map[string]any)
	statements := map[string]map[string]any{}
	for _, s := range listField(policy, "Statement") {
		st := s.(map[string]any)
		statements[st["Sid"].(string)] = st
	}
	require.Equal(t, "arn:${Partition}:ecs:${Region}:${AccountId}:task-definition/"+family+":*", statements["RunConvertTasks"]["Resource"])
	require.ElementsMatch(t, []any{taskRole, execRole}, statements["PassTaskRoles"]["Resource"])

	batch := decodeFile(t, "batch-job-definition.json").(map[string]any)
	props := batch["containerProperties"].(map[string]any)
	require.Equal(t, taskRole, props["jobRoleArn"])
	require.Equal(t, execRole, props["executionRoleArn"])
	require.Equal(t, container["image"], props["image"])
}

func walkObjects(v any, fn func(map[string]any)) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			walkObjects(e, fn)
		}
	case map[string]any:
		fn(v)
		for _, e := range v {
			walkObjects(e, fn)
		}
	}
}

func TestIAMPolicies(t *testing.T) {
	policies, err := filepath.Glob("iam-*.json")
	require.NoError(t, err)
	require.NotEmpty(t, policies)
	action := regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z*]+$`)
	for _, path := range policies {
		doc := decodeFile(t, path).(map[string]any)
		require.Equal(t, "2012-10-17", doc["Version"], "%s", path)
		sids := map[string]bool{}
		for _, s := range listField(doc, "Statement") {
			st := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			require.NotEmpty(t, sid, "%s: a statement without Sid", path)
			require.False(t, sids[sid], "%s: Sid %s twice", path, sid)
			sids[sid] = true
			require.Equal(t, "Allow", st["Effect"], "%s %s", path, sid)
			for _, a := range stringOrList(st["Action"]) {
				require.Regexp(t, action, a, "%s %s", path, sid)
				require.NotContains(t, a, "*", "%s %s: least privilege: no wildcard actions", path, sid)
			}
			resources := stringOrList(st["Resource"])
			require.NotEmpty(t, resources, "%s %s", path, sid)
			for _, r := range resources {
				require.NotEqual(t, "*", r, "%s %s: least privilege: no Resource *", path, sid)
			}
		}
	}
}

func stringOrList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}
