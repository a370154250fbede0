package difftest

import (
	"fmt"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
)

// Every action of the attributes processor, with include and exclude, against the masking
// plugin given the same block.
func TestMaskingAgainstTheCollectorsAttributesProcessor(t *testing.T) {
	actions := []any{
		map[string]any{"key": "region", "action": "insert", "value": "eu-west"},
		map[string]any{"key": "tenant.id", "action": "update", "value": "tenant-redacted"},
		map[string]any{"key": "deployment.revision", "action": "upsert", "value": 3},
		map[string]any{"key": "owner", "action": "insert", "from_attribute": "tenant.id"},
		map[string]any{"key": "patient.id", "action": "delete"},
		map[string]any{"pattern": `^http\.request\.body$`, "action": "delete"},
		map[string]any{"key": "user.id", "action": "hash"},
		map[string]any{"key": "enduser.email", "action": "hash"},
		map[string]any{"pattern": `^pass`, "action": "hash"},
		map[string]any{"key": "url.full", "pattern": `^https://(?P<api_host>[^/]+)/(?P<api_resource>[a-z]+)/`, "action": "extract"},
		map[string]any{"key": "retry.count", "action": "convert", "converted_type": "int"},
		map[string]any{"key": "ratio", "action": "convert", "converted_type": "double"},
		map[string]any{"key": "cache.hit", "action": "convert", "converted_type": "string"},
		map[string]any{"key": "span.index", "action": "convert", "converted_type": "double"},
	}
	selections := map[string]map[string]any{
		"all": {},
		"include services, exclude health checks": {
			"include": map[string]any{"match_type": "strict", "services": []any{"patient-api", "checkout"}},
			"exclude": map[string]any{"match_type": "regexp", "span_names": []any{"^GET /health", "Check$"}},
		},
		"include attributes and kinds": {
			"include": map[string]any{"match_type": "regexp", "attributes": []any{map[string]any{"key": "http.route", "value": "^/pat"}}, "span_kinds": []any{"SPAN_KIND_SERVER", "SPAN_KIND_CLIENT"}},
		},
		"exclude libraries and resources": {
			"exclude": map[string]any{"match_type": "strict", "libraries": []any{map[string]any{"name": "db"}}, "resources": []any{map[string]any{"key": "deployment.environment", "value": "prod"}}},
		},
	}
	for name, selection := range selections {
		t.Run(name, func(t *testing.T) {
			config := map[string]any{"actions": actions}
			for k, v := range selection {
				config[k] = v
			}
			want, got := both(t, attributesprocessor.NewFactory(), config, "redact", config)
			same(t, want, got)
			edited(t, got)
		})
	}
}

// The redaction processor's rules, against the masking plugin given the block under
// `redaction`.
func TestMaskingAgainstTheCollectorsRedactionProcessor(t *testing.T) {
	email := `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`
	configs := []map[string]any{
		{"allow_all_keys": true, "blocked_values": []any{email, `P-[0-9]{4}`}, "summary": "debug"},
		{"allowed_keys": []any{"http.route", "url.full", "user.id", "span.index", "exception.message"}, "blocked_key_patterns": []any{"^user"}, "ignored_keys": []any{"tenant.id"}, "summary": "info"},
		{"allow_all_keys": true, "blocked_values": []any{`P-[0-9]+`}, "allowed_values": []any{`P-0042.*`}},
		{"allow_all_keys": true, "blocked_values": []any{`[0-9]{3,}`}, "redact_all_types": true, "ignored_key_patterns": []any{"^span\\."}},
	}
	for i, redaction := range configs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			want, got := both(t, redactionprocessor.NewFactory(), redaction, "redact", map[string]any{"redaction": redaction})
			same(t, want, got)
			edited(t, got)
		})
	}
}

// A keyed hash: the collector takes the key inline, spanwise from the processor's keys block
// (so that it never enters the plugin).
func TestKeyedHashAgainstTheCollectorsRedactionProcessor(t *testing.T) {
	const key = "a-key-of-32-bytes-or-more-for-hmac"
	email := `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`
	contrib := map[string]any{"allow_all_keys": true, "blocked_values": []any{email}, "hash_function": "hmac-sha256", "hmac_key": key}
	ours := map[string]any{
		"keys":   map[string]any{"identifiers": key},
		"config": map[string]any{"redaction": map[string]any{"allow_all_keys": true, "blocked_values": []any{email}, "hash_function": "hmac-sha256", "key_name": "identifiers"}},
	}
	want, got := bothBlock(t, redactionprocessor.NewFactory(), contrib, "redact", ours)
	same(t, want, got)
	edited(t, got)
}
