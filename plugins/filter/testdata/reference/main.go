// Command reference runs the OpenTelemetry Collector's own filter processor over one input and a
// list of configs, and writes, for each config, which spans and span events it kept (or the
// error it gave), for spanwise's filter plugin tests to compare against.
//
// Usage: go run . CASES.json OUTPUT.json
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor"
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

// result: the span ids kept, in order, with the names of the events each kept.
type result struct {
	Name   string              `json:"name"`
	Spans  []string            `json:"spans"`
	Events map[string][]string `json:"events"`
	Error  string              `json:"error,omitempty"`
	// Stage: where the error came from, "config" (the processor refused its config) or
	// "consume" (processing the input failed).
	Stage string `json:"stage,omitempty"`
}

func run(input []byte, c testCase) (result, error) {
	r := result{Name: c.Name, Spans: []string{}, Events: map[string][]string{}}
	factory := filterprocessor.NewFactory()
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
		r.Stage = "consume"
		return r, err
	}
	if err := proc.Shutdown(context.Background()); err != nil {
		return r, err
	}
	// Everything dropped: the processor passes nothing on.
	for _, out := range sink.AllTraces() {
		for i := 0; i < out.ResourceSpans().Len(); i++ {
			scopes := out.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < scopes.Len(); j++ {
				spans := scopes.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					span := spans.At(k)
					id := span.SpanID()
					key := hex.EncodeToString(id[:])
					r.Spans = append(r.Spans, key)
					names := []string{}
					for e := 0; e < span.Events().Len(); e++ {
						names = append(names, span.Events().At(e).Name())
					}
					r.Events[key] = names
				}
			}
		}
	}
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
			stage := r.Stage
			if stage == "" {
				stage = "config"
			}
			r = result{Name: c.Name, Spans: []string{}, Events: map[string][]string{}, Error: err.Error(), Stage: stage}
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
