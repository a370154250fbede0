// Command reference runs the OpenTelemetry Collector's own OTTL parser (span context, the
// standard converters) over the conditions in a JSON list and writes, for each, whether the
// collector accepts it and, if not, its error. spanwise's parser tests compare against the
// output; see README.md.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component/componenttest"
)

type result struct {
	Condition string `json:"condition"`
	Accepted  bool   `json:"accepted"`
	Error     string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: reference CASES.json OUTPUT.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var conditions []string
	if err := json.Unmarshal(raw, &conditions); err != nil {
		panic(err)
	}
	parser, err := ottlspan.NewParser(
		ottlfuncs.StandardConverters[*ottlspan.TransformContext](),
		componenttest.NewNopTelemetrySettings(),
	)
	if err != nil {
		panic(err)
	}
	results := make([]result, 0, len(conditions))
	for _, condition := range conditions {
		_, err := parser.ParseCondition(condition)
		r := result{Condition: condition, Accepted: err == nil}
		if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	out, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Args[2], append(out, '\n'), 0o644); err != nil {
		panic(err)
	}
}
