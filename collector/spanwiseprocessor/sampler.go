package spanwiseprocessor

import (
	"encoding/json"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Decision is a tail sampler's decision on one trace.
type Decision struct {
	// TraceID is the trace's id, in hex.
	TraceID string `json:"trace_id"`
	// Keep is whether every span of the trace is kept.
	Keep bool `json:"keep"`
	// Probability is, for a kept trace, the probability it was kept with.
	Probability float64 `json:"probability"`
	// Policy names what decided.
	Policy string `json:"policy"`
}

// Sampler is a spanwise tail sampler plugin (such as tail_sampler.wasm), deciding on traces the
// caller has made complete. The collector's tests use it to compare the plugin with the
// collector's tail_sampling processor; it is not a collector component (spanwise's own
// tail_sampling processor buffers the traces in the spanwise host).
type Sampler struct {
	s *sampler
}

// NewSampler loads the sampler whose block (plugin, sha256, limits, keys, config) is given;
// errors name the key under processors.ID.
func NewSampler(id string, block map[string]any) (*Sampler, error) {
	text, err := json.Marshal(block)
	if err != nil {
		return nil, err
	}
	s, err := loadSampler(id, text)
	if err != nil {
		return nil, err
	}
	return &Sampler{s: s}, nil
}

// Decide decides on every trace of td, each taken as complete, in the order each trace first
// appears.
func (s *Sampler) Decide(td ptrace.Traces) ([]Decision, error) {
	request, err := marshaler.MarshalTraces(td)
	if err != nil {
		return nil, err
	}
	return s.s.decide(request)
}

// Close frees the sampler; it must be the last call.
func (s *Sampler) Close() {
	s.s.close()
}
