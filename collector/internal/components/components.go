// Package components finds, for the Go tests, what the Rust build made: the WebAssembly
// components and the repository they are in.
package components

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Repo is the repository's root.
func Repo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Dir is the folder of the built components: $SPANWISE_COMPONENTS, else the repository's
// target/wasm-components/wasm32-wasip2/release.
func Dir() string {
	if dir := os.Getenv("SPANWISE_COMPONENTS"); dir != "" {
		return dir
	}
	return filepath.Join(Repo(), "target", "wasm-components", "wasm32-wasip2", "release")
}

// Path is the path of component name (`url`, `filter`, `guest_misbehave`, ...): the file
// spanwise_NAME.wasm in Dir. The test fails at once when it is missing.
func Path(t testing.TB, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(Dir(), "spanwise_"+name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: build the components first (make plugins): %v", path, err)
	}
	return path
}
