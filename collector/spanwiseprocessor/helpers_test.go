package spanwiseprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"example.invalid/spanwise/collector/internal/components"
)

// wasmFile is the path of a WebAssembly component the Rust build made.
func wasmFile(t testing.TB, name string) string { return components.Path(t, name) }

// newConfig is the processor's config made from block, as the collector would unmarshal it.
func newConfig(t testing.TB, block map[string]any) *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := confmap.NewFromStringMap(block).Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// started creates and starts processor id with block, sending what it outputs to a sink.
func started(t testing.TB, id string, block map[string]any) (processor.Traces, *consumertest.TracesSink) {
	t.Helper()
	cfg := newConfig(t, block)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	set := processortest.NewNopSettings(typeStr)
	set.ID = mustID(id)
	sink := new(consumertest.TracesSink)
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return p, sink
}

// traces is one resource with n spans named name, each with a URL holding a patient id.
func traces(name string, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < n; i++ {
		span := spans.AppendEmpty()
		span.SetName(name)
		span.SetTraceID(pcommon.TraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(i)}))
		span.SetSpanID(pcommon.SpanID([8]byte{1, 2, 3, 4, 5, 6, 7, byte(i)}))
		span.Attributes().PutStr("url.full", "https://shop.example/cart/12345?patient=p-1&page=2")
		span.Attributes().PutInt("index", int64(i))
	}
	return td
}

// urls are the url.full values of every span in td, in order.
func urls(td ptrace.Traces) []string {
	var out []string
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			spans := ss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				v, _ := spans.At(k).Attributes().Get("url.full")
				out = append(out, v.Str())
			}
		}
	}
	return out
}

// wantURLs fails the test unless the sink's first batch has n spans, each with url.full want.
func wantURLs(t *testing.T, sink *consumertest.TracesSink, n int, want string) {
	t.Helper()
	got := urls(sink.AllTraces()[0])
	if len(got) != n {
		t.Fatalf("%d spans went on, want %d", len(got), n)
	}
	for _, u := range got {
		if u != want {
			t.Errorf("url.full is %q, want %q", u, want)
		}
	}
}
