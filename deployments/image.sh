#!/usr/bin/env bash
# make image: builds the Linkwright container image (Dockerfile) as
# linkwright:$VERSION and linkwright:latest, then runs
# `linkwright-worker --version` in it.
#
# It uses the first of docker (with a reachable daemon), podman or buildah
# that works; IMAGE_TOOL=docker|podman|buildah chooses one.
#
# The build stage's base is GO_IMAGE (default: the Dockerfile's). When that
# cannot be pulled (no registry access), a local base is built from the
# host's Go toolchain instead: $(go env GOROOT), /bin/sh and the host's CA
# certificates, tagged localhost/linkwright-go:<host Go version>.
#
# Modules are downloaded inside the build through GOPROXY (the host's
# `go env GOPROXY` is passed in). podman and buildah build with
# --isolation chroot (BUILD_ISOLATION overrides): RUN steps then need no
# OCI runtime, cgroups or network namespace, and share the host's network,
# so that the proxy the host uses is reachable from the build.
#
# Then `<tool> run --rm --read-only linkwright:$VERSION --version`. Where
# podman cannot run containers (no OCI runtime support, e.g. in a sandbox:
# crun's rlimit or cgroup errors), the script says so and runs the binary in
# the image's root filesystem with `buildah run --isolation chroot` instead;
# buildah alone always checks that way.
#
# Environment: IMAGE_TOOL, IMAGE (linkwright), VERSION (git describe),
# GO_IMAGE, LOCAL_GO_BASE=1 (use the local base without trying to pull),
# REBUILD_GO_BASE=1, BUILD_ISOLATION, PULL_TIMEOUT (seconds, 120).
set -euo pipefail

cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-linkwright}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || true)}
VERSION=${VERSION:-dev}
# A tag is [A-Za-z0-9_.-], at most 128 characters.
TAG=$(printf '%s' "$VERSION" | tr -c 'A-Za-z0-9_.-' '-' | cut -c1-128)
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
DEFAULT_GO_IMAGE=$(sed -n 's/^ARG GO_IMAGE=//p' Dockerfile | head -n1)
GO_VERSION=${DEFAULT_GO_IMAGE##*:}
GO_VERSION=${GO_VERSION%%-*}
PULL_TIMEOUT=${PULL_TIMEOUT:-120}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'image.sh: %s\n' "$*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# --- Which tool ---------------------------------------------------------
looked=()
usable() {
	local t=$1 out
	if ! command -v "$t" >/dev/null 2>&1; then
		looked+=("$t: not installed")
		return 1
	fi
	if ! out=$(timeout 60 "$t" info 2>&1 >/dev/null); then
		looked+=("$t: installed, but \`$t info\` fails: $(printf '%s' "$out" | grep -v '^\s*$' | tail -n1)")
		return 1
	fi
	if [ "$t" = docker ] && ! docker buildx version >/dev/null 2>&1; then
		# The Dockerfile's cache mounts need BuildKit (docker buildx).
		looked+=("docker: the daemon answers, but the buildx plugin (BuildKit) is missing: install docker-buildx-plugin (or docker-buildx)")
		return 1
	fi
	return 0
}

TOOL=
if [ -n "${IMAGE_TOOL:-}" ]; then
	usable "$IMAGE_TOOL" && TOOL=$IMAGE_TOOL
else
	for t in docker podman buildah; do
		if usable "$t"; then TOOL=$t; break; fi
	done
fi
if [ -z "$TOOL" ]; then
	{
		echo "image.sh: no usable container build tool. Looked for (in this order):"
		printf '  - %s\n' "${looked[@]}"
		cat <<'EOF'
Install one of them:
  - podman (no daemon needed; Debian/Ubuntu: sudo apt-get install podman;
    Fedora: sudo dnf install podman; macOS: brew install podman &&
    podman machine init && podman machine start)
  - buildah (Debian/Ubuntu: sudo apt-get install buildah)
  - Docker Engine with buildx (https://docs.docker.com/engine/install/),
    with its daemon running (sudo systemctl start docker), or Docker Desktop
Or choose one with IMAGE_TOOL=docker|podman|buildah.
EOF
	} >&2
	exit 1
fi
say "using $TOOL ($("$TOOL" --version 2>/dev/null | head -n1))"
for l in "${looked[@]}"; do say "  skipped $l"; done

isolation=()
if [ "$TOOL" != docker ]; then
	isolation=(--isolation "${BUILD_ISOLATION:-chroot}")
fi

image_exists() {
	case $TOOL in
	docker) docker image inspect "$1" >/dev/null 2>&1 ;;
	podman) podman image exists "$1" ;;
	buildah) buildah inspect --type image "$1" >/dev/null 2>&1 ;;
	esac
}

build() { # build <args...>
	case $TOOL in
	docker) DOCKER_BUILDKIT=1 docker build "$@" ;;
	podman) podman build "${isolation[@]}" "$@" ;;
	buildah) buildah build --layers "${isolation[@]}" "$@" ;;
	esac
}

# --- The build stage's base ---------------------------------------------
# A Go base image from the host's toolchain: GOROOT at /usr/local/go,
# /bin/sh with the libraries it links, the CA bundle, /tmp.
build_local_go_base() {
	command -v go >/dev/null 2>&1 || die "no Go toolchain on this host to build the local base from (install Go $GO_VERSION, or give GO_IMAGE=<an image with Go>)"
	local goroot gover tmp sh certs lib
	goroot=$(go env GOROOT)
	gover=$(go env GOVERSION)
	gover=${gover#go}
	gover=${gover%% *}
	LOCAL_GO_IMAGE=localhost/linkwright-go:$gover
	if [ "$gover" != "$GO_VERSION" ]; then
		say "warning: the host's Go is $gover, the Dockerfile's base is Go $GO_VERSION"
	fi
	if image_exists "$LOCAL_GO_IMAGE" && [ -z "${REBUILD_GO_BASE:-}" ]; then
		say "reusing $LOCAL_GO_IMAGE (REBUILD_GO_BASE=1 rebuilds it)"
		return
	fi
	say "building $LOCAL_GO_IMAGE from the host's Go ($goroot)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/root/usr/local" "$tmp/root/bin" "$tmp/root/etc/ssl/certs" "$tmp/root/tmp"
	chmod 1777 "$tmp/root/tmp"
	tar -C "$goroot" --exclude=./test -cf - . | (mkdir -p "$tmp/root/usr/local/go" && tar -C "$tmp/root/usr/local/go" -xf -)
	sh=$(readlink -f /bin/sh)
	cp "$sh" "$tmp/root/bin/sh"
	# The shell's shared libraries (none if static), at the same paths.
	for lib in $(ldd "$sh" 2>/dev/null | grep -o '/[^ ]*' || true); do
		mkdir -p "$tmp/root$(dirname "$lib")"
		cp -L "$lib" "$tmp/root$lib"
	done
	for certs in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
		if [ -f "$certs" ]; then break; fi
	done
	[ -f "$certs" ] || die "no CA bundle found on this host (looked for /etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/cert.pem)"
	cp -L "$certs" "$tmp/root/etc/ssl/certs/ca-certificates.crt"
	tar -C "$tmp/root" -cf "$tmp/gobase.tar" .
	cat >"$tmp/Containerfile" <<EOF
FROM scratch
ADD gobase.tar /
ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local
LABEL org.opencontainers.image.description="Go $gover from the host's toolchain, for building Linkwright offline (deployments/image.sh)"
EOF
	build -t "$LOCAL_GO_IMAGE" -f "$tmp/Containerfile" "$tmp" >&2
	rm -rf "$tmp"
	trap - EXIT
}

go_image=${GO_IMAGE:-}
if [ -z "$go_image" ]; then
	if [ -n "${LOCAL_GO_BASE:-}" ]; then
		build_local_go_base
		go_image=$LOCAL_GO_IMAGE
	elif image_exists "$DEFAULT_GO_IMAGE"; then
		go_image=$DEFAULT_GO_IMAGE
	else
		say "pulling $DEFAULT_GO_IMAGE"
		if out=$(timeout "$PULL_TIMEOUT" "$TOOL" pull "$DEFAULT_GO_IMAGE" 2>&1); then
			go_image=$DEFAULT_GO_IMAGE
		else
			say "cannot pull $DEFAULT_GO_IMAGE: $(printf '%s' "$out" | grep -v '^\s*$' | tail -n1)"
			say "falling back to a local Go base built from the host's toolchain"
			build_local_go_base
			go_image=$LOCAL_GO_IMAGE
		fi
	fi
fi
say "build stage base: $go_image"

# --- The image ------------------------------------------------------------
build_args=(--build-arg "GO_IMAGE=$go_image" --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION")
if command -v go >/dev/null 2>&1; then
	build_args+=(--build-arg "GOPROXY=$(go env GOPROXY)" --build-arg "GONOSUMDB=$(go env GONOSUMDB)" --build-arg "GOPRIVATE=$(go env GOPRIVATE)")
fi
if [ "$TOOL" != docker ]; then
	# Docker sets the platform arguments itself; buildah leaves them unset.
	arch=$(uname -m)
	case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
	build_args+=(--build-arg TARGETOS=linux --build-arg "TARGETARCH=$arch")
fi
start=$(date +%s)
say "building $IMAGE:$TAG and $IMAGE:latest (VERSION=$VERSION)"
build "${build_args[@]}" -t "$IMAGE:$TAG" -t "$IMAGE:latest" -f Dockerfile .
say "built $IMAGE:$TAG in $(elapsed "$start")"

case $TOOL in
buildah) size=$(buildah images --format '{{.Size}}' "$IMAGE:$TAG" 2>/dev/null | head -n1) ;;
*) size=$("$TOOL" inspect --type image --format '{{.Size}}' "$IMAGE:$TAG" 2>/dev/null | awk '{printf "%.1f MB (%d bytes)", $1/1e6, $1}') ;;
esac
say "size: ${size:-unknown}"

# --- Does it run? -----------------------------------------------------------
run_with_buildah() {
	command -v buildah >/dev/null 2>&1 || return 1
	local c rc=0
	c=$(buildah from --pull-never "$IMAGE:$TAG") || return 1
	buildah run --isolation chroot "$c" -- /linkwright-worker --version || rc=$?
	buildah rm "$c" >/dev/null
	return $rc
}

case $TOOL in
docker)
	say "docker run --rm --read-only $IMAGE:$TAG --version"
	docker run --rm --read-only "$IMAGE:$TAG" --version
	;;
podman)
	say "podman run --rm --read-only $IMAGE:$TAG --version"
	rc=0
	out=$(podman run --rm --read-only "$IMAGE:$TAG" --version 2>&1) || rc=$?
	printf '%s\n' "$out"
	case $rc in
	0) ;;
	125 | 126 | 127)
		# podman's own failures (the container's exit codes are passed on).
		say "podman cannot run the container here (exit $rc, the error above); running the binary in the image's root filesystem with buildah run --isolation chroot instead"
		run_with_buildah || die "could not run $IMAGE:$TAG: podman run failed (above) and buildah run --isolation chroot failed or buildah is missing"
		;;
	*) die "/linkwright-worker --version exited $rc in $IMAGE:$TAG" ;;
	esac
	;;
buildah)
	say "(buildah has no run of an image: buildah from + buildah run --isolation chroot)"
	run_with_buildah || die "buildah run --isolation chroot of $IMAGE:$TAG failed"
	;;
esac
say "done: $IMAGE:$TAG ($IMAGE:latest)"
