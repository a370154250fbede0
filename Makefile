# spanwise: the two commands a new machine needs are `make demo` and `make test`.
#
# Everything builds in one profile (release) and one target directory, so each dependency
# compiles once for the tests, the benches, the binary and the plugins.

CARGO ?= cargo
TARGET_DIR := $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
WASM_OUT := $(TARGET_DIR)/wasm32-wasip2/release
PLUGINS := url
TEST_GUESTS := misbehave noop
VENV := .venv
# The most a WebAssembly pass of the URL plugin may cost, as a multiple of its native build.
MAX_OVERHEAD ?= 4

.PHONY: setup plugins demo test bench fmt lint clean

## setup: install what a new machine lacks (the wasm32-wasip2 target, the Python and Node.js
## OTLP clients)
setup: $(VENV)/.installed tests/e2e/node_modules/.installed
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

$(VENV)/.installed: tests/e2e/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
	touch $@

tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	touch $@

## plugins: build every plugin (and the test-only guests) as components into dist/plugins
plugins: setup
	$(CARGO) build --release --target wasm32-wasip2 $(foreach p,$(PLUGINS),-p spanwise-$(p)) $(foreach g,$(TEST_GUESTS),-p spanwise-guest-$(g))
	mkdir -p dist/plugins dist/test-guests
	$(foreach p,$(PLUGINS),cp $(WASM_OUT)/spanwise_$(p).wasm dist/plugins/$(p).wasm;)
	$(foreach g,$(TEST_GUESTS),cp $(WASM_OUT)/spanwise_guest_$(g).wasm dist/test-guests/$(g).wasm;)

## demo: realistic traces through examples/pipeline.yaml, with a report
demo: plugins
	$(CARGO) run --release -p spanwise -- demo

## test: every test (unit, WebAssembly integration, end-to-end with real OTLP clients)
test: plugins
	$(CARGO) build --release -p spanwise --bin spanwise
	SPANWISE_PYTHON=$(CURDIR)/$(VENV)/bin/python $(CARGO) test --release --workspace

## bench: criterion benches of native versus WebAssembly, with the overhead gate
bench: plugins
	CRITERION_HOME=$(TARGET_DIR)/criterion $(CARGO) bench -p spanwise-benches --bench plugin_overhead
	$(CARGO) run --release -q -p spanwise-benches --bin overhead-gate -- $(TARGET_DIR)/criterion $(MAX_OVERHEAD)

fmt:
	$(CARGO) fmt --all

## lint: rustfmt, clippy (native and wasm32) and rustdoc, all with warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	$(CARGO) clippy --release --target wasm32-wasip2 $(foreach p,$(PLUGINS),-p spanwise-$(p)) -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --no-deps -p spanwise -p spanwise-sdk -p spanwise-batch -p spanwise-url

clean:
	rm -rf dist $(VENV) tests/e2e/node_modules
