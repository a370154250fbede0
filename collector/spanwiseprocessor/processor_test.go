package spanwiseprocessor

import (
	"context"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

func mustID(id string) component.ID {
	var parsed component.ID
	if err := parsed.UnmarshalText([]byte(id)); err != nil {
		panic(err)
	}
	return parsed
}

func TestConfigErrorsAreTheHostsAndNameTheKey(t *testing.T) {
	cases := []struct {
		block map[string]any
		want  string
	}{
		{map[string]any{}, "missing field `plugin`"},
		{map[string]any{"plugin": "x.wasm", "colour": 1}, "colour: unknown field `colour`"},
		{map[string]any{"plugin": "x.wasm", "on_error": "explode"}, "on_error: unknown variant `explode`"},
		{map[string]any{"plugin": "x.wasm", "limits": map[string]any{"deadline": "soon"}}, "limits.deadline: "},
		{map[string]any{"plugin": "x.wasm", "pool_size": 0}, "pool_size: 0 is not between 1 and 256"},
		{map[string]any{"plugin": "x.wasm", "keys": map[string]any{"patient": "short"}}, "keys.patient: "},
	}
	for _, c := range cases {
		err := newConfig(t, c.block).Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error starting with %q", c.block, err, c.want)
		}
	}
	if err := newConfig(t, map[string]any{"plugin": "later.wasm", "limits": map[string]any{"deadline": "50ms"}}).Validate(); err != nil {
		t.Errorf("a good block was refused: %v", err)
	}
}

func TestLoadErrorsStopTheStartAndNameTheKey(t *testing.T) {
	cfg := newConfig(t, map[string]any{"plugin": wasmFile(t, "url"), "config": map[string]any{"keep_params": 7}})
	set := processortest.NewNopSettings(typeStr)
	set.ID = mustID("spanwise/url")
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	err = p.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.HasPrefix(err.Error(), "processors.spanwise/url.config") {
		t.Fatalf("got %v, want an error about processors.spanwise/url.config", err)
	}
}

func TestTheURLPluginEditsSpansInsideTheCollector(t *testing.T) {
	p, sink := started(t, "spanwise/url", map[string]any{
		"plugin": wasmFile(t, "url"),
		"config": map[string]any{"keep_params": []any{"page"}, "collapse_ids": true},
	})
	if err := p.ConsumeTraces(context.Background(), traces("GET /cart", 3)); err != nil {
		t.Fatal(err)
	}
	wantURLs(t, sink, 3, "https://shop.example/cart/{id}?page=2")
}

func TestDroppedBatchesGoNoFurther(t *testing.T) {
	p, sink := started(t, "spanwise/filter", map[string]any{
		"plugin": wasmFile(t, "filter"),
		"config": map[string]any{"traces": map[string]any{"span": []any{`name == "GET /health"`}}},
	})
	if err := p.ConsumeTraces(context.Background(), traces("GET /health", 4)); err != nil {
		t.Fatal(err)
	}
	if n := sink.SpanCount(); n != 0 {
		t.Fatalf("%d health-check spans went on", n)
	}
	if err := p.ConsumeTraces(context.Background(), traces("GET /cart", 2)); err != nil {
		t.Fatal(err)
	}
	if n := sink.SpanCount(); n != 2 {
		t.Fatalf("%d spans went on, want 2", n)
	}
}

// Every way a plugin can fail, inside the collector's process: the call returns, on_error
// decides, the next batch runs on a fresh instance, and the Go runtime never sees a signal.
func TestFailingPluginsAreContained(t *testing.T) {
	block := func(onError string) map[string]any {
		return map[string]any{
			"plugin":    wasmFile(t, "guest_misbehave"),
			"on_error":  onError,
			"pool_size": 1,
			"limits":    map[string]any{"deadline": "200ms", "memory": "32MiB"},
			"traps":     map[string]any{"disable_after": 0, "backoff": "1ms", "max_backoff": "1ms"},
		}
	}
	drop, dropped := started(t, "spanwise/drop", block("drop"))
	pass, passed := started(t, "spanwise/pass", block("pass"))
	for _, mode := range []string{"loop", "alloc", "panic", "oob", "recurse", "fail"} {
		before := dropped.SpanCount()
		if err := drop.ConsumeTraces(context.Background(), traces(mode, 2)); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if dropped.SpanCount() != before {
			t.Errorf("%s: spans went on although on_error is drop", mode)
		}
		passed.Reset()
		if err := pass.ConsumeTraces(context.Background(), traces(mode, 2)); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := urls(passed.AllTraces()[0]); len(got) != 2 || got[0] != "https://shop.example/cart/12345?patient=p-1&page=2" {
			t.Errorf("%s: on_error pass should send the batch on unedited, got %v", mode, got)
		}
		for _, p := range []processor.Traces{drop, pass} {
			if err := p.ConsumeTraces(context.Background(), traces("hello", 1)); err != nil {
				t.Fatalf("after %s: %v", mode, err)
			}
		}
	}
	if n := dropped.SpanCount(); n != 6 {
		t.Errorf("%d spans of the good batches went on through the drop processor, want 6", n)
	}
}

// Goroutines on many OS threads share one processor (a pool of two instances).
func TestConcurrentBatches(t *testing.T) {
	p, sink := started(t, "spanwise/url", map[string]any{"plugin": wasmFile(t, "url"), "pool_size": 2})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := p.ConsumeTraces(context.Background(), traces("GET /cart", 1+i%5)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := 8 * (4*1 + 4*2 + 4*3 + 4*4 + 4*5)
	if n := sink.SpanCount(); n != want {
		t.Fatalf("%d spans, want %d", n, want)
	}
	for _, td := range sink.AllTraces() {
		for _, u := range urls(td) {
			if strings.Contains(u, "patient") {
				t.Fatalf("a URL kept its query: %s", u)
			}
		}
	}
}

// A chain runs its plugins in order behind one crossing: the filter drops, the URL plugin edits
// what is left.
func TestAChainOfPlugins(t *testing.T) {
	p, sink := started(t, "spanwise/platform", map[string]any{"chain": []any{
		map[string]any{"plugin": wasmFile(t, "filter"), "config": map[string]any{"traces": map[string]any{"span": []any{`name == "GET /health"`}}}},
		map[string]any{"plugin": wasmFile(t, "url"), "config": map[string]any{"collapse_ids": true}},
	}})
	td := traces("GET /health", 2)
	traces("GET /cart", 3).ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	wantURLs(t, sink, 3, "https://shop.example/cart/{id}")
	if err := newConfig(t, map[string]any{"chain": []any{map[string]any{"plugin": "a.wasm", "pool_size": 0}}}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "chain.0.pool_size: ") {
		t.Errorf("got %v, want an error about chain.0.pool_size", err)
	}
}
