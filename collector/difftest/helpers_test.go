package difftest

import (
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/processor"

	"example.invalid/spanwise/collector/internal/components"
	"example.invalid/spanwise/collector/spanwiseprocessor"
)

// plugin is the path of plugin name's component (url, filter, redact, head_sampler, ...).
func plugin(t testing.TB, name string) string { return components.Path(t, name) }

// input is the generated traces every differential test uses: 1,500 traces, about 9,700 spans.
var input = Generate(20261127, 1500)

// both runs input through the collector's processor and through plugin name with config, and
// returns the two outputs by span.
func both(t *testing.T, contrib processor.Factory, contribConfig map[string]any, name string, config map[string]any) (want, got map[string]Span) {
	t.Helper()
	return bothBlock(t, contrib, contribConfig, name, map[string]any{"config": config})
}

// bothBlock is both with the whole spanwise processor block (its plugin added).
func bothBlock(t *testing.T, contrib processor.Factory, contribConfig map[string]any, name string, block map[string]any) (want, got map[string]Span) {
	t.Helper()
	reference, err := Run(contrib, "", contribConfig, input)
	if err != nil {
		t.Fatalf("the collector's %s: %v", contrib.Type(), err)
	}
	block["plugin"] = plugin(t, name)
	// One call holds all ~10,000 spans: far past what the default deadline (100ms) is for, on a
	// busy machine. These tests are about results, not time.
	block["limits"] = map[string]any{"deadline": "10s"}
	ours, err := Run(spanwiseprocessor.NewFactory(), "spanwise/"+name, block, input)
	if err != nil {
		t.Fatalf("spanwise %s: %v", name, err)
	}
	return Spans(reference), Spans(ours)
}

// inputSpans is input by span.
var inputSpans = Spans(input)

// edited fails the test unless some span of out differs from the same span of the input: a
// config that changes nothing would compare nothing.
func edited(t *testing.T, out map[string]Span) {
	t.Helper()
	n := 0
	for key, span := range out {
		if !reflect.DeepEqual(span, inputSpans[key]) {
			n++
		}
	}
	t.Logf("%d spans edited", n)
	if n == 0 {
		t.Fatal("no span was edited: the case tests nothing")
	}
}

// same fails the test with the first differences, if there are any.
func same(t *testing.T, want, got map[string]Span) {
	t.Helper()
	if len(want) == 0 && len(got) == 0 {
		return
	}
	t.Logf("%d of %d spans kept by both", len(want), input.SpanCount())
	diffs := Diff(want, got)
	if len(diffs) > 0 {
		shown := diffs
		if len(shown) > 8 {
			shown = shown[:8]
		}
		t.Fatalf("%d of %d spans differ; the first:\n%s", len(diffs), len(want), strings.Join(shown, "\n"))
	}
}
