# convert: one static binary in a minimal, non-root image.
#
#   docker build -t convert .                       # or: podman build / buildah bud
#   mkdir -p out && sudo chown 65532:65532 out       # the image runs as uid 65532
#   docker run --rm -v "$PWD/testdata/vpcflow:/in:ro" -v "$PWD/out:/out" \
#       convert flowlogs --in /in --out /out
#   (or --user "$(id -u):$(id -g)" to write as yourself)
#
# Build arguments (all optional):
#   GO_IMAGE    builder image (default golang:1.26). Behind a registry mirror, e.g.
#               --build-arg GO_IMAGE=<mirror>/library/golang:1.26
#   BASE_IMAGE  final image (default scratch). gcr.io/distroless/static-debian12:nonroot
#               (or a mirror of it) works too and adds tzdata and a /tmp.
#   GOPROXY     module proxy (default https://proxy.golang.org,direct). In China:
#               --build-arg GOPROXY=https://goproxy.cn,direct
#   VERSION     what "convert version" prints (default dev)
ARG GO_IMAGE=golang:1.26
ARG BASE_IMAGE=scratch

FROM ${GO_IMAGE} AS build
ARG GOPROXY=https://proxy.golang.org,direct
# No VCS stamping (the build context has no .git) and no toolchain download: the
# builder's Go is the one go.mod asks for, or the build fails saying so.
ENV CGO_ENABLED=0 GOPROXY=${GOPROXY} GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
WORKDIR /src

# Modules first, as their own layer: it is rebuilt only when go.mod or go.sum
# change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
ARG VERSION=dev
# Profile-guided optimisation (cmd/convert/convert.pgo, see scripts/pgo.sh):
# about 7-8% faster conversions.
RUN go build -pgo=cmd/convert/convert.pgo -trimpath -ldflags "-s -w -X 'main.version=${VERSION}'" -o /rootfs/usr/local/bin/convert ./cmd/convert

# The final image's files, assembled here because scratch has no shell: the CA
# bundle (HTTPS to S3 and STS), passwd/group naming uid 65532 (the same entries
# distroless has, so copying them over distroless changes nothing), an empty
# work directory that the non-root user owns, and /tmp.
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/work /rootfs/tmp \
 && chmod 1777 /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
 && printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
      'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
      'nonroot:x:65532:65532:nonroot:/work:/sbin/nologin' > /rootfs/etc/passwd \
 && printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > /rootfs/etc/group \
 && chown 65532:65532 /rootfs/work && chmod 0755 /rootfs/work

FROM ${BASE_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="convert" \
      org.opencontainers.image.description="AWS logs (VPC Flow Logs, CloudTrail, S3 access logs) to Athena-ready, partitioned Parquet" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /rootfs/etc/ /etc/
COPY --from=build --chown=65532:65532 /rootfs/work /work
# /tmp is where a unit spills rows of interleaved days (TMPDIR overrides); ECS
# mounts a task volume there, since the root file system is read-only.
COPY --from=build /rootfs/tmp /tmp
COPY --from=build /rootfs/usr/local/bin/convert /usr/local/bin/convert
# scratch has no PATH of its own; with this one the exec-form "convert" below
# resolves (runc looks the name up in the image's PATH). Go finds the CA bundle
# at its Debian path without SSL_CERT_FILE.
ENV PATH=/usr/local/bin:/usr/bin:/bin
USER 65532:65532
# Relative paths and files without a directory land here; in ECS, with a
# read-only root file system, write to S3 (or a mounted volume) instead.
WORKDIR /work
ENTRYPOINT ["convert"]
CMD ["--help"]
