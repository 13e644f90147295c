// Package s3test starts a real S3-compatible server, versitygw with its posix
// backend, on loopback for tests, over http or https.
//
// It owns finding the versitygw binary, picking a free port, making a
// self-signed certificate for 127.0.0.1 in Go, waiting until the server
// answers and stopping it when the test ends. It does not own any product
// code: tests build their own clients from the Server's endpoint, credentials
// and CA certificate.
//
// It also plays network faults: Server.Restart kills the server and starts it
// again on the same address; a Proxy in front of it can hold connections
// without answering; Faults, an HTTP client wrapper, injects throttling,
// resets before or after a request reaches the server, and cut answers.
//
// The binary is looked up as $CONVERT_VERSITYGW, then versitygw on PATH, then
// $(go env GOPATH)/bin/versitygw. When it is missing the test is skipped, or
// fails if CONVERT_REQUIRE_S3=1 (as CI sets it). Install it with
//
//	CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
package s3test
