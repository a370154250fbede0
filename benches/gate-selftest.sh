#!/usr/bin/env bash
# The overhead gate's self-test: bench the filter plugin on W1 with its WebAssembly side
# deliberately slowed (SPANWISE_BENCH_SLOW runs it eight times over the batch per iteration),
# then check that the gate, given the table's own limit for that group, fails on it and names it.
set -euo pipefail
cd "$(dirname "$0")/.."

GROUP=filter_w1
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
grep -E "^$GROUP[[:space:]]" benches/gate.txt > "$DIR/gate.txt"

SPANWISE_BENCH_SLOW=$GROUP CRITERION_HOME=$DIR/criterion \
    ${CARGO:-cargo} bench -q -p spanwise-benches --bench plugin_overhead -- \
    --warm-up-time 0.5 --measurement-time 1 --noplot "^$GROUP/" >"$DIR/bench.log" 2>&1 \
    || { cat "$DIR/bench.log" >&2; exit 1; }
set +e
output=$(${CARGO:-cargo} run --release -q -p spanwise-benches --bin overhead-gate -- "$DIR/criterion" "$DIR/gate.txt" 2>&1)
status=$?
set -e
echo "$output"
if [ "$status" -ne 1 ] || ! grep -q "past the limits.*$GROUP" <<<"$output"; then
    echo "gate-selftest: the gate did not fail on the deliberately slowed $GROUP (exit $status)" >&2
    exit 1
fi
echo "gate-selftest: the gate fails on a deliberately slowed plugin, as it should"
