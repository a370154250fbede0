package difftest

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

// Link is one processor of a chain: its factory, its id and its config block.
type Link struct {
	Factory processor.Factory
	ID      string
	Config  map[string]any
}

// Chain builds and starts links in order, the last sending to next, as a collector pipeline
// does. Stop shuts them down, first to last.
func Chain(links []Link, next consumer.Traces) (first consumer.Traces, stop func() error, err error) {
	started := make([]processor.Traces, len(links))
	stop = func() error {
		for _, p := range started {
			if p != nil {
				if err := p.Shutdown(context.Background()); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i := len(links) - 1; i >= 0; i-- {
		link := links[i]
		cfg := link.Factory.CreateDefaultConfig()
		if err := confmap.NewFromStringMap(link.Config).Unmarshal(cfg); err != nil {
			return nil, stop, fmt.Errorf("%s: %w", link.ID, err)
		}
		if v, ok := cfg.(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return nil, stop, fmt.Errorf("%s: %w", link.ID, err)
			}
		}
		set := processortest.NewNopSettings(link.Factory.Type())
		var id component.ID
		if err := id.UnmarshalText([]byte(link.ID)); err != nil {
			return nil, stop, err
		}
		set.ID = id
		p, err := link.Factory.CreateTraces(context.Background(), set, cfg, next)
		if err != nil {
			return nil, stop, fmt.Errorf("%s: %w", link.ID, err)
		}
		if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			return nil, stop, fmt.Errorf("%s: %w", link.ID, err)
		}
		started[i] = p
		next = p
	}
	return next, stop, nil
}
