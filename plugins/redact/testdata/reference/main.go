// Command reference runs the OpenTelemetry Collector's own attributes and redaction processors
// over test cases and writes what they output, for spanwise's redact plugin tests to compare
// against.
//
// Usage: go run . CASES.json OUTPUT.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

type testCase struct {
	Name      string          `json:"name"`
	Processor string          `json:"processor"`
	Config    map[string]any  `json:"config"`
	Input     json.RawMessage `json:"input"`
}

type result struct {
	Name   string          `json:"name"`
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
}

func run(c testCase) (json.RawMessage, error) {
	var factory processor.Factory
	switch c.Processor {
	case "attributes":
		factory = attributesprocessor.NewFactory()
	case "redaction":
		factory = redactionprocessor.NewFactory()
	default:
		return nil, fmt.Errorf("unknown processor %q", c.Processor)
	}
	cfg := factory.CreateDefaultConfig()
	raw, _ := yamlNumbers(c.Config).(map[string]any)
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, err
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	sink := new(consumertest.TracesSink)
	settings := processortest.NewNopSettings(factory.Type())
	proc, err := factory.CreateTraces(context.Background(), settings, cfg, sink)
	if err != nil {
		return nil, err
	}
	if err := proc.Start(context.Background(), nil); err != nil {
		return nil, err
	}
	traces, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(c.Input)
	if err != nil {
		return nil, err
	}
	if err := proc.ConsumeTraces(context.Background(), traces); err != nil {
		return nil, err
	}
	if err := proc.Shutdown(context.Background()); err != nil {
		return nil, err
	}
	all := sink.AllTraces()
	if len(all) != 1 {
		return nil, fmt.Errorf("expected one output, got %d", len(all))
	}
	return (&ptrace.JSONMarshaler{}).MarshalTraces(all[0])
}

// yamlNumbers turns JSON numbers into what YAML would have given: whole numbers as int,
// others as float64.
func yamlNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = yamlNumbers(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = yamlNumbers(x)
		}
		return out
	default:
		return v
	}
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
	var cases []testCase
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	if err := decoder.Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	results := make([]result, 0, len(cases))
	for _, c := range cases {
		out, err := run(c)
		r := result{Name: c.Name, Output: out}
		if err != nil {
			r.Error = err.Error()
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
