#!/usr/bin/env bash
# Refreshes cmd/convert/convert.pgo, the CPU profile that release builds
# (the Dockerfile, "go install -pgo=cmd/convert/convert.pgo") use for
# profile-guided optimisation of convert. The profile merges
# one conversion of each log kind over generated, realistic data, run by a
# binary built without a profile. Run it after changes to hot paths (readers,
# writer, pipeline) and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -pgo=off -o "$work/convert" ./cmd/convert
profiles=()
for spec in "flowlogs 512MiB" "cloudtrail 256MiB" "s3access 256MiB"; do
	set -- $spec
	kind=$1 size=$2
	"$work/convert" gen "$kind" --dir "$work/in-$kind" --size "$size" >/dev/null
	"$work/convert" "$kind" --in "$work/in-$kind" --out "$work/out-$kind" \
		--max-reject-ratio -1 --log-level warn --cpuprofile "$work/$kind.prof" >/dev/null
	profiles+=("$work/$kind.prof")
done
go tool pprof -proto "${profiles[@]}" >cmd/convert/convert.pgo
echo "wrote cmd/convert/convert.pgo ($(wc -c <cmd/convert/convert.pgo) bytes)"
