package spanwiseprocessor

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.uber.org/zap"
)

// spanwise is one processor: its block, and once started the loaded plugin.
type spanwise struct {
	id     string
	block  []byte
	logger *zap.Logger
	handle *handle
}

func newSpanwise(set processor.Settings, cfg *Config) (*spanwise, error) {
	block, err := cfg.blockJSON()
	if err != nil {
		return nil, err
	}
	return &spanwise{id: set.ID.String(), block: block, logger: set.Logger}, nil
}

// start loads the plugin and configures its instances; an error names the key, under
// processors.ID, and stops the collector from starting.
func (p *spanwise) start(context.Context, component.Host) error {
	h, err := load(p.id, p.block)
	if err != nil {
		return err
	}
	p.handle = h
	return nil
}

func (p *spanwise) shutdown(context.Context) error {
	if p.handle == nil {
		return nil
	}
	if c, err := p.handle.counters(); err == nil {
		for _, link := range append([]counters{c}, c.Chain...) {
			if link.ID != "" {
				p.logger.Info("spanwise plugin counters", zap.String("plugin", link.ID), zap.Any("host", link.Host), zap.Any("own", link.Plugin))
			}
		}
	}
	p.handle.close()
	p.handle = nil
	return nil
}

var (
	marshaler   = ptrace.ProtoMarshaler{}
	unmarshaler = ptrace.ProtoUnmarshaler{}
)

// processTraces hands the batch to the plugin as OTLP protobuf and takes the edited batch back.
// A plugin that fails is handled by its on_error (drop, the default, or pass), never by an
// error here: the request either goes on edited, goes on unedited, or is dropped and counted.
func (p *spanwise) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	request, err := marshaler.MarshalTraces(td)
	if err != nil {
		return td, fmt.Errorf("cannot encode the batch for %s: %w", p.id, err)
	}
	r, err := p.handle.process(request)
	if err != nil {
		return td, err
	}
	if r.failed {
		reason := r.failure
		if reason == "" {
			reason = r.droppedReason
		}
		p.logger.Warn("plugin failed", zap.Uint64("spans", r.spansIn), zap.String("reason", reason))
	} else if r.spansDropped > 0 {
		p.logger.Debug("spans dropped", zap.Uint64("spans", r.spansDropped), zap.String("reason", r.droppedReason))
	}
	if r.spansOut == 0 {
		return td, processorhelper.ErrSkipProcessingData
	}
	if r.keptOnly {
		if r.spansDropped > 0 {
			keep(td, r.kept)
		}
		return td, nil
	}
	out, err := unmarshaler.UnmarshalTraces(r.request)
	if err != nil {
		return td, fmt.Errorf("cannot decode what %s returned: %w", p.id, err)
	}
	return out, nil
}

// keep removes from td the spans whose byte in kept is 0 (one byte per span, in td's order),
// and the scopes and resources left without spans.
func keep(td ptrace.Traces, kept []byte) {
	i := 0
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			ss.Spans().RemoveIf(func(ptrace.Span) bool {
				gone := i < len(kept) && kept[i] == 0
				i++
				return gone
			})
			return ss.Spans().Len() == 0
		})
		return rs.ScopeSpans().Len() == 0
	})
}
