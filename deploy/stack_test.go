package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"convert/internal/report"
	"convert/internal/schema"
)

// The example deployment the tests create: README's one command, in China.
var exampleParams = map[string]string{
	"Kind": "flowlogs", "SourceBucket": "my-flow-logs", "OutputBucket": "my-flow-logs-parquet", "OutputPrefix": "flowlogs/",
	"ImageUri":  "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/convert:1.0.0",
	"SubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1", "SecurityGroupIds": "sg-0123456789abcdef0",
	"AlarmEmail": "ops@example.com",
}

// classifiedParams turn on classification (flow logs).
var classifiedParams = map[string]string{"VpcCidrs": "10.0.0.0/16,100.64.0.0/16,2600:1f18:a:b00::/56",
	"NatGatewayEnis": "eni-0123456789abcdef0", "AwsIpRanges": "s3://my-flow-logs/ip-ranges/ip-ranges.json"}

func withParams(over map[string]string) map[string]string {
	p := map[string]string{}
	for k, v := range exampleParams {
		p[k] = v
	}
	for k, v := range over {
		p[k] = v
	}
	return p
}

func chinaPseudo(stackName string) map[string]string {
	return map[string]string{"AWS::Partition": "aws-cn", "AWS::Region": "cn-north-1", "AWS::AccountId": "123456789012",
		"AWS::StackName": stackName, "AWS::URLSuffix": "amazonaws.com.cn"}
}

// kinds are the tables, their schemas and the named queries of each kind.
var kinds = map[string]struct {
	table, resource string
	cfg             schema.DDLConfig
	queries         int
}{
	"flowlogs": {"flow_logs_parquet", "FlowLogsTable",
		schema.DDLConfig{Schema: schema.VPCFullSchema(), Partitions: []string{"year", "month", "day"}, Projection: true}, 1},
	"s3access": {"s3_access_logs_parquet", "S3AccessTable",
		schema.DDLConfig{Schema: schema.S3AccessSchema(), Partitions: []string{"year", "month", "day"}, Projection: true}, 2},
	"cloudtrail": {"cloudtrail_logs_parquet", "CloudTrailTable",
		schema.DDLConfig{Schema: schema.CloudTrailSchema(), Partitions: []string{"account", "region", "year", "month", "day"},
			Projection: true, InjectedPartitions: []string{"account", "region"}}, 4},
}

// TestTemplate checks convert.yaml offline, resolved for each kind as
// CloudFormation would: the one table of the kind, with the writer's
// columns and a projection template under the output location; the named
// queries of the kind, on that table; the substitutions of the state
// machines cover every placeholder of their ASL files.
func TestTemplate(t *testing.T) {
	for kind, k := range kinds {
		t.Run(kind, func(t *testing.T) {
			s := loadStack(t, withParams(map[string]string{"Kind": kind}), chinaPseudo("convert-"+kind), map[string]string{"GlueDatabase": "convert_" + kind})
			tables := s.resourcesOfType("AWS::Glue::Table")
			require.Equal(t, []string{k.resource}, tables)
			input := s.resource(t, k.resource)["TableInput"].(map[string]any)
			k.cfg.Table = k.table
			want, err := schema.GlueTableOf(k.cfg)
			require.NoError(t, err)
			require.Equal(t, k.table, input["Name"])
			sd := input["StorageDescriptor"].(map[string]any)
			require.Equal(t, "s3://my-flow-logs-parquet/flowlogs/", sd["Location"])
			require.Equal(t, glueColumns(want.Columns), sd["Columns"])
			require.Equal(t, glueColumns(want.PartitionKeys), input["PartitionKeys"])
			params := input["Parameters"].(map[string]any)
			require.Equal(t, "s3://my-flow-logs-parquet/flowlogs/"+want.LocationTemplate, params["storage.location.template"])
			for _, p := range want.Parameters {
				require.Equal(t, p.Value, params[p.Key], p.Key)
			}
			require.Len(t, params, len(want.Parameters)+1)

			queries := s.resourcesOfType("AWS::Athena::NamedQuery")
			require.Len(t, queries, k.queries)
			for _, q := range queries {
				sql := s.resource(t, q)["QueryString"].(string)
				require.Contains(t, sql, "FROM "+k.table+"\n", q)
				require.Contains(t, sql, "year = date_format(current_date - interval '1' day, '%Y')", q)
				if kind == "cloudtrail" {
					require.Contains(t, sql, "account = '123456789012' AND region = 'cn-north-1'", "%s: injected partitions need literals", q)
				}
			}
		})
	}

	// Classified flow logs (VpcCidrs set): the conversion gets the
	// classification flags, the table its columns, and the saved queries
	// convert report's classification tables.
	s := loadStack(t, withParams(classifiedParams), chinaPseudo("convert-flowlogs"), map[string]string{"GlueDatabase": "convert_flowlogs"})
	require.Equal(t, []string{"FlowLogsClassifiedTable"}, s.resourcesOfType("AWS::Glue::Table"))
	cfg := kinds["flowlogs"].cfg
	cfg.Table, cfg.Schema = "flow_logs_parquet", schema.WithVPCClassification(cfg.Schema)
	want, err := schema.GlueTableOf(cfg)
	require.NoError(t, err)
	input := s.resource(t, "FlowLogsClassifiedTable")["TableInput"].(map[string]any)
	require.Equal(t, glueColumns(want.Columns), input["StorageDescriptor"].(map[string]any)["Columns"])
	queries := s.resourcesOfType("AWS::Athena::NamedQuery")
	require.Equal(t, []string{"TopTalkersQuery", "InternetByInternalAddrQuery", "NatTopContributorsQuery", "NatAwsServiceQuery", "BytesPerDayClassQuery"}, queries)
	reportSQL, err := report.Queries(report.FlowLogs, yesterday, report.DefaultTop)
	require.NoError(t, err)
	for _, q := range queries[1:] {
		sql := s.resource(t, q)["QueryString"].(string)
		require.True(t, slices.ContainsFunc(reportSQL, func(r report.Query) bool { return r.SQL+"\n" == sql }), "%s is not a report table's SQL", q)
	}
	env := map[string]any{}
	for _, e := range s.resource(t, "TaskDefinition")["ContainerDefinitions"].([]any)[0].(map[string]any)["Environment"].([]any) {
		e := e.(map[string]any)
		env[e["Name"].(string)] = e["Value"]
	}
	require.Equal(t, "true", env["CONVERT_CLASSIFY"])
	require.Equal(t, classifiedParams["VpcCidrs"], env["CONVERT_VPC_CIDRS"])
	require.Equal(t, classifiedParams["NatGatewayEnis"], env["CONVERT_NAT_GATEWAY_ENIS"])
	require.Equal(t, classifiedParams["AwsIpRanges"], env["CONVERT_AWS_IP_RANGES"])
	// Without VpcCidrs, none of it.
	s = loadStack(t, exampleParams, chinaPseudo("convert-flowlogs"), nil)
	for _, e := range s.resource(t, "TaskDefinition")["ContainerDefinitions"].([]any)[0].(map[string]any)["Environment"].([]any) {
		require.NotContains(t, e.(map[string]any)["Name"], "CLASSIFY")
	}
	for machine, file := range map[string]string{"DailyStateMachine": "state-machine-daily.asl.json", "BackfillStateMachine": "state-machine-backfill.asl.json"} {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		used := map[string]bool{}
		for _, m := range placeholderPattern.FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = true
		}
		subs := s.resource(t, machine)["DefinitionSubstitutions"].(map[string]any)
		given := map[string]bool{}
		for k := range subs {
			given[k] = true
		}
		require.Equal(t, used, given, "%s: DefinitionSubstitutions and the placeholders of %s", machine, file)
		require.Equal(t, "subnet-0123456789abcdef0,subnet-0123456789abcdef1", subs["SubnetIds"])
	}
	// The optional parts: Batch with its own log group, KMS key lists.
	s = loadStack(t, withParams(map[string]string{"EnableBatch": "true", "SourceKmsKeyArns": "arn:aws-cn:kms:cn-north-1:123456789012:key/a",
		"OutputKmsKeyArns": "arn:aws-cn:kms:cn-north-1:123456789012:key/b,arn:aws-cn:kms:cn-north-1:123456789012:key/c"}),
		chinaPseudo("convert-flowlogs"), map[string]string{"BatchLogGroup": "/aws/batch/convert-flowlogs"})
	require.Equal(t, "/aws/batch/convert-flowlogs", s.resource(t, "BatchLogGroup")["LogGroupName"])
	job := s.resource(t, "BatchJobDefinition")
	props := job["ContainerProperties"].(map[string]any)
	require.Equal(t, "/aws/batch/convert-flowlogs", props["LogConfiguration"].(map[string]any)["Options"].(map[string]any)["awslogs-group"])
	require.Equal(t, []any{"Ref::kind", "--plan", "Ref::plan"}, props["Command"])
	require.Equal(t, []any{map[string]any{"OnExitCode": "75", "Action": "RETRY"}, map[string]any{"OnExitCode": "*", "Action": "EXIT"}},
		job["RetryStrategy"].(map[string]any)["EvaluateOnExit"], "Batch retries only exit status 75 and stops without one")
	statements := s.resource(t, "TaskRole")["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	require.Len(t, statements, 6)
	require.Equal(t, []any{"arn:aws-cn:kms:cn-north-1:123456789012:key/a"}, statements[4].(map[string]any)["Resource"])
	require.Equal(t, []any{"arn:aws-cn:kms:cn-north-1:123456789012:key/b", "arn:aws-cn:kms:cn-north-1:123456789012:key/c"}, statements[5].(map[string]any)["Resource"])
	s = loadStack(t, exampleParams, chinaPseudo("convert-flowlogs"), nil)
	require.Empty(t, s.resourcesOfType("AWS::Batch::JobDefinition"))
	require.Len(t, s.resource(t, "TaskRole")["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"], 4)

	data, err := os.ReadFile("convert.yaml")
	require.NoError(t, err)
	require.NotRegexp(t, `Service: .*amazonaws\.com\.cn`, string(data), "service principals are amazonaws.com in aws-cn too")
	require.NotContains(t, string(data), "arn:aws:", "ARNs are built on ${AWS::Partition}")
}

func glueColumns(cols []schema.GlueColumn) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = map[string]any{"Name": c.Name, "Type": c.Type}
	}
	return out
}

// requireTool finds a command-line tool for the tests that run third-party
// tools. They run with CONVERT_DEPLOY_TOOLS=1 (.ci/run's deploy step sets
// it), and then a missing tool fails the test; otherwise they are skipped,
// so that the whole suite under -race does not run them a second time.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	if os.Getenv("CONVERT_DEPLOY_TOOLS") != "1" {
		t.Skip("set CONVERT_DEPLOY_TOOLS=1 to run cfn-lint, asl-validator and moto_server (.ci/run does)")
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH (CONVERT_DEPLOY_TOOLS=1 requires it; .ci/run installs or checks it)", name)
	}
	return p
}

func runTool(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestCfnLint lints the template for both China regions and one global
// region. E3601 is ignored because cfn-lint checks the definitions of
// AWS::StepFunctions::StateMachine against a Task Resource pattern that
// admits only arn:aws: (aws-cloudformation/cfn-lint #3518, #3724), so every
// arn:${Partition}:states:::ecs:runTask.sync fails it; asl-validator checks
// the definitions instead (TestASLValidator).
func TestCfnLint(t *testing.T) {
	lint := requireTool(t, "cfn-lint")
	out, err := runTool(t, nil, lint, "--regions", "cn-north-1", "cn-northwest-1", "us-east-1", "--ignore-checks", "E3601", "--", "convert.yaml")
	require.NoError(t, err, out)
	// The ignored rule still finds only what it is ignored for.
	out, _ = runTool(t, nil, lint, "--regions", "cn-north-1", "--format", "parseable", "--", "convert.yaml")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		require.Regexp(t, `:E3601:'arn:\$\{Partition\}:states:::ecs:runTask\.sync' does not match`, line)
	}
}

// filledDefinition substitutes a state machine's placeholders as the
// stack's DefinitionSubstitutions do, with the example's values.
func filledDefinition(t *testing.T, file string, values map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	filled := placeholderPattern.ReplaceAllStringFunc(string(data), func(p string) string {
		v, ok := values[p[2:len(p)-1]]
		require.True(t, ok, "%s: no value for %s", file, p)
		return v
	})
	return filled
}

var chinaSubstitutions = map[string]string{
	"Partition": "aws-cn", "Region": "cn-north-1", "AccountId": "123456789012", "Cluster": "convert-flowlogs",
	"TaskDefinition": "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/convert-flowlogs:1", "Kind": "flowlogs",
	"OutputBucket": "my-flow-logs-parquet", "OutputPrefix": "flowlogs/", "SubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
	"SecurityGroupIds": "sg-0123456789abcdef0", "AssignPublicIp": "DISABLED", "LogGroup": "/ecs/convert-flowlogs",
	"BackfillItemBytes": "2GiB",
}

// TestASLValidator validates both state machines, filled as the stack
// fills them, with asl-validator.
func TestASLValidator(t *testing.T) {
	validator := requireTool(t, "asl-validator")
	for _, file := range []string{"state-machine-daily.asl.json", "state-machine-backfill.asl.json"} {
		path := filepath.Join(t.TempDir(), file)
		require.NoError(t, os.WriteFile(path, []byte(filledDefinition(t, file, chinaSubstitutions)), 0o644))
		out, err := runTool(t, nil, validator, "--json-path", path)
		require.NoError(t, err, "%s: %s", file, out)
		require.Contains(t, out, "is valid")
	}
}

// TestStackOnMoto creates the stack, as README's command does, on a moto
// server on loopback, and checks what moto's CloudFormation creates (ECS,
// IAM, Step Functions, Logs, SNS) and its outputs. moto's CloudFormation
// skips the Glue, Athena, Scheduler, CloudWatch alarm and SNS subscription
// resources (and cannot create a Batch compute environment without a
// ServiceRole, which CloudFormation does not need: TestTemplate checks the
// Batch part), so their resolved properties are sent to moto's Glue and
// Athena APIs directly, through the AWS CLI's request validation: the table
// with its columns and projection, the workgroup, the named queries.
func TestStackOnMoto(t *testing.T) {
	awsCLI := requireTool(t, "aws")
	motoServer := requireTool(t, "moto_server")
	endpoint := startMoto(t, motoServer)
	env := []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
	call := func(t *testing.T, region string, args ...string) map[string]any {
		t.Helper()
		args = append(args, "--endpoint-url", endpoint, "--region", region, "--output", "json")
		out, err := runTool(t, env, awsCLI, args...)
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), out)
		var v map[string]any
		if strings.TrimSpace(out) != "" {
			require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		}
		return v
	}

	for _, tc := range []struct{ kind, region, partition string }{
		// Two stacks keep this under a minute (each AWS CLI call is a
		// Python start-up); TestTemplate covers s3access offline.
		{"flowlogs", "cn-north-1", "aws-cn"},
		{"cloudtrail", "us-east-1", "aws"},
	} {
		t.Run(tc.kind+"/"+tc.region, func(t *testing.T) {
			name := "convert-" + tc.kind
			over := map[string]string{"Kind": tc.kind}
			if tc.kind == "flowlogs" {
				for k, v := range classifiedParams {
					over[k] = v
				}
			}
			if tc.kind == "cloudtrail" {
				over["SourceKmsKeyArns"] = "arn:aws:kms:us-east-1:123456789012:key/source"
				over["OutputKmsKeyArns"] = "arn:aws:kms:us-east-1:123456789012:key/out1,arn:aws:kms:us-east-1:123456789012:key/out2"
			}
			params := withParams(over)
			var cliParams []string
			keys := make([]string, 0, len(params))
			for k := range params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v := strings.ReplaceAll(params[k], ",", `\,`)
				cliParams = append(cliParams, fmt.Sprintf("ParameterKey=%s,ParameterValue=%s", k, v))
			}
			call(t, tc.region, append([]string{"cloudformation", "create-stack", "--stack-name", name, "--template-body", "file://convert.yaml",
				"--capabilities", "CAPABILITY_NAMED_IAM", "--parameters"}, cliParams...)...)
			var st map[string]any
			for deadline := time.Now().Add(time.Minute); ; {
				st = call(t, tc.region, "cloudformation", "describe-stacks", "--stack-name", name)["Stacks"].([]any)[0].(map[string]any)
				if !strings.HasSuffix(st["StackStatus"].(string), "_IN_PROGRESS") || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			require.Equal(t, "CREATE_COMPLETE", st["StackStatus"], "%v", st["StackStatusReason"])
			outputs := map[string]string{}
			for _, o := range st["Outputs"].([]any) {
				o := o.(map[string]any)
				outputs[o["OutputKey"].(string)] = o["OutputValue"].(string)
			}
			arn := func(service, rest string) string {
				return fmt.Sprintf("arn:%s:%s:%s:123456789012:%s", tc.partition, service, tc.region, rest)
			}
			require.Equal(t, arn("ecs", "cluster/"+name), outputs["ClusterArn"])
			require.Equal(t, arn("ecs", "task-definition/"+name+":1"), outputs["TaskDefinitionArn"])
			require.Equal(t, arn("states", "stateMachine:"+name+"-daily"), outputs["DailyStateMachineArn"])
			require.Equal(t, arn("states", "stateMachine:"+name+"-backfill"), outputs["BackfillStateMachineArn"])
			require.Equal(t, arn("sns", name+"-alarms"), outputs["AlarmTopicArn"])
			require.Equal(t, "/ecs/"+name, outputs["TaskLogGroupName"])
			require.Equal(t, kinds[tc.kind].table, outputs["TableName"])
			require.Contains(t, outputs["BackfillCommand"], "--state-machine-arn "+outputs["BackfillStateMachineArn"])

			// The roles: trusted by their service, with their policies.
			roles := map[string]map[string]any{}
			for _, r := range call(t, tc.region, "iam", "list-roles")["Roles"].([]any) {
				r := r.(map[string]any)
				roles[r["RoleName"].(string)] = r
			}
			trust := map[string]string{name + "-task": "ecs-tasks.amazonaws.com", name + "-task-execution": "ecs-tasks.amazonaws.com",
				name + "-states": "states.amazonaws.com", name + "-schedule": "scheduler.amazonaws.com"}
			for role, service := range trust {
				require.Contains(t, roles, role)
				doc, _ := json.Marshal(roles[role]["AssumeRolePolicyDocument"])
				require.Contains(t, string(doc), `"Service":"`+service+`"`, role)
			}
			inline := func(role, policy string) map[string]any {
				return call(t, tc.region, "iam", "get-role-policy", "--role-name", role, "--policy-name", policy)
			}
			policy := rolePolicy(t, inline(name+"-task", "convert-s3"))
			require.Contains(t, policy, "my-flow-logs-parquet/flowlogs/*")
			if tc.kind == "cloudtrail" {
				require.Contains(t, policy, "key/source")
				require.Contains(t, policy, "key/out1")
				require.Contains(t, policy, "key/out2")
			} else {
				require.NotContains(t, policy, "kms:")
			}
			policy = rolePolicy(t, inline(name+"-states", "convert-states"))
			for _, action := range []string{"ecs:RunTask", "iam:PassRole", "states:StartExecution", "states:RedriveExecution", "s3:GetObject"} {
				require.Contains(t, policy, action)
			}
			require.Contains(t, policy, "stateMachine:"+name+"-backfill")

			// The task definition.
			td := call(t, tc.region, "ecs", "describe-task-definition", "--task-definition", name)["taskDefinition"].(map[string]any)
			c := td["containerDefinitions"].([]any)[0].(map[string]any)
			require.Equal(t, "convert", c["name"])
			require.Equal(t, []any{tc.kind}, c["command"])
			require.Equal(t, true, c["readonlyRootFilesystem"])
			require.Equal(t, "65532:65532", c["user"])
			envs := map[string]string{}
			for _, e := range c["environment"].([]any) {
				if e == nil {
					continue // an !If that chose AWS::NoValue (moto keeps it as null)
				}
				e := e.(map[string]any)
				envs[e["name"].(string)] = e["value"].(string)
			}
			wantEnv := map[string]string{"CONVERT_IN": "s3://my-flow-logs/AWSLogs/", "CONVERT_OUT": "s3://my-flow-logs-parquet/flowlogs/", "CONVERT_REGION": tc.region}
			if tc.kind == "flowlogs" {
				wantEnv["CONVERT_CLASSIFY"] = "true"
				wantEnv["CONVERT_VPC_CIDRS"] = classifiedParams["VpcCidrs"]
				wantEnv["CONVERT_NAT_GATEWAY_ENIS"] = classifiedParams["NatGatewayEnis"]
				wantEnv["CONVERT_AWS_IP_RANGES"] = classifiedParams["AwsIpRanges"]
			}
			require.Equal(t, wantEnv, envs)
			require.Equal(t, "/ecs/"+name, c["logConfiguration"].(map[string]any)["options"].(map[string]any)["awslogs-group"])

			// The state machines hold the ASL files (moto does not apply
			// DefinitionSubstitutions; TestTemplate checks they cover them).
			for machine, file := range map[string]string{"daily": "state-machine-daily.asl.json", "backfill": "state-machine-backfill.asl.json"} {
				sm := call(t, tc.region, "stepfunctions", "describe-state-machine", "--state-machine-arn", arn("states", "stateMachine:"+name+"-"+machine))
				data, err := os.ReadFile(file)
				require.NoError(t, err)
				require.JSONEq(t, string(data), sm["definition"].(string))
				require.True(t, strings.HasSuffix(sm["roleArn"].(string), ":role/"+name+"-states"), sm["roleArn"])
			}

			groups := call(t, tc.region, "logs", "describe-log-groups", "--log-group-name-prefix", "/")["logGroups"].([]any)
			retention := map[string]any{}
			for _, g := range groups {
				g := g.(map[string]any)
				retention[g["logGroupName"].(string)] = g["retentionInDays"]
			}
			require.EqualValues(t, 90, retention["/ecs/"+name])
			require.NotContains(t, retention, "/aws/batch/"+name, "no Batch unless EnableBatch")

			// What moto's CloudFormation skips, through moto's own APIs.
			s := loadStack(t, params, map[string]string{"AWS::Partition": tc.partition, "AWS::Region": tc.region,
				"AWS::AccountId": "123456789012", "AWS::StackName": name}, map[string]string{"GlueDatabase": "convert_" + tc.kind, "WorkGroup": name})
			db := s.resource(t, "GlueDatabase")["DatabaseInput"].(map[string]any)
			call(t, tc.region, "glue", "create-database", "--database-input", mustJSON(t, db))
			tableID := kinds[tc.kind].resource
			cfg := kinds[tc.kind].cfg
			nQueries := kinds[tc.kind].queries
			if tc.kind == "flowlogs" {
				tableID, cfg.Schema = "FlowLogsClassifiedTable", schema.WithVPCClassification(cfg.Schema)
				nQueries += 4
			}
			input := s.resource(t, tableID)["TableInput"]
			call(t, tc.region, "glue", "create-table", "--database-name", "convert_"+tc.kind, "--table-input", mustJSON(t, input))
			table := call(t, tc.region, "glue", "get-table", "--database-name", "convert_"+tc.kind, "--name", kinds[tc.kind].table)["Table"].(map[string]any)
			cfg.Table = kinds[tc.kind].table
			want, err := schema.GlueTableOf(cfg)
			require.NoError(t, err)
			sd := table["StorageDescriptor"].(map[string]any)
			require.Equal(t, glueColumns(want.Columns), sd["Columns"])
			require.Equal(t, glueColumns(want.PartitionKeys), table["PartitionKeys"])
			require.Equal(t, "s3://my-flow-logs-parquet/flowlogs/", sd["Location"])
			tp := table["Parameters"].(map[string]any)
			require.Equal(t, "true", tp["projection.enabled"])
			require.Equal(t, "s3://my-flow-logs-parquet/flowlogs/"+want.LocationTemplate, tp["storage.location.template"])

			wg := s.resource(t, "WorkGroup")
			conf := wg["WorkGroupConfiguration"].(map[string]any)
			// A Number parameter: CloudFormation passes it as a number.
			limit, err := strconv.ParseInt(conf["BytesScannedCutoffPerQuery"].(string), 10, 64)
			require.NoError(t, err)
			conf["BytesScannedCutoffPerQuery"] = limit
			call(t, tc.region, "athena", "create-work-group", "--name", wg["Name"].(string),
				"--configuration", mustJSON(t, wg["WorkGroupConfiguration"]))
			got := call(t, tc.region, "athena", "get-work-group", "--work-group", name)["WorkGroup"].(map[string]any)["Configuration"].(map[string]any)
			require.Equal(t, "s3://my-flow-logs-parquet/flowlogs/_athena/", got["ResultConfiguration"].(map[string]any)["OutputLocation"])
			require.EqualValues(t, 10737418240, got["BytesScannedCutoffPerQuery"])
			queries := s.resourcesOfType("AWS::Athena::NamedQuery")
			require.Len(t, queries, nQueries)
			for _, q := range queries {
				p := s.resource(t, q)
				call(t, tc.region, "athena", "create-named-query", "--name", p["Name"].(string), "--work-group", p["WorkGroup"].(string),
					"--database", p["Database"].(string), "--query-string", p["QueryString"].(string))
			}
			ids := call(t, tc.region, "athena", "list-named-queries", "--work-group", name)["NamedQueryIds"].([]any)
			require.Len(t, ids, len(queries))
			for _, id := range ids {
				nq := call(t, tc.region, "athena", "get-named-query", "--named-query-id", id.(string))["NamedQuery"].(map[string]any)
				require.Equal(t, "convert_"+tc.kind, nq["Database"])
				require.Contains(t, nq["QueryString"], "FROM "+kinds[tc.kind].table)
				if tc.kind == "cloudtrail" {
					require.Contains(t, nq["QueryString"], "account = '123456789012' AND region = '"+tc.region+"'")
				}
			}
		})
	}
}

// rolePolicy returns an inline policy document as text. moto keeps the
// entries of an !If that chose AWS::NoValue as null; CloudFormation drops
// them, so nulls are removed here.
func rolePolicy(t *testing.T, v map[string]any) string {
	t.Helper()
	doc := v["PolicyDocument"]
	if s, ok := doc.(string); ok {
		// moto returns the document as a Python literal.
		s = strings.NewReplacer("'", `"`, "None", "null", "True", "true", "False", "false").Replace(s)
		require.NoError(t, json.Unmarshal([]byte(s), &doc), s)
	}
	m := doc.(map[string]any)
	var kept []any
	for _, st := range m["Statement"].([]any) {
		if st != nil {
			kept = append(kept, st)
		}
	}
	m["Statement"] = kept
	return mustJSON(t, m)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// startMoto starts moto_server on a free loopback port and stops it when
// the test ends.
func startMoto(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("moto_server:\n%s", logs.String())
		}
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return endpoint
		}
		require.True(t, time.Now().Before(deadline), "moto_server did not start: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
}
