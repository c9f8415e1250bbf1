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

.PHONY: run run-aws test stress-test build unit-test integration-test fuzz vet clean bench

## run: the local stack: Temporal dev server + Web UI, the worker on the simulated cloud and file tracker
run: build $(TEMPORAL)
	@deployments/local/run.sh

## run-aws: the same on Linkwright's AWS provider, against moto (an AWS look-alike) on loopback
run-aws: build $(TEMPORAL)
	@LINKWRIGHT_STACK=aws deployments/local/run.sh

## test: every test, unit and integration, against a real local Temporal dev server
test: $(TEMPORAL) vet
	LINKWRIGHT_TEMPORAL=$(abspath $(TEMPORAL)) LINKWRIGHT_REQUIRE_INTEGRATION=1 \
		$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

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

build:
	$(GO) build -o $(BIN)/linkwright-worker ./worker
	$(GO) build -o $(BIN)/linkwright ./starter
	$(GO) build -o $(BIN)/linkwright-motostack ./internal/cloud/aws/awstest/motostack

# The Temporal CLI (dev server and Web UI), pinned in its own module so its
# dependencies stay out of the worker's go.mod. Built once, then cached.
$(TEMPORAL): deployments/local/go.mod deployments/local/go.sum
	@echo "Building the Temporal CLI $$(grep -m1 'temporalio/cli ' deployments/local/go.mod | awk '{print $$NF}') into $(TEMPORAL) (a few minutes the first time)..."
	cd deployments/local && $(GO) build -o $(abspath $(TEMPORAL)) github.com/temporalio/cli/cmd/temporal

clean:
	rm -rf $(BIN)
