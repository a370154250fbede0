// Package spanwiseprocessor is an OpenTelemetry Collector processor that runs spanwise's
// WebAssembly trace processors (masking, filter, head sampler, URL, or any plugin built on the
// spanwise SDK) through the spanwise host's C ABI:
//
//	processors:
//	  spanwise/redact:
//	    plugin: /etc/otelcol/plugins/redact.wasm
//	    config: { ... }
package spanwiseprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// typeStr is the component type: `spanwise` in a collector config.
var typeStr = component.MustNewType("spanwise")

// NewFactory returns the factory of the spanwise processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		typeStr,
		func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelAlpha),
	)
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newSpanwise(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown),
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
	)
}
