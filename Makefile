# Every target runs from a clean clone: `make test` installs what it needs first.
SHELL := /bin/bash
export npm_config_nodedir := /usr
MOCHA := npx mocha
FAST_SPECS := 'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts' 'tests/contract/**/*.test.ts' 'tests/e2e/**/*.test.ts'
SLOW_SPECS := 'tests/slow/**/*.test.ts'

.PHONY: setup proto build lint test test-fast test-slow run bench bench-engine

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: node_modules/.package-lock.json

proto: setup
	npx buf lint
	npx buf generate
	npx buf build -o packages/proto/descriptors.binpb

build: setup
	npx tsc --noEmit -p .

lint: setup
	npx buf lint
	npx tsc --noEmit -p .

test: setup lint test-fast test-slow

test-fast: setup
	$(MOCHA) $(FAST_SPECS)

test-slow: setup python-grpc
	$(MOCHA) --timeout 180000 $(SLOW_SPECS)

# Python gRPC client for the polyglot test: Debian's packages, installed only when missing.
.PHONY: python-grpc
python-grpc:
	@/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-grpcio python3-grpc-tools; }

bench: setup
	node --import tsx packages/loadgen/src/main.ts $(ARGS)

# auth + matching on embedded defaults (SQLite and the journal under ./data); Ctrl-C stops both gracefully.
run: setup
	node --import tsx services/stack/src/main.ts
