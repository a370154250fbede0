package difftest

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"example.invalid/spanwise/collector/spanwiseprocessor"
)

// The same decision per trace as the collector's tail_sampling processor, for policy lists
// without composite.
func TestTailSamplerAgainstTheCollectorsTailSampling(t *testing.T) {
	str := func(name string, extra map[string]any) map[string]any {
		p := map[string]any{"key": "http.route", "values": []any{"/patients/{id}", "/cart"}}
		for k, v := range extra {
			p[k] = v
		}
		return map[string]any{"name": name, "type": "string_attribute", "string_attribute": p}
	}
	lists := map[string][]any{
		"probabilistic 10":   {map[string]any{"name": "p", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 10}}},
		"probabilistic salt": {map[string]any{"name": "p", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 33.3, "hash_salt": "platform"}}},
		"latency":            {map[string]any{"name": "slow", "type": "latency", "latency": map[string]any{"threshold_ms": 2000}}},
		"latency band":       {map[string]any{"name": "band", "type": "latency", "latency": map[string]any{"threshold_ms": 100, "upper_threshold_ms": 2000}}},
		"status_code":        {map[string]any{"name": "errors", "type": "status_code", "status_code": map[string]any{"status_codes": []any{"ERROR"}}}},
		"status ok or unset": {map[string]any{"name": "ok", "type": "status_code", "status_code": map[string]any{"status_codes": []any{"OK", "UNSET"}}}},
		"string":             {str("routes", nil)},
		"string regex":       {str("routes", map[string]any{"enabled_regex_matching": true, "values": []any{"^/pat", "health"}})},
		"string inverted":    {str("routes", map[string]any{"invert_match": true})},
		"and": {map[string]any{"name": "slow-errors", "type": "and", "and": map[string]any{"and_sub_policy": []any{
			map[string]any{"name": "errors", "type": "status_code", "status_code": map[string]any{"status_codes": []any{"ERROR"}}},
			map[string]any{"name": "slow", "type": "latency", "latency": map[string]any{"threshold_ms": 100}},
		}}}},
		"platform list": {
			map[string]any{"name": "errors", "type": "status_code", "status_code": map[string]any{"status_codes": []any{"ERROR"}}},
			map[string]any{"name": "slow", "type": "latency", "latency": map[string]any{"threshold_ms": 2000}},
			str("routes", map[string]any{"invert_match": true}),
			map[string]any{"name": "rest", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 10}},
		},
	}
	for name, policies := range lists {
		t.Run(name, func(t *testing.T) {
			reference, err := Run(tailsamplingprocessor.NewFactory(), "", map[string]any{"decision_wait": "1s", "policies": policies}, input)
			if err != nil {
				t.Fatal(err)
			}
			want := traceIDs(reference)
			sampler, err := spanwiseprocessor.NewSampler("tail_sampling", map[string]any{
				"plugin": plugin(t, "tail_sampler"),
				"config": map[string]any{"policies": policies},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sampler.Close()
			decisions, err := sampler.Decide(input)
			if err != nil {
				t.Fatal(err)
			}
			all := traceIDs(input)
			if len(decisions) != len(all) {
				t.Fatalf("%d decisions for %d traces", len(decisions), len(all))
			}
			var diffs []string
			kept := 0
			for _, d := range decisions {
				if d.Keep {
					kept++
				}
				if d.Keep != want[d.TraceID] {
					diffs = append(diffs, fmt.Sprintf("trace %s: the collector keeps it: %v, spanwise: %v (%s)", d.TraceID, want[d.TraceID], d.Keep, d.Policy))
				}
			}
			t.Logf("%d of %d traces kept by both", kept-len(diffs), len(all))
			if kept == 0 || kept == len(all) {
				t.Errorf("spanwise kept %d of %d traces: the case tests nothing", kept, len(all))
			}
			if len(diffs) > 0 {
				if len(diffs) > 8 {
					diffs = diffs[:8]
				}
				t.Fatalf("decisions differ:\n%v", diffs)
			}
		})
	}
}

// traceIDs is the set of trace ids of td's spans, in hex.
func traceIDs(td ptrace.Traces) map[string]bool {
	ids := map[string]bool{}
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				id := span.TraceID()
				ids[hex.EncodeToString(id[:])] = true
			}
		}
	}
	return ids
}
