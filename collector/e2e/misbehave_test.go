package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"example.invalid/spanwise/collector/internal/components"
)

// post sends one span named name over OTLP/HTTP (protobuf) and returns the status code.
func post(t *testing.T, addr, name string, id byte) int {
	t.Helper()
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName(name)
	span.SetTraceID(pcommon.TraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, id}))
	span.SetSpanID(pcommon.SpanID([8]byte{1, 2, 3, 4, 5, 6, 7, id}))
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post("http://"+addr+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Every way a plugin can fail, in a running collector: an endless loop, a memory hog, a panic,
// an out-of-bounds access, a stack overflow, an error. Each batch is dropped (on_error: drop),
// the collector keeps serving, and the batches after it go through a fresh instance.
func TestARunningCollectorSurvivesMisbehavingPlugins(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "spans.jsonl")
	httpAddr := freePort(t)
	config := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
processors:
  spanwise/misbehave:
    plugin: %s
    on_error: drop
    pool_size: 1
    limits: {deadline: 200ms, memory: 32MiB}
    traps: {disable_after: 0, backoff: 1ms, max_backoff: 1ms}
exporters:
  file:
    path: %s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [spanwise/misbehave]
      exporters: [file]
`, httpAddr, components.Path(t, "guest_misbehave"), out)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c := start(t, path, nil, httpAddr)
	modes := []string{"loop", "alloc", "panic", "oob", "recurse", "fail"}
	for i, mode := range modes {
		if code := post(t, httpAddr, mode, byte(2*i)); code != http.StatusOK {
			t.Errorf("%s: status %d", mode, code)
		}
		c.alive(t)
		time.Sleep(5 * time.Millisecond) // past the trap backoff
		if code := post(t, httpAddr, fmt.Sprintf("hello-%d", i), byte(2*i+1)); code != http.StatusOK {
			t.Errorf("after %s: status %d", mode, code)
		}
	}
	c.alive(t)
	var spans []ptrace.Span
	if !waitFor(10*time.Second, func() bool {
		if _, err := os.Stat(out); err != nil {
			return false
		}
		spans, _ = exported(t, out)
		return len(spans) >= len(modes)
	}) {
		t.Fatalf("%d spans exported, want %d:\n%s", len(spans), len(modes), c.log)
	}
	c.stop(t)
	spans, _ = exported(t, out)
	if len(spans) != len(modes) {
		t.Fatalf("%d spans exported, want the %d good ones", len(spans), len(modes))
	}
	for i, span := range spans {
		if want := fmt.Sprintf("hello-%d", i); span.Name() != want {
			t.Errorf("span %d is %s, want %s", i, span.Name(), want)
		}
		// A trap replaces the instance, so the batch after it is its first; an error returned
		// by the plugin ("fail") leaves the instance as it is (its third batch).
		want := "1"
		if modes[i] == "fail" {
			want = "3"
		}
		if got := str(span, "guest.calls"); got != want {
			t.Errorf("%s after %s: guest.calls %q, want %s", span.Name(), modes[i], got, want)
		}
	}
}
