#!/usr/bin/env bash
# The project's test command (README "Run the tests"). On a machine that has
# only Go it installs what the tests need (versitygw, the S3-compatible server
# the S3 tests start on loopback), then runs every test with the race detector.
# Extra arguments go to `go test` (for example -run TestFlowLogs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"

if ! command -v versitygw >/dev/null 2>&1; then
  echo "installing versitygw v1.8.0 (S3-compatible test server; a few minutes, once)…" >&2
  CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

# Fail, rather than skip, when the S3 server or the shared samples are missing.
export CONVERT_REQUIRE_S3=1
if [ -d ../shared/samples ]; then
  export CONVERT_REQUIRE_SAMPLES=1
fi
go test -race -count=1 -timeout 25m "$@" ./...
