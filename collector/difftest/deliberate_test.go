package difftest

import (
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"

	"example.invalid/spanwise/collector/spanwiseprocessor"
)

// Where spanwise differs from the collector on purpose (collector/README.md lists each with its
// reason): configs the collector takes and spanwise refuses, with an error that names the key.
func TestDeliberateDifferences(t *testing.T) {
	cases := []struct {
		name     string
		contrib  map[string]any
		spanwise map[string]any
		want     string
	}{
		{
			"weak hashes are refused",
			map[string]any{"allow_all_keys": true, "blocked_values": []any{"P-[0-9]+"}, "hash_function": "md5"},
			map[string]any{"redaction": map[string]any{"allow_all_keys": true, "blocked_values": []any{"P-[0-9]+"}, "hash_function": "md5"}},
			"hash_function",
		},
		{
			"an inline key is refused (keys go in the processor's keys block)",
			map[string]any{"allow_all_keys": true, "blocked_values": []any{"P-[0-9]+"}, "hash_function": "hmac-sha256", "hmac_key": strings.Repeat("k", 32)},
			map[string]any{"redaction": map[string]any{"allow_all_keys": true, "blocked_values": []any{"P-[0-9]+"}, "hash_function": "hmac-sha256", "hmac_key": strings.Repeat("k", 32)}},
			"hmac_key",
		},
		{
			"the URL sanitizer is the url plugin's job",
			map[string]any{"allow_all_keys": true, "url_sanitizer": map[string]any{"enabled": true}},
			map[string]any{"redaction": map[string]any{"allow_all_keys": true, "url_sanitizer": map[string]any{"enabled": true}}},
			"url_sanitizer",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Run(redactionprocessor.NewFactory(), "", c.contrib, input); err != nil {
				t.Fatalf("the collector refuses it too, so it is no difference: %v", err)
			}
			block := map[string]any{"plugin": plugin(t, "redact"), "config": c.spanwise}
			_, err := Run(spanwiseprocessor.NewFactory(), "spanwise/redact", block, input)
			if err == nil || !strings.Contains(err.Error(), "processors.spanwise/redact.config") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error naming processors.spanwise/redact.config and %s", err, c.want)
			}
			if strings.Contains(err.Error(), strings.Repeat("k", 32)) {
				t.Fatalf("the error echoes the key: %v", err)
			}
		})
	}
}
