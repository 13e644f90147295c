#!/usr/bin/env bash
# s3-server.sh: run versitygw (a real S3-compatible server) on loopback for
# trying convert by hand: http on 127.0.0.1:7070 and https on 127.0.0.1:7443
# (self-signed certificate for 127.0.0.1), one posix data directory, one bucket
# "convert". Tests do not use this script: they start their own servers
# through internal/s3test.
#
#   scripts/s3-server.sh [DIR]     # default DIR: /tmp/convert-s3; Ctrl-C stops
set -euo pipefail

dir=$(realpath -m "${1:-/tmp/convert-s3}")
http_addr=127.0.0.1:${S3_HTTP_PORT:-7070}
https_addr=127.0.0.1:${S3_HTTPS_PORT:-7443}
access=123456789012     # also the bucket owner for --expected-bucket-owner
secret=convert-local-secret

bin=$(command -v versitygw || true)
if [[ -z $bin ]]; then
  bin=$(go env GOPATH)/bin/versitygw
fi
if [[ ! -x $bin ]]; then
  echo "installing versitygw v1.8.0 (about 2.5 min)..." >&2
  CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

mkdir -p "$dir/data/convert"
if [[ ! -f $dir/cert.pem ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
fi

export ROOT_ACCESS_KEY_ID=$access ROOT_SECRET_ACCESS_KEY=$secret
"$bin" --port "$http_addr" --quiet --keep-alive posix "$dir/data" &
http_pid=$!
"$bin" --port "$https_addr" --cert "$dir/cert.pem" --key "$dir/key.pem" --quiet --keep-alive posix "$dir/data" &
https_pid=$!
trap 'kill $http_pid $https_pid 2>/dev/null; wait' EXIT INT TERM

cat <<MSG
versitygw running; bucket "convert" in $dir/data. In another shell:

  export AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret AWS_REGION=us-east-1
  export AWS_CA_BUNDLE=$dir/cert.pem   # for https
  convert ... --endpoint-url http://$http_addr  (or https://$https_addr) --path-style ...

Ctrl-C stops both servers.
MSG
wait
