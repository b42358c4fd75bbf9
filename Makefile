# Every target runs from a clean clone: `make test` installs what it needs first.
SHELL := /bin/bash
export npm_config_nodedir := /usr
MOCHA := npx mocha
FAST_SPECS := 'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts' 'tests/contract/**/*.test.ts' 'tests/e2e/**/*.test.ts'
SLOW_SPECS := 'tests/slow/**/*.test.ts'

.PHONY: setup proto build lint test test-fast test-slow test-deep run bench bench-engine bench-auth bench-subscribers bench-journal verify-data

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: node_modules/.package-lock.json

proto: setup
	npx buf lint
	npx buf generate
	npx buf build -o packages/proto/descriptors.binpb

# Type-checks every workspace package and the test suites in the order of their project
# references (tsconfig.json); emits only declarations and build info (dist/, ignored by git).
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

# Tools of the slow tier, from Debian's packages, installed only when missing: the Python gRPC
# client (polyglot test), jq (the README walk-through), strace (the journal's fdatasync test),
# promtool (prometheus: the alert rules' tests), chromium (the bench report's rendering test) and
# nats-server (the JetStream journal's 3-node cluster test).
.PHONY: test-tools
test-tools:
	@/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null && command -v jq >/dev/null && command -v strace >/dev/null && command -v promtool >/dev/null && test -x /usr/bin/chromium && command -v nats-server >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-grpcio python3-grpc-tools jq strace prometheus chromium nats-server; }

# Writes bench-results/bench-<time>.json and .html (charts of every phase, ours beside bare).
bench: setup
	node --import tsx packages/loadgen/src/main.ts $(ARGS)

# Order entry at 150/s alone, then beside 2,000 reading + 50 idle book subscribers, then beside
# 10,000 idle ones (~3 min); ARGS e.g. --readers 500 --seconds 20. MATCHING_* variables pass through.
bench-subscribers: setup
	node --import tsx packages/loadgen/src/market-data/market-data-bench.ts $(ARGS)

# Checks a matching data directory offline: journal records and checksums, segments, snapshots and
# the seqs each covers. Exit 0 clean, 1 damaged, 2 unreadable. DIR defaults to make run's.
DIR ?= ./data/matching
verify-data: setup
	node --import tsx services/matching/src/verify-main.ts $(DIR)

# The file journal vs the JetStream journal (NATS on 127.0.0.1:4222, 1 replica; with --cluster also a
# 3-node cluster from nats-server, 3 replicas) in the same run (~30 s); ARGS e.g. --seconds 20 --clients 100.
bench-journal: setup
	node --import tsx services/matching/bench/journal-bench.ts $(ARGS)

# Matching engine vs nodejs-order-book on the same seeded workload (~3 min); ARGS e.g. --n 100000 --runs 5.
bench-engine: setup
	node --expose-gc --import tsx packages/engine/bench/engine-bench.ts $(ARGS)

# Sign-in latency at the production bcrypt cost and the revocation delay to matching (~1 min); ARGS e.g. --cost 10 --n 50.
bench-auth: setup
	node --import tsx packages/loadgen/src/auth-bench.ts $(ARGS)

# auth + matching on embedded defaults (SQLite and the journal under ./data); Ctrl-C stops both gracefully.
run: setup
	node --import tsx services/stack/src/main.ts
