// Package deploy holds the files that run convert on AWS: the ECS task
// definition, the IAM policies, the Step Functions state machines (daily
// conversion and the Distributed Map backfill) and the AWS Batch job
// definition, with ${Name} placeholders that README.md explains. It has no
// code; its test checks that every file parses, that the state machines are
// well formed, and that the files agree with each other.
package deploy
