#!/usr/bin/env python3
"""Soak: 10,000 spans per second through the platform pipeline for a while, then check that
nothing was lost, memory stayed flat and every pooled plugin instance came back.

    benches/soak/soak.py [--duration 60] [--rate 10000] [--bin target/release/spanwise]

Runs `spanwise run` with benches/soak/soak.yaml, exporting to a second `spanwise run` (the
sink, benches/load/pass-through.yaml), and `spanwise gen` (workload w2 over OTLP/gRPC) against
it. Checks, failing with a message for each broken one:

- every span the generator had acknowledged was taken by the pipeline (`spans_in` of its first
  plugin), and every span taken was either dropped by a processor (counted, with a reason),
  dropped with a batch whose plugin call failed (`on_error: drop`, counted), or delivered to
  the sink; none lost, none refused for a full queue or for memory;
- at most 1% of the spans taken were dropped with a failed call. A call is cut off after its
  `limits.deadline` (100 ms) of wall time, which a machine busy with other work can exceed
  with a call that takes a millisecond or two; the line of figures says how many calls were,
  and a plugin that fails for any other reason fails the first check of the next batches too;
- the resident memory of the pipeline's process in the last quarter of the run is within 20%
  (plus 16 MiB) of the second quarter's (the first quarter is warm-up);
- no plugin instance is still busy once the load has stopped.

Prints one line of figures. Exits 1 when a check fails.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, config, env, log):
    process = subprocess.Popen(
        [binary, "run", "--config", config],
        cwd=ROOT,
        env={**os.environ, **env, "SPANWISE_LOG": "info"},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(log.name, encoding="utf-8", errors="replace") as text:
            if "spanwise is running" in text.read():
                return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    with open(log.name, encoding="utf-8", errors="replace") as text:
        sys.exit(f"{config} did not start:\n{text.read()[-3000:]}")


def resident_mib(pid):
    with open(f"/proc/{pid}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def scrape(address):
    """The metrics as {(name, labels): value}."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        text = response.read().decode()
    metrics = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if match:
            metrics[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return metrics


def total(metrics, name, label=None):
    return sum(
        value
        for (n, labels), value in metrics.items()
        if n == name and (label is None or label in labels)
    )


def stop(process, what, failures):
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        failures.append(f"{what} did not stop within 60 s of SIGTERM")
        return
    if code != 0:
        failures.append(f"{what} exited with {code}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("SOAK_SECONDS", 60)))
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--bin", default=os.path.join(ROOT, "target/release/spanwise"))
    args = parser.parse_args()

    failures = []
    sink_grpc, sink_http = free_port(), free_port()
    grpc, http, metrics_port = free_port(), free_port(), free_port()
    metrics = f"127.0.0.1:{metrics_port}"
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as sink_log, tempfile.NamedTemporaryFile(
        "w+", suffix=".log"
    ) as log:
        sink = start(
            args.bin,
            "benches/load/pass-through.yaml",
            {
                "SPANWISE_GRPC_ENDPOINT": f"127.0.0.1:{sink_grpc}",
                "SPANWISE_HTTP_ENDPOINT": f"127.0.0.1:{sink_http}",
            },
            sink_log,
        )
        host = start(
            args.bin,
            "benches/soak/soak.yaml",
            {
                "SPANWISE_GRPC_ENDPOINT": f"127.0.0.1:{grpc}",
                "SPANWISE_HTTP_ENDPOINT": f"127.0.0.1:{http}",
                "SPANWISE_METRICS_ENDPOINT": metrics,
                "SPANWISE_SINK_ENDPOINT": f"127.0.0.1:{sink_grpc}",
            },
            log,
        )
        generator = subprocess.Popen(
            [
                args.bin, "gen", "--endpoint", f"127.0.0.1:{grpc}", "--protocol", "grpc",
                "--workload", "w2", "--rate", str(args.rate), "--duration", f"{args.duration}s",
                "--json",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        samples = []
        while generator.poll() is None:
            samples.append((time.monotonic(), resident_mib(host.pid)))
            time.sleep(1)
        report = json.loads(generator.stdout.read() or "{}")
        if generator.returncode != 0 or not report:
            failures.append(f"the generator failed (exit {generator.returncode}): {report}")

        # Let the batch processor and the sending queue empty.
        deadline = time.monotonic() + 30
        while True:
            seen = scrape(metrics)
            taken = total(seen, "spanwise_processor_spans_in_total", 'processor="wasm/filter"')
            dropped = total(seen, "spanwise_processor_spans_dropped_total")
            failed = total(seen, "spanwise_processor_spans_dropped_on_error_total")
            sent = total(seen, "spanwise_exporter_spans_sent_total")
            queued = total(seen, "spanwise_exporter_queue_size")
            if (taken == dropped + failed + sent and queued == 0) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        busy = total(seen, "spanwise_processor_instances_busy")
        overruns = total(seen, "spanwise_processor_deadline_exceeded_total")
        lost = total(seen, "spanwise_exporter_spans_lost_total")
        refused = total(seen, "spanwise_exporter_spans_refused_queue_full_total")
        memory_refused = total(seen, "spanwise_processor_spans_refused_total")
        stop(host, "the pipeline", failures)
        stop(sink, "the sink", failures)

    acknowledged = report.get("acknowledged", 0) + report.get("refused", 0)
    if report.get("failed"):
        failures.append(f"{report['failed']} spans failed at the generator")
    if taken != acknowledged:
        failures.append(f"the generator had {acknowledged:.0f} spans acknowledged; the pipeline took {taken:.0f}")
    if taken != dropped + failed + sent:
        failures.append(
            f"taken {taken:.0f} != dropped {dropped:.0f} + dropped on error {failed:.0f} + "
            f"delivered {sent:.0f}: {taken - dropped - failed - sent:.0f} spans unaccounted for"
        )
    if failed > taken / 100:
        failures.append(
            f"{failed:.0f} spans were dropped with failed plugin calls "
            f"({overruns:.0f} calls past their deadline), more than 1% of those taken"
        )
    if lost or refused or memory_refused:
        failures.append(f"lost {lost:.0f}, refused by a full queue {refused:.0f}, by memory {memory_refused:.0f}")
    if busy:
        failures.append(f"{busy:.0f} plugin instances still busy after the load stopped")

    start_time = samples[0][0] if samples else 0
    span = (samples[-1][0] - start_time) if samples else 0
    quarter = lambda q: [m for t, m in samples if q * span / 4 <= t - start_time < (q + 1) * span / 4 + 1e-9]
    second, last = quarter(1), quarter(3)
    if second and last:
        early, late = sum(second) / len(second), sum(last) / len(last)
        if late > early * 1.2 + 16:
            failures.append(f"memory grew from {early:.0f} MiB to {late:.0f} MiB")
    else:
        early = late = float("nan")
        failures.append(f"too few memory samples ({len(samples)}): run longer")

    rate = taken / report["seconds"] if report.get("seconds") else 0
    print(
        f"soak {args.duration}s at {args.rate}/s: taken {taken:.0f} ({rate:,.0f}/s), dropped {dropped:.0f}, "
        f"dropped on error {failed:.0f} ({overruns:.0f} calls past their deadline), "
        f"delivered {sent:.0f}, lost {lost:.0f}; resident {early:.0f} MiB -> {late:.0f} MiB; "
        f"busy instances at the end {busy:.0f}"
    )
    for failure in failures:
        print(f"soak: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
