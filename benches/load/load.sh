#!/usr/bin/env bash
# `make load`: serve each pipeline with `spanwise run`, send it load with `spanwise gen` on
# loopback, and print the spans per second acknowledged and the CPU the host used (its own
# process only, from /proc), for the pass-through pipeline and the platform pipeline.
#
# Settings (environment): LOAD_DURATION (10s), LOAD_WORKLOAD (w1), LOAD_PROTOCOL (http),
# LOAD_CONCURRENCY (8), LOAD_BATCH (1000), LOAD_PIPELINES (pass-through platform; `tail` is
# tail sampling as the platform runs it, benches/load/tail.yaml; `sampling` the filter and the
# head sampler at 10%, benches/load/sampling.yaml; `file` the OTLP-JSON file exporter alone,
# benches/load/file.yaml, writing to a temporary file).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${SPANWISE_BIN:-target/release/spanwise}
DURATION=${LOAD_DURATION:-10s}
WORKLOAD=${LOAD_WORKLOAD:-w1}
PROTOCOL=${LOAD_PROTOCOL:-http}
CONCURRENCY=${LOAD_CONCURRENCY:-8}
BATCH=${LOAD_BATCH:-1000}
PIPELINES=${LOAD_PIPELINES:-pass-through platform}
TICKS=$(getconf CLK_TCK)
LOG=$(mktemp)
export SPANWISE_OUTPUT
SPANWISE_OUTPUT=$(mktemp)
trap 'rm -f "$LOG" "$SPANWISE_OUTPUT"' EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# utime + stime of a process, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

printf '%-13s %-8s %-5s %14s %10s %16s\n' pipeline workload proto "spans/s" "host CPU" "spans/s per core"
for pipeline in $PIPELINES; do
    grpc_port=$(free_port)
    http_port=$(free_port)
    SPANWISE_GRPC_ENDPOINT=127.0.0.1:$grpc_port SPANWISE_HTTP_ENDPOINT=127.0.0.1:$http_port \
        "$BIN" run --config "benches/load/$pipeline.yaml" >/dev/null 2>"$LOG" &
    pid=$!
    for _ in $(seq 300); do
        grep -q "spanwise is running" "$LOG" && break
        kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
        sleep 0.1
    done
    grep -q "spanwise is running" "$LOG" || { echo "spanwise did not start within 30 s" >&2; cat "$LOG" >&2; kill "$pid"; exit 1; }
    case $PROTOCOL in
        grpc) endpoint=127.0.0.1:$grpc_port ;;
        *) endpoint=127.0.0.1:$http_port ;;
    esac
    before=$(cpu_ticks "$pid")
    report=$("$BIN" gen --endpoint "$endpoint" --protocol "$PROTOCOL" --workload "$WORKLOAD" \
        --batch "$BATCH" --concurrency "$CONCURRENCY" --duration "$DURATION" --json 2>/dev/null)
    after=$(cpu_ticks "$pid")
    kill -TERM "$pid"
    wait "$pid" || { echo "spanwise exited with an error:" >&2; tail -5 "$LOG" >&2; exit 1; }
    python3 - "$pipeline" "$report" "$before" "$after" "$TICKS" <<'PY'
import json, sys
pipeline, report, before, after, ticks = sys.argv[1], json.loads(sys.argv[2]), *map(int, sys.argv[3:])
cores = (after - before) / ticks / report["seconds"]
# Every span the host took counts, kept or dropped by a processor (refused: partial success).
rate = (report["sent"] - report["failed"]) / report["seconds"]
if report["failed"] or report["refused"] and pipeline == "pass-through":
    sys.exit(f"{pipeline}: {report['failed']} spans failed, {report['refused']} refused")
print(f"{pipeline:<13} {report['workload']:<8} {report['protocol'][5:]:<5} {rate:14,.0f} {cores:9.2f}c {rate / max(cores, 1e-9):16,.0f}")
PY
done
