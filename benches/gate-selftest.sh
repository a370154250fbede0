#!/usr/bin/env bash
# The overhead gate's self-test: time the filter plugin on W1 with its WebAssembly side
# deliberately slowed (SPANWISE_BENCH_SLOW runs it eight times over the batch per iteration),
# and check that the gate, with the table's own limit for that group, fails on it and names it.
set -euo pipefail
cd "$(dirname "$0")/.."

GROUP=filter_w1
set +e
output=$(SPANWISE_BENCH_SLOW=$GROUP ${CARGO:-cargo} run --release -q -p spanwise-benches \
    --bin overhead-gate -- benches/gate.txt "$GROUP" 2>&1)
status=$?
set -e
echo "$output"
if [ "$status" -ne 1 ] || ! grep -q "past the limits.*$GROUP" <<<"$output"; then
    echo "gate-selftest: the gate did not fail on the deliberately slowed $GROUP (exit $status)" >&2
    exit 1
fi
echo "gate-selftest: the gate fails on a deliberately slowed plugin, as it should"
