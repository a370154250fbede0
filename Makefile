# spanwise: the two commands a new machine needs are `make demo` and `make test`.
#
# Everything builds in one profile (release) and one target directory, so each dependency
# compiles once for the tests, the benches, the binary and the plugins. The WebAssembly
# components are built by `tests/components` (its build.rs, which plain `cargo test` runs too)
# into $(TARGET_DIR)/wasm-components.

CARGO ?= cargo
TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
COMPONENTS := $(TARGET_DIR)/wasm-components/wasm32-wasip2/release
VENV := .venv
# The overhead gate's limits are in benches/gate.txt: one per plugin and workload (WebAssembly
# against native, same run) and one per pipeline (platform throughput against pass-through).
# Every crate under plugins/ but the SDK, and every test guest: clippy checks them for wasm32.
WASM_PACKAGES := $(shell sed -n 's/^name = "\(.*\)"/\1/p' $(filter-out plugins/sdk/Cargo.toml,$(wildcard plugins/*/Cargo.toml)) $(wildcard tests/guests/*/Cargo.toml) plugins/sdk/template/Cargo.toml)

.PHONY: setup plugins demo test bench load soak fuzz fmt lint clean ffi ffi-header collector collector-test collector-bench

## setup: install what a new machine lacks (the wasm32-wasip2 target, the Python and Node.js
## OTLP clients)
setup: $(VENV)/.installed tests/e2e/node_modules/.installed
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2 \
		|| { test -x ../shared/toolchain/install-wasm32-wasip2 && ../shared/toolchain/install-wasm32-wasip2; }

$(VENV)/.installed: tests/e2e/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
	touch $@

tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	touch $@

## plugins: build every component and copy the plugins to dist/plugins (spanwise-url -> url.wasm)
plugins: setup
	$(CARGO) build --release -p spanwise-test-components
	mkdir -p dist/plugins
	@for package in $(filter-out plugins/sdk,$(patsubst %/Cargo.toml,%,$(wildcard plugins/*/Cargo.toml))); do \
		name=$$(sed -n 's/^name = "spanwise-\(.*\)"/\1/p' $$package/Cargo.toml | tr - _); \
		cp $(COMPONENTS)/spanwise_$$name.wasm dist/plugins/$$name.wasm && echo "dist/plugins/$$name.wasm"; \
	done

## demo: realistic traces through examples/pipeline.yaml, with a report
demo: plugins
	$(CARGO) run --release -p spanwise -- demo

## test: every test (unit, WebAssembly integration, end-to-end with real OTLP clients, and the
## Go tests of spanwise inside the OpenTelemetry Collector)
test: setup
	SPANWISE_PYTHON=$(CURDIR)/$(VENV)/bin/python $(CARGO) test --release --workspace
	$(MAKE) collector-test

## bench: criterion benches (every plugin native and WebAssembly on W1 and W2, the platform
## pipeline against pass-through, fixed costs, the batch), the overhead gate (benches/gate.txt)
## and its self-test, and the tail sampler buffer's memory count against a counting allocator
bench: setup
	CRITERION_HOME=$(TARGET_DIR)/criterion $(CARGO) bench -p spanwise-benches
	$(CARGO) run --release -q -p spanwise-benches --bin overhead-gate -- benches/gate.txt
	CARGO=$(CARGO) benches/gate-selftest.sh
	$(CARGO) run --release -q -p spanwise-benches --bin buffer-memory

## soak: 10,000 spans/s through the platform pipeline for SOAK_SECONDS (60), checking that
## every span is delivered or counted as dropped, memory stays flat and no instance stays busy
SOAK_SECONDS ?= 60
soak: plugins
	$(CARGO) build --release -p spanwise
	python3 benches/soak/soak.py --duration $(SOAK_SECONDS) --bin $(TARGET_DIR)/release/spanwise

## fuzz: each cargo fuzz target (OTLP protobuf and JSON decoding, OTTL conditions) for
## FUZZ_SECONDS (20)
FUZZ_SECONDS ?= 20
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

## load: `spanwise run` with the pass-through and the platform pipeline (benches/load), `spanwise
## gen` against each on loopback; prints spans per second and the CPU the host used
load: plugins
	$(CARGO) build --release -p spanwise
	SPANWISE_BIN=$(TARGET_DIR)/release/spanwise benches/load/load.sh

## ffi: the host's C ABI as a static library (host/ffi -> $(TARGET_DIR)/release/libspanwise_ffi.a)
ffi:
	$(CARGO) build --release -p spanwise-ffi

## ffi-header: write host/ffi/include/spanwise.h from the code (a test checks that it is current)
ffi-header:
	SPANWISE_WRITE_HEADER=1 $(CARGO) test --release -p spanwise-ffi --test header

# cgo does not notice when the static library changes: its hash goes into CGO_CFLAGS, which is
# part of Go's build cache key, so a new library rebuilds the package that links it.
GO_ENV = CGO_LDFLAGS="-L$(abspath $(TARGET_DIR))/release" \
	CGO_CFLAGS="-O2 -DSPANWISE_FFI_BUILD=$$(sha256sum $(TARGET_DIR)/release/libspanwise_ffi.a | cut -c1-16)"

## collector: otelcol-spanwise, the OpenTelemetry Collector with the spanwise processor and the
## contrib processors it is compared with (collector/ -> $(TARGET_DIR)/otelcol-spanwise)
collector: plugins ffi
	@command -v go >/dev/null || { echo "Go 1.26 or later is needed for the collector build (https://go.dev/dl/)"; exit 1; }
	cd collector && $(GO_ENV) go build -o $(abspath $(TARGET_DIR))/otelcol-spanwise ./cmd/otelcol-spanwise

## collector-test: the Go tests: the spanwise processor in process, the differential tests
## against the contrib processors, and the collector binary end to end
collector-test: collector
	cd collector && $(GO_ENV) SPANWISE_COMPONENTS=$(abspath $(COMPONENTS)) \
		SPANWISE_COLLECTOR=$(abspath $(TARGET_DIR))/otelcol-spanwise \
		SPANWISE_PYTHON=$(CURDIR)/$(VENV)/bin/python go test -count=1 ./...

## collector-bench: the platform's chain inside the collector, from the collector's processors
## and from spanwise plugins, on the same batches: spans per second of each and the ratio
collector-bench: collector
	cd collector && $(GO_ENV) go run ./cmd/sidebyside -components $(abspath $(COMPONENTS))

fmt:
	$(CARGO) fmt --all

## lint: rustfmt, clippy (native and wasm32) and rustdoc, all with warnings denied
lint: setup
	$(CARGO) fmt --all -- --check
	cd fuzz && $(CARGO) fmt -- --check && cd config && $(CARGO) fmt -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 $(foreach p,$(WASM_PACKAGES),-p $(p)) -- -D warnings
	@test -z "$$(gofmt -l collector)" || { gofmt -l collector; echo "gofmt: the files above need formatting"; exit 1; }
	$(MAKE) ffi
	cd collector && $(GO_ENV) go vet ./...
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --no-deps -p spanwise -p spanwise-abi -p spanwise-sdk -p spanwise-batch -p spanwise-ottl -p spanwise-sampling -p spanwise-workload -p spanwise-url -p spanwise-filter -p spanwise-head-sampler -p spanwise-tail-sampler -p spanwise-ffi

clean:
	rm -rf dist $(VENV) tests/e2e/node_modules
