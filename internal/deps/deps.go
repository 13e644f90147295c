//go:build tools

// Package deps pins modules that parts of the project under construction
// import, so that go.mod stays stable while they are written in parallel.
package deps

import (
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	_ "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/stretchr/testify/require"
)
