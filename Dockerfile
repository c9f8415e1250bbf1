# The Linkwright image: the worker (/linkwright-worker, the entrypoint) and
# the CLI (/linkwright, e.g. `linkwright codec-server`), static binaries on
# scratch, run as the non-root user 65532. Build it with `make image`
# (deployments/image.sh), which picks docker, podman or buildah and falls
# back to a Go base image made from the host's toolchain when GO_IMAGE
# cannot be pulled.
#
# Nothing in the image is writable on purpose: run it with a read-only root
# filesystem and mount the state directory (LINKWRIGHT_STATE_DIR) and /tmp.
#
# No "# syntax=" line: it would make BuildKit pull a frontend image. The
# cache mounts below work with Docker's built-in frontend (BuildKit) and
# with podman/buildah.

# Any image with Go 1.26.x at /usr/local/go (or on PATH), /bin/sh and
# /etc/ssl/certs/ca-certificates.crt. Fully qualified (the official
# golang:1.26.8-bookworm) so that podman needs no short-name resolution.
ARG GO_IMAGE=docker.io/library/golang:1.26.8-bookworm

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
# Modules are downloaded during the build (GOPROXY); deployments/image.sh
# passes the host's proxy settings.
ARG GOPROXY=https://proxy.golang.org,direct
ARG GONOSUMDB=
ARG GOPRIVATE=
ENV CGO_ENABLED=0 \
    GOTOOLCHAIN=local \
    GOFLAGS=-buildvcs=false \
    GOPATH=/go \
    GOMODCACHE=/go/pkg/mod \
    GOCACHE=/root/.cache/go-build \
    PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /src

# Dependencies first, so that a change of code reuses this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    export GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" && \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/linkwright-worker ./worker && \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/linkwright ./starter

# The non-root user of the final image (scratch has no useradd, nor a shell).
RUN printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > /out/passwd && \
    printf 'nonroot:x:65532:\n' > /out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/linkwright-worker /linkwright-worker
COPY --from=build /out/linkwright /linkwright
USER 65532:65532
# The worker's admin port (internal/admin: /healthz, /readyz, /metrics),
# served on all interfaces in the container; the default outside one is
# loopback only.
ENV LINKWRIGHT_ADMIN_LISTEN=:9090
# 9090: the worker's admin port. 8081: `/linkwright codec-server -listen :8081`.
EXPOSE 9090 8081
ENTRYPOINT ["/linkwright-worker"]

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="linkwright" \
      org.opencontainers.image.description="Linkwright: the Temporal worker (entrypoint /linkwright-worker) and CLI (/linkwright) that run PrivateLink runbooks" \
      org.opencontainers.image.source="https://github.com/linkwright/linkwright" \
      org.opencontainers.image.url="https://github.com/linkwright/linkwright" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="scratch"
