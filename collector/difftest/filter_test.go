package difftest

import (
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor"
)

// The platform's conditions and a wider set, each config given verbatim to both.
func TestFilterAgainstTheCollectorsFilterProcessor(t *testing.T) {
	cases := map[string][]any{
		"platform": {
			`attributes["http.route"] == "/health"`,
			`attributes["grpc.method"] == "Health/Check"`,
			`end_time_unix_nano - start_time_unix_nano < 1000000`,
		},
		"wider": {
			`IsMatch(name, "^grpc\\.health\\..*")`,
			`resource.attributes["service.name"] == "billing" and kind == SPAN_KIND_CLIENT`,
			`status.code == STATUS_CODE_ERROR and not IsMatch(status.message, "patient")`,
			`attributes["http.response.status_code"] >= 500`,
			`attributes["tenant.id"] == nil and attributes["user.id"] != nil`,
			`IsString(attributes["user.id"]) and HasPrefix(attributes["user.id"], "user-1")`,
			`IsInt(attributes["patient.id"]) or IsDouble(attributes["patient.id"])`,
			`IsBool(attributes["cache.hit"]) and attributes["cache.hit"] == true`,
			`IsMap(attributes["enduser.email"])`,
			`Len(name) == 0`,
			`instrumentation_scope.name == "db" and (span.attributes["span.index"] > 3 or kind == SPAN_KIND_INTERNAL)`,
			`trace_state == "vendor=x"`,
			`HasSuffix(name, "/Check")`,
		},
	}
	for name, conditions := range cases {
		t.Run(name, func(t *testing.T) {
			config := map[string]any{"error_mode": "ignore", "traces": map[string]any{"span": conditions}}
			want, got := both(t, filterprocessor.NewFactory(), config, "filter", config)
			if len(want) == len(Spans(input)) || len(want) == 0 {
				t.Fatalf("the conditions dropped %d of %d spans: the case tests nothing", len(Spans(input))-len(want), len(Spans(input)))
			}
			same(t, want, got)
		})
	}
}

func TestFilterSpanEventsAgainstTheCollectorsFilterProcessor(t *testing.T) {
	config := map[string]any{"traces": map[string]any{"spanevent": []any{
		`name == "retry"`,
		`attributes["attempt"] > 2`,
	}}}
	want, got := both(t, filterprocessor.NewFactory(), config, "filter", config)
	same(t, want, got)
	edited(t, got)
}
