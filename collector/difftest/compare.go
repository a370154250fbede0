package difftest

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Span is what the comparison looks at in one span, with its resource and scope.
type Span struct {
	Name       string
	Kind       string
	Status     string
	TraceState string
	Attributes map[string]any
	Resource   map[string]any
	Scope      string
	Events     []Event
}

// Event is one span event.
type Event struct {
	Name       string
	Attributes map[string]any
}

// Spans indexes every span of td by trace id and span id (hex, "TRACE/SPAN").
func Spans(td ptrace.Traces) map[string]Span {
	out := map[string]Span{}
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				var events []Event
				for _, e := range span.Events().All() {
					events = append(events, Event{Name: e.Name(), Attributes: e.Attributes().AsRaw()})
				}
				out[Key(span)] = Span{
					Name:       span.Name(),
					Kind:       span.Kind().String(),
					Status:     span.Status().Code().String() + " " + span.Status().Message(),
					TraceState: span.TraceState().AsRaw(),
					Attributes: span.Attributes().AsRaw(),
					Resource:   rs.Resource().Attributes().AsRaw(),
					Scope:      ss.Scope().Name() + "@" + ss.Scope().Version(),
					Events:     events,
				}
			}
		}
	}
	return out
}

// Key is a span's trace id and span id.
func Key(span ptrace.Span) string {
	t, s := span.TraceID(), span.SpanID()
	return hex.EncodeToString(t[:]) + "/" + hex.EncodeToString(s[:])
}

// Diff lists every difference between two outputs: spans only one kept, and fields of spans
// both kept that differ. Each line starts with the span's key.
func Diff(want, got map[string]Span) []string {
	var diffs []string
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			diffs = append(diffs, key+": kept by the collector's processor, not by spanwise")
			continue
		}
		if !reflect.DeepEqual(w, g) {
			diffs = append(diffs, fmt.Sprintf("%s: differs:\n  collector %s\n  spanwise  %s", key, describe(w), describe(g)))
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			diffs = append(diffs, key+": kept by spanwise, not by the collector's processor")
		}
	}
	sort.Strings(diffs)
	return diffs
}

func describe(s Span) string {
	return strings.ReplaceAll(fmt.Sprintf("%+v", s), "\n", " ")
}
