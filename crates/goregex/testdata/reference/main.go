// Command reference runs Go's regexp over the cases in ../reference-cases.json and writes what
// it finds to ../reference-output.json: each pattern with its texts, and the compile error or,
// for each text, the leftmost-first match's byte offsets (null for no match).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
)

type reference struct {
	Pattern string   `json:"pattern"`
	Texts   []string `json:"texts"`
	Error   string   `json:"error,omitempty"`
	Matches [][]int  `json:"matches"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: reference CASES OUTPUT")
		os.Exit(2)
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var cases struct {
		Cases []struct {
			Pattern string   `json:"pattern"`
			Texts   []string `json:"texts"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(text, &cases); err != nil {
		panic(err)
	}
	out := []reference{}
	for _, c := range cases.Cases {
		r := reference{Pattern: c.Pattern, Texts: c.Texts, Matches: [][]int{}}
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			r.Error = err.Error()
		} else {
			for _, t := range c.Texts {
				r.Matches = append(r.Matches, re.FindStringIndex(t))
			}
		}
		out = append(out, r)
	}
	written, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Args[2], append(written, '\n'), 0o644); err != nil {
		panic(err)
	}
}
