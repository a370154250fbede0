// Package e2e runs the otelcol-spanwise binary ($SPANWISE_COLLECTOR, built by `make collector`)
// with spanwise plugins in its pipeline, and sends it spans with real OTLP clients on loopback.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"example.invalid/spanwise/collector/internal/components"
)

// repo is the repository's root (the collector runs there, so dist/plugins resolves).
func repo(*testing.T) string { return components.Repo() }

func binary(t *testing.T) string {
	path := os.Getenv("SPANWISE_COLLECTOR")
	if path == "" {
		path = filepath.Join(repo(t), "target", "otelcol-spanwise")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the collector binary %s is missing: run `make collector-test` (%v)", path, err)
	}
	return path
}

// freePort is a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// collector is a running otelcol-spanwise.
type collector struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

// start runs the collector with config and env in the repository's root, and waits until
// ready (its HTTP receiver at httpAddr accepts connections), for at most 60 s.
func start(t *testing.T, config string, env []string, httpAddr string) *collector {
	t.Helper()
	cmd := exec.Command(binary(t), "--config", config)
	cmd.Dir = repo(t)
	cmd.Env = append(os.Environ(), env...)
	log := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &collector{cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() { c.stop(t) })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			t.Fatalf("the collector exited at start (%v):\n%s", err, log)
		default:
		}
		if conn, err := net.DialTimeout("tcp", httpAddr, time.Second); err == nil {
			conn.Close()
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the collector did not listen on %s within 60 s:\n%s", httpAddr, log)
	return nil
}

// alive fails the test if the collector has exited.
func (c *collector) alive(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err
		t.Fatalf("the collector exited (%v):\n%s", err, c.log)
	default:
	}
}

// stop sends SIGTERM and waits (20 s at most) for the collector to flush and exit.
func (c *collector) stop(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		c.done <- err
		if err != nil {
			t.Errorf("the collector exited with %v:\n%s", err, c.log)
		}
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		t.Errorf("the collector did not stop within 20 s:\n%s", c.log)
	}
}

// exported reads what the file exporter wrote: one JSON TracesData per line.
func exported(t *testing.T, path string) ([]ptrace.Span, string) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spans []ptrace.Span
	scanner := bufio.NewScanner(bytes.NewReader(text))
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(scanner.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					spans = append(spans, span)
				}
			}
		}
	}
	return spans, string(text)
}

// waitFor polls check every 100 ms for at most d.
func waitFor(d time.Duration, check func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		if check() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func str(span ptrace.Span, key string) string {
	v, ok := span.Attributes().Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

func traceID(span ptrace.Span) string {
	id := span.TraceID()
	return fmt.Sprintf("%x", id[:])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
