package difftest

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

// Run sends a copy of td, as one batch, through a processor that factory makes from config (a
// collector config block), shuts the processor down (which makes a tail sampler decide what is
// pending) and returns everything that came out.
func Run(factory processor.Factory, id string, config map[string]any, td ptrace.Traces) (ptrace.Traces, error) {
	cfg := factory.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(config).Unmarshal(cfg); err != nil {
		return ptrace.Traces{}, fmt.Errorf("config: %w", err)
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return ptrace.Traces{}, fmt.Errorf("config: %w", err)
		}
	}
	set := processortest.NewNopSettings(factory.Type())
	if id != "" {
		var parsed component.ID
		if err := parsed.UnmarshalText([]byte(id)); err != nil {
			return ptrace.Traces{}, err
		}
		set.ID = parsed
	}
	sink := new(consumertest.TracesSink)
	p, err := factory.CreateTraces(context.Background(), set, cfg, sink)
	if err != nil {
		return ptrace.Traces{}, err
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return ptrace.Traces{}, err
	}
	input := ptrace.NewTraces()
	td.CopyTo(input)
	consumeErr := p.ConsumeTraces(context.Background(), input)
	if err := p.Shutdown(context.Background()); err != nil {
		return ptrace.Traces{}, err
	}
	if consumeErr != nil {
		return ptrace.Traces{}, consumeErr
	}
	out := ptrace.NewTraces()
	for _, batch := range sink.AllTraces() {
		batch.ResourceSpans().MoveAndAppendTo(out.ResourceSpans())
	}
	return out, nil
}
