// Package deploy holds what runs convert on AWS: convert.yaml, one
// CloudFormation stack for the aws and aws-cn partitions, and the same parts
// as plain files with ${Name} placeholders (the ECS task definition, the IAM
// policies, the Step Functions state machines for the daily conversion and
// the Distributed Map backfill, the AWS Batch job definition), which
// README.md explains. It has no code; its tests check that the files parse,
// that the state machines are well formed, that the files and the template
// agree, that the template's generated parts (the Glue tables, from convert
// ddl --format cloudformation, and the state machine definitions) are up to
// date and, with CONVERT_DEPLOY_TOOLS=1, run cfn-lint, asl-validator and the
// stack on a moto server. jsonata.test.mjs (node --test) evaluates the state
// machines' JSONata.
package deploy
