# Linkwright: the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
TEMPORAL := $(BIN)/temporal

# The search attributes the workflows set (workflows/messages.go); the
# local dev server registers them. A test keeps this list in step.
SEARCH_ATTRIBUTES := PrivateLinkProject PrivateLinkEnvironment PrivateLinkCloud \
	PrivateLinkCustomerAccount PrivateLinkPhase PrivateLinkWaitingOn PrivateLinkTicket \
	PrivateLinkConnectionType
export LINKWRIGHT_SEARCH_ATTRIBUTE_FLAGS := $(foreach a,$(SEARCH_ATTRIBUTES),--search-attribute $(a)=Keyword)
# One partition per task queue: the cloud budgets are rates of a few per
# second, which the server splits between a queue's partitions (four by
# default), so that a lone approval would wait for its partition's next
# token. internal/devtest starts its servers the same way.
export LINKWRIGHT_DEV_SERVER_FLAGS := --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
	--dynamic-config-value matching.numTaskqueueWritePartitions=1

TEST_TIMEOUT ?= 20m

# The release a build is stamped with (the Worker Deployment build ID, and
# `linkwright-worker --version`); unstamped builds use the Git commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Root installs packages itself; anyone else through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run run-aws test stress-test build unit-test integration-test fuzz vet clean bench image image-tools browser record-histories manifests-test

## run: the local stack: Temporal dev server + Web UI, the worker on the simulated cloud and file tracker
run: build $(TEMPORAL)
	@deployments/local/run.sh

## run-aws: the same on Linkwright's AWS provider, against moto (an AWS look-alike) on loopback
run-aws: build $(TEMPORAL)
	@LINKWRIGHT_STACK=aws deployments/local/run.sh

## test: every test, unit and integration, against a real local Temporal dev server
## (and the Web UI in headless Chromium), then the Kubernetes manifests
test: $(TEMPORAL) vet browser
	LINKWRIGHT_TEMPORAL=$(abspath $(TEMPORAL)) LINKWRIGHT_REQUIRE_INTEGRATION=1 \
		$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) manifests-test

## manifests-test: build the kustomize base and overlay and decode every object strictly (its own module)
manifests-test:
	cd deployments/kubernetes && $(GO) test -count=1 ./...

## browser: headless Chromium for the Web UI test, from Debian's packages when missing
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium (headless, for the Web UI test)..."; \
		$(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium >/dev/null; } || \
		{ echo "make: cannot install chromium; install it (Debian: apt-get install chromium) and run again" >&2; exit 1; }; }

## image: the container image linkwright:$(VERSION) and :latest (worker and CLI) with docker, podman or
## buildah, whichever works here (deployments/image.sh), then `linkwright-worker --version` in it
image:
	@VERSION=$(VERSION) deployments/image.sh

## image-tools: podman and buildah from Debian's packages, unless docker, podman or buildah is there
image-tools:
	@command -v podman >/dev/null 2>&1 || command -v buildah >/dev/null 2>&1 || \
		{ command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; } || { \
		echo "Installing Debian's podman and buildah (to build the image)..."; \
		$(SUDO) apt-get install -y -q podman buildah >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q podman buildah >/dev/null; } || \
		{ echo "make: cannot install podman; install docker, podman or buildah and run again" >&2; exit 1; }; }

## record-histories: record this build's workflow histories for the replay tests, RELEASE=<version>
record-histories: $(TEMPORAL)
	@test -n "$(RELEASE)" || { echo "make record-histories RELEASE=<version>: name the release the histories are of" >&2; exit 1; }
	mkdir -p workflows/testdata/released/$(RELEASE)
	LINKWRIGHT_RECORD_HISTORY=$(abspath workflows/testdata/released/$(RELEASE)) LINKWRIGHT_TEMPORAL=$(abspath $(TEMPORAL)) \
		LINKWRIGHT_REQUIRE_INTEGRATION=1 $(GO) test -count=1 \
		-run 'TestIntegrationBidirectionalEnablement$$|TestIntegrationLiveLinkLifeOnTheSimulatedCloud$$' ./worker/

## stress-test: the integration tests STRESS_COUNT times (3) under -race while busy loops load every core
stress-test: $(TEMPORAL)
	@deployments/local/stress.sh

## bench: the benchmark (bench/): throughput and CPU against a no-op of the same shape, approval
## latency, the worker at a fleet of 1,000 to 10,000 links, throttling; long (about an hour).
## BENCH_FLAGS passes flags, e.g. BENCH_FLAGS="-quick" or "-levels 1000 -out figures.json".
bench: $(TEMPORAL) build
	$(GO) build -o $(BIN)/linkwright-bench ./bench
	LINKWRIGHT_TEMPORAL=$(abspath $(TEMPORAL)) $(BIN)/linkwright-bench $(BENCH_FLAGS)

unit-test:
	$(GO) test -count=1 -short ./...

integration-test: $(TEMPORAL)
	LINKWRIGHT_TEMPORAL=$(abspath $(TEMPORAL)) LINKWRIGHT_REQUIRE_INTEGRATION=1 \
		$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run Integration ./worker/

fuzz:
	$(GO) test -run=NONE -fuzz=FuzzDecodeValidate -fuzztime=60s ./internal/request/

vet:
	$(GO) vet ./...
	cd deployments/kubernetes && $(GO) vet ./...

# Binaries are stamped with VERSION (their build ID): Go's own VCS stamp
# is off where GOFLAGS holds -buildvcs=false.
LDFLAGS := -X main.version=$(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/linkwright-worker ./worker
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/linkwright ./starter
	$(GO) build -o $(BIN)/linkwright-motostack ./internal/cloud/aws/awstest/motostack

# The Temporal CLI (dev server and Web UI), pinned in its own module so its
# dependencies stay out of the worker's go.mod. Built once, then cached.
$(TEMPORAL): deployments/local/go.mod deployments/local/go.sum
	@echo "Building the Temporal CLI $$(grep -m1 'temporalio/cli ' deployments/local/go.mod | awk '{print $$NF}') into $(TEMPORAL) (a few minutes the first time)..."
	cd deployments/local && $(GO) build -o $(abspath $(TEMPORAL)) github.com/temporalio/cli/cmd/temporal

clean:
	rm -rf $(BIN)
