// Command sidebyside feeds the same batches through the platform's chain built twice inside
// the OpenTelemetry Collector: from the collector's own processors (attributes masking, filter,
// probabilistic_sampler) and from spanwise plugins (redact, filter, head_sampler) in the
// spanwise processor, with equivalent configs. It first checks that both chains give the same
// output, then times each with testing.Benchmark and prints spans per second and the ratio.
//
// Usage: sidebyside [-components DIR] [-batches N] [-traces-per-batch N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/probabilisticsamplerprocessor"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"example.invalid/spanwise/collector/difftest"
	"example.invalid/spanwise/collector/internal/components"
	"example.invalid/spanwise/collector/spanwiseprocessor"
)

var (
	masking = map[string]any{"actions": []any{
		map[string]any{"key": "user.id", "action": "hash"},
		map[string]any{"key": "enduser.email", "action": "hash"},
		map[string]any{"key": "patient.id", "action": "delete"},
		map[string]any{"key": "password", "action": "delete"},
		map[string]any{"pattern": `^http\.(request|response)\.body$`, "action": "delete"},
	}}
	filter = map[string]any{"error_mode": "ignore", "traces": map[string]any{"span": []any{
		`attributes["http.route"] == "/health"`,
		`attributes["grpc.method"] == "Health/Check"`,
		`end_time_unix_nano - start_time_unix_nano < 1000000`,
	}}}
	sampler = map[string]any{"mode": "proportional", "sampling_percentage": 30}
)

func chains(components string) (contrib, spanwise []difftest.Link) {
	contrib = []difftest.Link{
		{Factory: attributesprocessor.NewFactory(), ID: "attributes/mask", Config: masking},
		{Factory: filterprocessor.NewFactory(), ID: "filter", Config: filter},
		{Factory: probabilisticsamplerprocessor.NewFactory(), ID: "probabilistic_sampler", Config: sampler},
	}
	plugin := func(name string, config map[string]any) map[string]any {
		return map[string]any{"plugin": filepath.Join(components, "spanwise_"+name+".wasm"), "config": config}
	}
	spanwise = []difftest.Link{
		{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/redact", Config: plugin("redact", masking)},
		{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/filter", Config: plugin("filter", filter)},
		{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/head", Config: plugin("head_sampler", sampler)},
	}
	return contrib, spanwise
}

// oneProcessor is the spanwise chain as one processor (`chain:`): one crossing for the three.
func oneProcessor(spanwise []difftest.Link) []difftest.Link {
	var chain []any
	for _, link := range spanwise {
		chain = append(chain, link.Config)
	}
	return []difftest.Link{{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/platform", Config: map[string]any{"chain": chain}}}
}

// floor is three spanwise processors whose plugin does nothing: what crossing into spanwise
// costs (OTLP encoding in Go, decoding in Rust, the call, and back) before any plugin works.
func floor(components string) []difftest.Link {
	noop := map[string]any{"plugin": filepath.Join(components, "spanwise_guest_noop.wasm")}
	return []difftest.Link{
		{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/noop1", Config: noop},
		{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/noop2", Config: noop},
		{Factory: spanwiseprocessor.NewFactory(), ID: "spanwise/noop3", Config: noop},
	}
}

// run sends every batch through the chain and returns what came out.
func run(links []difftest.Link, batches []ptrace.Traces) (ptrace.Traces, error) {
	sink := new(consumertest.TracesSink)
	first, stop, err := difftest.Chain(links, sink)
	if err != nil {
		return ptrace.Traces{}, err
	}
	for _, batch := range batches {
		copied := ptrace.NewTraces()
		batch.CopyTo(copied)
		if err := first.ConsumeTraces(context.Background(), copied); err != nil {
			return ptrace.Traces{}, err
		}
	}
	if err := stop(); err != nil {
		return ptrace.Traces{}, err
	}
	out := ptrace.NewTraces()
	for _, td := range sink.AllTraces() {
		td.ResourceSpans().MoveAndAppendTo(out.ResourceSpans())
	}
	return out, nil
}

// bench times the chain over the batches, round and round: spans per second in.
func bench(links []difftest.Link, batches []ptrace.Traces, spans int) (float64, error) {
	first, stop, err := difftest.Chain(links, consumertest.NewNop())
	if err != nil {
		return 0, err
	}
	defer stop()
	copies := make([]ptrace.Traces, len(batches))
	var failed error
	result := testing.Benchmark(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for j, batch := range batches {
				copies[j] = ptrace.NewTraces()
				batch.CopyTo(copies[j])
			}
			b.StartTimer()
			for _, c := range copies {
				if err := first.ConsumeTraces(context.Background(), c); err != nil {
					failed = err
					b.FailNow()
				}
			}
		}
	})
	if failed != nil {
		return 0, failed
	}
	return float64(spans) * float64(result.N) / result.T.Seconds(), nil
}

func main() {
	components := flag.String("components", components.Dir(), "the folder of the built components")
	batchCount := flag.Int("batches", 10, "batches per round")
	tracesPerBatch := flag.Int("traces-per-batch", 150, "traces per batch (about 6.6 spans each)")
	flag.Parse()

	var batches []ptrace.Traces
	spans := 0
	for i := 0; i < *batchCount; i++ {
		td := difftest.Generate(uint64(1000+i), *tracesPerBatch)
		spans += td.SpanCount()
		batches = append(batches, td)
	}
	contrib, spanwise := chains(*components)

	want, err := run(contrib, batches)
	check(err)
	got, err := run(spanwise, batches)
	check(err)
	if !reflect.DeepEqual(difftest.Spans(want), difftest.Spans(got)) {
		diffs := difftest.Diff(difftest.Spans(want), difftest.Spans(got))
		fmt.Fprintf(os.Stderr, "the chains disagree on %d spans, first: %s\n", len(diffs), diffs[0])
		os.Exit(1)
	}
	fmt.Printf("%d batches of about %d spans (%d spans); both chains keep %d\n", len(batches), spans/len(batches), spans, want.SpanCount())

	contribRate, err := bench(contrib, batches, spans)
	check(err)
	spanwiseRate, err := bench(spanwise, batches, spans)
	check(err)
	chained, err := run(oneProcessor(spanwise), batches)
	check(err)
	if !reflect.DeepEqual(difftest.Spans(want), difftest.Spans(chained)) {
		fmt.Fprintln(os.Stderr, "the spanwise chain in one processor disagrees with the collector's chain")
		os.Exit(1)
	}
	chainRate, err := bench(oneProcessor(spanwise), batches, spans)
	check(err)
	floorRate, err := bench(floor(*components), batches, spans)
	check(err)
	fmt.Printf("collector processors (attributes -> filter -> probabilistic_sampler): %10.0f spans/s\n", contribRate)
	fmt.Printf("spanwise plugins     (redact -> filter -> head_sampler):               %10.0f spans/s\n", spanwiseRate)
	fmt.Printf("spanwise, one processor (chain: [redact, filter, head_sampler]):       %10.0f spans/s\n", chainRate)
	fmt.Printf("spanwise floor       (three processors whose plugin does nothing):     %10.0f spans/s\n", floorRate)
	fmt.Printf("spanwise / collector: %.2f; as one processor: %.2f; floor: %.2f\n", spanwiseRate/contribRate, chainRate/contribRate, floorRate/contribRate)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
