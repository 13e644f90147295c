#!/usr/bin/env bash
# container-test.sh: build the container image from the unmodified Dockerfile and
# prove it, on a Debian machine that has Go but no Docker engine (CI runs this).
#
#   scripts/container-test.sh
#
# 1. Installs podman, buildah and runc with apt-get when missing (needs root).
# 2. Makes "FROM golang:1.26" resolve: pulls it, or, when the registry is not
#    reachable, builds a stand-in from this machine's Go (GOROOT + busybox-static
#    + CA bundle) once and reuses it while the Go version stays the same.
# 3. Builds the image with buildah (chroot isolation: no CNI bridge, host network),
#    keeping layers, so a second run with unchanged sources takes seconds.
# 4. Checks: user 65532:65532, entrypoint ["convert"], nothing but the binary, the CA
#    bundle, passwd/group and /work in the image; "convert version"; a conversion
#    of testdata/vpcflow in the container (read-only root file system, no network,
#    input mounted read-only) with flags and again with CONVERT_* environment
#    variables: status ok, balanced, Parquet under year=2021/, the same files both ways.
#
# Environment:
#   CONVERT_IMAGE   image to build (default localhost/convert:test)
#   GOPROXY         passed as the GOPROXY build argument (default: go env GOPROXY)
#   VERSION         passed as the VERSION build argument (default: git short hash or dev)
#   CONTAINER_TEST_CACHE=0
#                   build as a user would, from nothing: no cached layers, modules
#                   downloaded inside the build from GOPROXY, no compile cache.
#                   By default the host module cache is mounted read-only (after
#                   "go mod download" on the host) and a compile cache under
#                   ~/.cache/convert-container-test is mounted; they only make the
#                   build faster: the Dockerfile and the image are the same.
# The sandbox limits this works around (hybrid cgroups, ulimits, no CNI) are in
# ../shared/docs/TEST-INFRA.md, section 3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
image=${CONVERT_IMAGE:-localhost/convert:test}
go_image=golang:1.26 # the Dockerfile's default GO_IMAGE
start=$SECONDS
last=$SECONDS
current=

# step starts a step and reports how long the previous one took.
step() {
  [[ -z $current ]] || printf -- '--- %s: %ds\n' "$current" $((SECONDS - last))
  printf '=== %s\n' "$*"
  current=$*
  last=$SECONDS
}
fail() {
  echo "container-test: FAIL: $*" >&2
  exit 1
}

work=$(mktemp -d /tmp/convert-container-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

step "tools: podman, buildah, runc"
missing=()
for tool in podman buildah runc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || fail "missing ${missing[*]}; run as root or: apt-get install podman buildah runc"
  echo "installing ${missing[*]} with apt-get (about 30 s)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log"; fail "apt-get update"; }
  apt-get install -y -qq --no-install-recommends podman buildah runc >>"$work/apt.log" 2>&1 ||
    { tail -20 "$work/apt.log"; fail "apt-get install podman buildah runc"; }
fi
echo "$(podman --version), $(buildah --version | cut -d' ' -f1-3), $(runc --version | head -1)"

# podman run as this sandbox allows: runc (crun refuses hybrid cgroups), no
# network (no CNI bridge), ulimits below the hard limits (no CAP_SYS_RESOURCE).
podman_run() {
  podman --runtime runc run --rm --network=none \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"
}

# build_standin makes localhost/golang:1.26 from this machine's Go: GOROOT's
# binaries are static, busybox-static gives RUN a /bin/sh, plus the CA bundle
# and a passwd naming root. Labelled with the Go version so a new Go rebuilds it.
build_standin() {
  local goroot rootfs applet
  goroot=$(go env GOROOT)
  rootfs=$work/standin
  mkdir -p "$rootfs"/{bin,etc/ssl/certs,root,tmp,go/bin,usr/local,usr/bin}
  chmod 1777 "$rootfs/tmp"
  cp -a "$goroot" "$rootfs/usr/local/go"
  (cd "$work" && apt-get download -qq busybox-static >/dev/null 2>&1) ||
    { apt-get update -qq >/dev/null 2>&1 && (cd "$work" && apt-get download -qq busybox-static >/dev/null 2>&1); } ||
    fail "apt-get download busybox-static (needed for the golang:1.26 stand-in's /bin/sh)"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/busybox"
  cp "$work/busybox/bin/busybox" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
  done
  ln -sf ../../bin/env "$rootfs/usr/bin/env"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  tar -C "$rootfs" -cf "$work/standin.tar" .
  podman import -q \
    --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOPATH=/go' --change 'ENV GOTOOLCHAIN=local' --change 'WORKDIR /go' \
    --change "LABEL convert.standin=$go_version" \
    "$work/standin.tar" "localhost/$go_image" >/dev/null
  podman tag "localhost/$go_image" "docker.io/library/$go_image"
  rm -rf "$rootfs" "$work/standin.tar"
}

step "builder image $go_image"
go_version=$(go env GOVERSION)
standin=$(podman image inspect --format '{{index .Config.Labels "convert.standin"}}' "docker.io/library/$go_image" 2>/dev/null || echo missing)
if [[ $standin == missing ]] && timeout 20 podman pull -q "docker.io/library/$go_image" >/dev/null 2>&1; then
  echo "pulled docker.io/library/$go_image"
elif [[ $standin == missing || ($standin != "<no value>" && $standin != "$go_version") ]]; then
  echo "building a stand-in from $(go env GOROOT) ($go_version): the registry is not reachable or Go changed..."
  build_standin
else
  echo "reusing docker.io/library/$go_image (${standin/<no value>/pulled})"
fi

step "build $image"
version=${VERSION:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}
build=(buildah bud --pull=never --isolation chroot --layers
  --build-arg "GOPROXY=${GOPROXY:-$(go env GOPROXY)}" --build-arg "VERSION=$version")
if [[ ${CONTAINER_TEST_CACHE:-1} != 0 ]]; then
  go mod download # fills the host module cache (no output when it is complete)
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/convert-container-test/go-build
  mkdir -p "$cache"
  build+=(-v "$(go env GOMODCACHE):/go/pkg/mod:ro" -v "$cache:/root/.cache/go-build")
else
  build+=(--no-cache)
fi
"${build[@]}" -f Dockerfile -t "$image" . >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; fail "buildah bud (log above)"; }
new_id=$(podman image inspect --format '{{.Id}}' "$image")
# Keep one build's layers as the cache: remove the previous build's images that
# this build no longer uses (rmi without --force skips any image still in use).
layers=${XDG_CACHE_HOME:-$HOME/.cache}/convert-container-test/layers
sed -n 's/^--> \([0-9a-f]\{11,64\}\)$/\1/p' "$work/build.log" | sort -u >"$work/layers"
mkdir -p "$(dirname "$layers")"
if [[ -f $layers ]]; then
  comm -23 "$layers" "$work/layers" | xargs -r -n1 podman rmi >/dev/null 2>&1 || true
fi
cp "$work/layers" "$layers"
echo "$image ${new_id:0:12}, $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}')"

step "image config: user, entrypoint, contents"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
[[ $user == 65532:65532 ]] || fail "image user is '$user', want 65532:65532"
entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")
[[ $entrypoint == '["convert"]' ]] || fail "image entrypoint is $entrypoint, want [\"convert\"]"
container=$(podman create "$image")
podman export "$container" | tar -t | sed 's|^\./||; s|/$||' | grep -v '^$' | sort >"$work/files"
podman rm "$container" >/dev/null
for want in usr/local/bin/convert etc/ssl/certs/ca-certificates.crt etc/passwd etc/group work tmp; do
  grep -qx "$want" "$work/files" || fail "the image has no /$want"
done
extra=$(grep -vxE 'tmp|usr|usr/local|usr/local/bin|usr/local/bin/convert|etc|etc/ssl|etc/ssl/certs|etc/ssl/certs/ca-certificates.crt|etc/passwd|etc/group|work|dev|proc|sys|run|run/.containerenv|etc/hosts|etc/resolv.conf|etc/hostname' "$work/files" || true)
[[ -z $extra ]] || fail "unexpected files in the image: $(echo $extra)"
echo "user $user, entrypoint $entrypoint, files: $(grep -c . "$work/files") entries, no shell"

step "convert version"
got=$(podman_run "$image" version 2>&1) || fail "convert version: $got"
[[ $got == "convert $version" ]] || fail "convert version printed '$got', want 'convert $version'"
echo "$got"

# convert_testdata NAME ARGS...: runs a conversion of testdata/vpcflow (at /in,
# read-only) into $work/NAME (at /out) as uid 65532 on a read-only root file
# system, as ECS runs it, and checks the summary and the files on the host.
convert_testdata() {
  local name=$1 out=$work/$1
  shift
  mkdir -p "$out"
  chown 65532:65532 "$out" 2>/dev/null || podman unshare chown 65532:65532 "$out"
  local status=0
  podman_run --read-only -v "$root/testdata/vpcflow:/in:ro" -v "$out:/out" "$@" \
    >"$work/$name.json" 2>"$work/$name.err" || status=$?
  ((status == 0)) || { tail -5 "$work/$name.err"; fail "$name: convert exited with status $status"; }
  grep -q '"status":"ok"' "$work/$name.json" || fail "$name: summary status is not ok: $(head -c 400 "$work/$name.json")"
  grep -q '"balanced":true' "$work/$name.json" || fail "$name: summary is not balanced: $(head -c 400 "$work/$name.json")"
  (cd "$out" && find . -name '*.parquet' -path './year=2021/*' | sort) >"$work/$name.files"
  [[ -s $work/$name.files ]] || fail "$name: no .parquet files under /out/year=2021/"
  [[ $(stat -c %u "$out/$(head -1 "$work/$name.files")") == 65532 ]] || fail "$name: output not written by uid 65532"
  echo "$name: $(grep -o '"records_read":[0-9]*' "$work/$name.json"), $(grep -o '"records_written":[0-9]*' "$work/$name.json"), $(wc -l <"$work/$name.files") Parquet files"
}

step "conversion of testdata with flags"
convert_testdata flags "$image" flowlogs --in /in --out /out

step "conversion of testdata with CONVERT_* environment variables"
convert_testdata env -e CONVERT_IN=/in -e CONVERT_OUT=/out "$image" flowlogs
field() { grep -o "\"$1\":[0-9]*" "$work/$2.json"; }
[[ $(field records_read flags) == $(field records_read env) && $(field records_written flags) == $(field records_written env) ]] ||
  fail "flags and environment variables gave different counts"
cmp -s "$work/flags.files" "$work/env.files" || fail "flags and environment variables wrote different files"

step "ok: $image passed in $((SECONDS - start))s"
