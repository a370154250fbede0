package difftest

import (
	"fmt"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/probabilisticsamplerprocessor"
)

// The same kept set and the same output tracestate as the collector's probabilistic_sampler,
// in each mode at several rates, seeds and precisions.
func TestHeadSamplerAgainstTheCollectorsProbabilisticSampler(t *testing.T) {
	var configs []map[string]any
	for _, rate := range []float64{0, 0.001, 1, 10, 30, 50, 99.9, 100} {
		for _, seed := range []int{1, 42, 12345} {
			configs = append(configs, map[string]any{"mode": "hash_seed", "hash_seed": seed, "sampling_percentage": rate})
		}
		for _, mode := range []string{"proportional", "equalizing"} {
			for _, precision := range []int{1, 4, 14} {
				configs = append(configs, map[string]any{"mode": mode, "sampling_percentage": rate, "sampling_precision": precision})
			}
		}
	}
	// fail_closed: false keeps what cannot be sampled; no mode given picks one as the collector does.
	configs = append(configs,
		map[string]any{"mode": "proportional", "sampling_percentage": 30, "fail_closed": false},
		map[string]any{"mode": "hash_seed", "hash_seed": 7, "sampling_percentage": 30, "fail_closed": false},
		map[string]any{"sampling_percentage": 20},
		map[string]any{"sampling_percentage": 20, "hash_seed": 9},
	)
	for _, config := range configs {
		t.Run(fmt.Sprint(config), func(t *testing.T) {
			want, got := both(t, probabilisticsamplerprocessor.NewFactory(), config, "head_sampler", config)
			same(t, want, got)
		})
	}
}
