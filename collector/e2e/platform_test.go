package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sent is what send_platform_traffic.py reports.
type sent struct {
	Traces      map[string]string `json:"traces"`
	Identifiers []string          `json:"identifiers"`
	Requests    []struct {
		Trace string `json:"trace"`
		Route string `json:"route"`
		Error bool   `json:"error"`
	} `json:"requests"`
}

func python(t *testing.T) string {
	if p := os.Getenv("SPANWISE_PYTHON"); p != "" {
		return p
	}
	return filepath.Join(repo(t), ".venv", "bin", "python")
}

// The platform's config (collector/examples/platform.yaml) in the collector binary, the Python
// OpenTelemetry SDK sending over OTLP/HTTP and gRPC: health checks and sub-millisecond spans are
// gone, identifiers are hashed or masked, URLs stripped, and every other span is there.
func TestPlatformConfigWithThePythonSDK(t *testing.T) {
	out := filepath.Join(t.TempDir(), "spans.jsonl")
	httpAddr, grpcAddr := freePort(t), freePort(t)
	c := start(t, "collector/examples/platform.yaml", []string{
		"SPANWISE_OTLP_HTTP=" + httpAddr,
		"SPANWISE_OTLP_GRPC=" + grpcAddr,
		"SPANWISE_OUTPUT=" + out,
		"SPANWISE_HMAC_KEY=e2e-key-0123456789abcdef",
	}, httpAddr)

	var all sent
	all.Traces = map[string]string{}
	for _, send := range [][2]string{{"http", "http://" + httpAddr + "/v1/traces"}, {"grpc", "http://" + grpcAddr}} {
		cmd := exec.Command(python(t), "send_platform_traffic.py", send[0], send[1], "20", "5", "3", "9")
		cmd.Dir = filepath.Join(repo(t), "tests", "e2e")
		cmd.Stderr = os.Stderr
		output, err := cmd.Output()
		if err != nil {
			t.Fatalf("the Python SDK over %s: %v", send[0], err)
		}
		var s sent
		if err := json.Unmarshal(output, &s); err != nil {
			t.Fatal(err)
		}
		for id, kind := range s.Traces {
			all.Traces[id] = kind
		}
		all.Identifiers = append(all.Identifiers, s.Identifiers...)
		all.Requests = append(all.Requests, s.Requests...)
	}
	c.alive(t)
	c.stop(t)

	spans, text := exported(t, out)
	byTrace := map[string][]string{}
	hex := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, span := range spans {
		id := traceID(span)
		if all.Traces[id] == "health" {
			t.Errorf("a span of a health check was exported: %s", span.Name())
		}
		duration := span.EndTimestamp() - span.StartTimestamp()
		if duration < 1_000_000 && span.Status().Code() != 2 {
			t.Errorf("a sub-millisecond span was exported: %s", span.Name())
		}
		if u := str(span, "url.full"); strings.Contains(u, "?") {
			t.Errorf("a URL kept its query: %s", u)
		}
		if user := str(span, "user.id"); user != "" && !hex.MatchString(user) {
			t.Errorf("user.id was not hashed: %s", user)
		}
		if _, ok := span.Attributes().Get("patient.id"); ok {
			t.Errorf("patient.id was exported on %s", span.Name())
		}
		if ts := span.TraceState().AsRaw(); ts != "ot=th:0" {
			t.Errorf("%s has tracestate %q, want ot=th:0 (kept at 100%%)", span.Name(), ts)
		}
		byTrace[id] = append(byTrace[id], span.Name())
	}
	for _, identifier := range all.Identifiers {
		if strings.Contains(text, identifier) {
			t.Errorf("identifier %s left the collector", identifier)
		}
	}
	want := 0
	for _, r := range all.Requests {
		names := byTrace[r.Trace]
		want += 3
		if len(names) != 3 || !contains(names, "INSERT sleep_logs") {
			t.Errorf("trace %s (%s): exported %v, want its server, database and work spans", r.Trace, r.Route, names)
		}
	}
	if len(all.Requests) != 2*(20+5+3) {
		t.Fatalf("the senders reported %d requests", len(all.Requests))
	}
	t.Logf("%d spans exported for %d requests and %d health checks sent", len(spans), len(all.Requests), len(all.Traces)-len(all.Requests))
	if len(spans) != want {
		t.Errorf("%d spans exported, want %d", len(spans), want)
	}
}
