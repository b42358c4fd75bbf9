# Every target runs from a clean clone: `make test` installs what it needs first.
SHELL := /bin/bash
export npm_config_nodedir := /usr
MOCHA := npx mocha
FAST_SPECS := 'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts' 'tests/contract/**/*.test.ts' 'tests/e2e/**/*.test.ts'
SLOW_SPECS := 'tests/slow/**/*.test.ts'

.PHONY: setup proto build lint test test-fast test-slow test-deep mutation run run-ha bench bench-profile bench-engine bench-auth bench-subscribers bench-journal bench-snapshot verify-data

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: node_modules/.package-lock.json

# proto/orderbook and google.rpc (the grpc-status-details-bin types) are generated and described;
# the rest of google-proto-files' google/api comes in only as imports (the google.api.http annotations).
PROTO_TARGETS := --path proto/orderbook --path node_modules/google-proto-files/google/rpc

proto: setup
	npx buf lint
	npx buf generate $(PROTO_TARGETS)
	npx buf build $(PROTO_TARGETS) -o packages/proto/descriptors.binpb
	node --conditions=orderbook-ts --import tsx services/gateway/src/openapi-main.ts

# Compiles every workspace package and the test suites in the order of their project references
# (tsconfig.json) into each package's dist/ (ignored by git). make run and the benchmarks run that
# JavaScript with plain node; the tests run the TypeScript sources (export condition orderbook-ts).
build: setup
	npx tsc -b

lint: setup
	npx buf lint
	npx tsc -b

test: setup lint test-fast test-slow

test-fast: setup
	$(MOCHA) $(FAST_SPECS)

test-slow: setup test-tools
	$(MOCHA) --timeout 180000 $(SLOW_SPECS)

# The engine's property and differential tests with ENGINE_DEEP_RUNS random sequences each instead of
# a few (~10 min on a loaded 2-core machine); not part of CI.
ENGINE_DEEP_RUNS ?= 300
test-deep: setup
	ENGINE_DEEP_RUNS=$(ENGINE_DEEP_RUNS) $(MOCHA) --timeout 0 packages/engine/test/properties.test.ts packages/engine/test/differential.test.ts

# Mutation testing of packages/engine/src with StrykerJS (mocha runner, TypeScript checker): the HTML
# report goes to reports/mutation/engine.html. Slow (an hour or more on a loaded 2-core machine), so
# not in CI; ENGINE_MUTATION=1 makes the random tests stop at their first failure, without shrinking.
mutation: setup
	ENGINE_MUTATION=1 npx stryker run packages/engine/stryker.config.json $(ARGS)

# Tools of the slow tier, from Debian's packages, installed only when missing: the Python gRPC
# client (polyglot test), jq and curl (the README walk-throughs), strace (the journal's fdatasync
# test), promtool (prometheus: the alert rules' tests), chromium (the bench report's rendering test
# and the web console's browser test) and nats-server (the JetStream journal's 3-node cluster test).
.PHONY: test-tools
test-tools:
	@/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null && command -v jq >/dev/null && command -v curl >/dev/null && command -v strace >/dev/null && command -v promtool >/dev/null && test -x /usr/bin/chromium && command -v nats-server >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-grpcio python3-grpc-tools jq curl strace prometheus chromium nats-server; }

# Writes bench-results/bench-<time>.json and .html (charts of every phase, ours beside bare).
bench: build
	node packages/loadgen/dist/src/main.js $(ARGS)

# One closed-loop phase (unary or OrderSession) against matching under node --cpu-prof: its CPU per
# order (all threads, main thread) and where the main thread's time went, grouped by source file;
# ARGS e.g. --entry unary --seconds 20 --top 40, or --no-profile to compare builds by CPU per order.
bench-profile: build
	node packages/loadgen/dist/src/profile-main.js $(ARGS)

# Order entry at 150/s alone, then beside 2,000 reading + 50 idle book subscribers, then beside
# 10,000 idle ones (~3 min); ARGS e.g. --readers 500 --seconds 20. MATCHING_* variables pass through.
bench-subscribers: build
	node packages/loadgen/dist/src/market-data/market-data-bench.js $(ARGS)

# Checks a matching data directory offline: journal records and checksums, segments, snapshots and
# the seqs each covers. Exit 0 clean, 1 damaged, 2 unreadable. DIR defaults to make run's.
DIR ?= ./data/matching
verify-data: build
	node services/matching/dist/src/verify-main.js $(DIR)

# The file journal vs the JetStream journal (NATS on 127.0.0.1:4222, 1 replica; with --cluster also a
# 3-node cluster from nats-server, 3 replicas, and a leader with a follower on it: the follower's lag) in the same run (~40 s);
# ARGS e.g. --seconds 20 --clients 100.
bench-journal: build
	node services/matching/dist/bench/journal-bench.js $(ARGS)

# Snapshots of a book of 1M resting orders: the command loop's pause (capture), background write, file
# size, restore, and a steady client's longest acknowledgement gap with and without snapshots (~2 min);
# ARGS e.g. --orders 300000 --every 1000 --seconds 10.
bench-snapshot: build
	node --expose-gc services/matching/dist/bench/snapshot-bench.js $(ARGS)

# Matching engine vs nodejs-order-book on the same seeded workload (~3 min); ARGS e.g. --n 100000 --runs 5.
bench-engine: build
	node --expose-gc packages/engine/dist/bench/engine-bench.js $(ARGS)

# Sign-in latency at the production bcrypt cost and the revocation delay to matching (~1 min); ARGS e.g. --cost 10 --n 50.
bench-auth: build
	node packages/loadgen/dist/src/auth-bench.js $(ARGS)

# High availability on this machine: a 3-node NATS cluster from the installed nats-server (user and
# password), auth, and two matching instances on the replicated journal (:50062, :50063), data under
# ./data/ha; prints which one leads. Ctrl-C stops all.
run-ha: build
	ops/ha/run-ha.sh

# auth + matching + the HTTP gateway (:8080, web console at /) on embedded defaults (SQLite and the
# journal under ./data); Ctrl-C stops all gracefully.
run: build
	node services/stack/dist/src/main.js
