// Command reference runs the OpenTelemetry Collector's own tail_sampling processor over one
// input and a list of policy configs, and writes, for each config, the spans it kept (or the
// error it gave), for spanwise's tail sampler tests to compare against. Shutting the processor
// down decides every pending trace, so no case waits for decision_wait.
//
// Usage: go run . CASES.json OUTPUT.json
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

type cases struct {
	Input json.RawMessage `json:"input"`
	Cases []testCase      `json:"cases"`
}

type testCase struct {
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
}

type result struct {
	Name  string   `json:"name"`
	Kept  []string `json:"kept"`
	Error string   `json:"error,omitempty"`
}

func run(input []byte, c testCase) (result, error) {
	r := result{Name: c.Name, Kept: []string{}}
	factory := tailsamplingprocessor.NewFactory()
	cfg := factory.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(c.Config).Unmarshal(cfg); err != nil {
		return r, err
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return r, err
		}
	}
	sink := new(consumertest.TracesSink)
	proc, err := factory.CreateTraces(context.Background(), processortest.NewNopSettings(factory.Type()), cfg, sink)
	if err != nil {
		return r, err
	}
	if err := proc.Start(context.Background(), nil); err != nil {
		return r, err
	}
	traces, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(input)
	if err != nil {
		return r, err
	}
	if err := proc.ConsumeTraces(context.Background(), traces); err != nil {
		return r, err
	}
	if err := proc.Shutdown(context.Background()); err != nil {
		return r, err
	}
	for _, out := range sink.AllTraces() {
		for _, rs := range out.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					id := span.SpanID()
					r.Kept = append(r.Kept, hex.EncodeToString(id[:]))
				}
			}
		}
	}
	sort.Strings(r.Kept)
	return r, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: reference CASES.json OUTPUT.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var all cases
	if err := json.Unmarshal(data, &all); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	results := make([]result, 0, len(all.Cases))
	for _, c := range all.Cases {
		r, err := run(all.Input, c)
		if err != nil {
			r = result{Name: c.Name, Kept: []string{}, Error: err.Error()}
		}
		results = append(results, r)
	}
	encoded, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], append(encoded, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
