#!/usr/bin/env bash
# `make fuzz`: run each cargo fuzz target for FUZZ_SECONDS (default 20) from the seeds in
# fuzz/seeds, on the stable toolchain without a sanitizer (`-s none`: the code under test is
# safe Rust, so what the fuzzer looks for is panics, aborts, hangs and memory blow-ups). A
# finding fails the run and leaves its input under fuzz/artifacts/TARGET/ (fuzz/config/artifacts/
# for the config loader).
#
# FUZZ_CONFIG=1 also runs the config loader's target (fuzz/config), which links the whole host
# and with it wasmtime: its first build takes 10-15 minutes, so it builds in a target directory
# kept outside the checkout (FUZZ_CONFIG_TARGET_DIR, default ~/.cache/spanwise/fuzz-config-target)
# and later builds only redo what changed.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${FUZZ_SECONDS:-20}
TARGETS=${FUZZ_TARGETS:-otlp_protobuf otlp_json ottl_condition}
cargo fuzz build -s none -O
for target in $TARGETS; do
    corpus=$(mktemp -d)
    cp seeds/"$target"/* "$corpus"/
    echo "fuzz: $target for ${SECONDS_EACH}s"
    log=$(mktemp)
    status=0
    cargo fuzz run -s none -O "$target" "$corpus" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|thread|Done)' "$log" || true
    [ "$status" -eq 0 ] || tail -40 "$log" >&2
    rm -rf "$corpus" "$log"
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $target found a failing input (see fuzz/artifacts/$target/)" >&2
        exit 1
    fi
done
if [ "${FUZZ_CONFIG:-0}" = 1 ]; then
    corpus=$(mktemp -d)
    cp config/seeds/* "$corpus"/
    echo "fuzz: config_loader for ${SECONDS_EACH}s"
    target_dir=${FUZZ_CONFIG_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanwise/fuzz-config-target}
    mkdir -p "$target_dir"
    cargo fuzz run --fuzz-dir config --target-dir "$target_dir" -s none -O config_loader "$corpus" -- \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1
    rm -rf "$corpus"
fi
