// Package difftest runs the same generated traces through the OpenTelemetry Collector's own
// processors (contrib v0.161.0) and through spanwise's plugins inside the collector (the
// spanwise processor), with equivalent configs, and compares the outputs span by span and
// attribute by attribute. Where spanwise differs on purpose, the case is listed in
// collector/README.md and asserted as such (see deliberate.go).
package difftest
