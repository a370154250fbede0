package spanwiseprocessor

// The spanwise host's C ABI (host/ffi), linked statically: `make ffi` builds
// target/release/libspanwise_ffi.a, and `make collector` builds this package against it.

/*
#cgo CFLAGS: -I${SRCDIR}/../../host/ffi/include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lspanwise_ffi -lgcc_s -lutil -lrt -lpthread -lm -ldl
#include <stdlib.h>
#include "spanwise.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// RuntimeOptionsEnv names the environment variable that holds the runtime's options as JSON
// (cache_dir, cache_max_size, max_memory, max_instances, signals_based_traps); see
// host/ffi/README.md. Unset: spanwise's defaults, and no signal handlers.
const RuntimeOptionsEnv = "SPANWISE_RUNTIME_OPTIONS"

var (
	sharedOnce    sync.Once
	sharedRuntime *C.SpanwiseRuntime
	sharedErr     error
)

// runtime is the process's one spanwise runtime (a wasmtime engine, its compile cache and its
// epoch ticker), made on first use and kept for the life of the process.
func runtime() (*C.SpanwiseRuntime, error) {
	sharedOnce.Do(func() {
		options := C.CString(os.Getenv(RuntimeOptionsEnv))
		defer C.free(unsafe.Pointer(options))
		var cerr *C.char
		if status := C.spanwise_runtime_new(options, &sharedRuntime, &cerr); status != C.SPANWISE_STATUS_OK {
			sharedErr = fmt.Errorf("%s: %s", RuntimeOptionsEnv, takeString(cerr))
		}
	})
	return sharedRuntime, sharedErr
}

// takeString copies a string spanwise returned and frees it.
func takeString(s *C.char) string {
	if s == nil {
		return ""
	}
	defer C.spanwise_string_free(s)
	return C.GoString(s)
}

// checkBlock checks a processor block (as JSON) without loading its plugin; errors name the key
// relative to the block.
func checkBlock(block []byte) error {
	id := C.CString("")
	defer C.free(unsafe.Pointer(id))
	text := C.CString(string(block))
	defer C.free(unsafe.Pointer(text))
	var cerr *C.char
	if status := C.spanwise_processor_check(id, text, &cerr); status != C.SPANWISE_STATUS_OK {
		return errors.New(takeString(cerr))
	}
	return nil
}

// handle is one loaded processor: a plugin and its pool of instances. Its methods may be called
// from several goroutines at once; close must be the last call.
type handle struct {
	ptr *C.SpanwiseProcessor
}

// load loads processor id (such as "spanwise/redact") from its block, as JSON.
func load(id string, block []byte) (*handle, error) {
	h := &handle{}
	err := create(id, block, func(rt *C.SpanwiseRuntime, cid, text *C.char, cerr **C.char) C.SpanwiseStatus {
		return C.spanwise_processor_new(rt, cid, text, &h.ptr, cerr)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// create runs one of the ABI's constructors on the process's runtime with id and block as C
// strings, turning a failed status into its message.
func create(id string, block []byte, call func(rt *C.SpanwiseRuntime, id, block *C.char, cerr **C.char) C.SpanwiseStatus) error {
	rt, err := runtime()
	if err != nil {
		return err
	}
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	text := C.CString(string(block))
	defer C.free(unsafe.Pointer(text))
	var cerr *C.char
	if status := call(rt, cid, text, &cerr); status != C.SPANWISE_STATUS_OK {
		return errors.New(takeString(cerr))
	}
	return nil
}

// pointer is the address of request's bytes for C, or nil when there are none.
func pointer(request []byte) *C.uint8_t {
	if len(request) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&request[0]))
}

// result is what one request became.
type result struct {
	// request is the edited request; nil when keptOnly.
	request []byte
	// keptOnly: the plugins only dropped spans; kept says which remain (1), in the request's
	// order.
	keptOnly      bool
	kept          []byte
	spansIn       uint64
	spansOut      uint64
	spansDropped  uint64
	droppedReason string
	failed        bool
	failure       string
}

// process runs one OTLP ExportTraceServiceRequest (protobuf bytes) through the processor. When
// its plugins only dropped spans, the result says which spans remain instead of carrying a new
// request (the caller still has the batch, and removing spans from it is far cheaper than
// unmarshalling a new one).
func (h *handle) process(request []byte) (result, error) {
	var out C.SpanwiseOutput
	var cerr *C.char
	if status := C.spanwise_processor_process(h.ptr, pointer(request), C.size_t(len(request)), C.SPANWISE_PROCESS_KEPT, &out, &cerr); status != C.SPANWISE_STATUS_OK {
		return result{}, errors.New(takeString(cerr))
	}
	defer C.spanwise_output_free(&out)
	r := result{
		spansIn:      uint64(out.spans_in),
		spansOut:     uint64(out.spans_out),
		spansDropped: uint64(out.spans_dropped),
		failed:       bool(out.failed),
		keptOnly:     bool(out.kept_only),
	}
	if out.kept_len > 0 {
		r.kept = C.GoBytes(unsafe.Pointer(out.kept), C.int(out.kept_len))
	}
	if out.len > 0 {
		r.request = C.GoBytes(unsafe.Pointer(out.data), C.int(out.len))
	}
	if out.dropped_reason != nil {
		r.droppedReason = C.GoString(out.dropped_reason)
	}
	if out.failure != nil {
		r.failure = C.GoString(out.failure)
	}
	return r, nil
}

// counters are a processor's counters: the host's and the plugin's own, or, for a chain, those
// of each of its plugins.
type counters struct {
	ID     string            `json:"id,omitempty"`
	Host   map[string]uint64 `json:"host,omitempty"`
	Plugin map[string]uint64 `json:"plugin,omitempty"`
	Chain  []counters        `json:"chain,omitempty"`
}

func (h *handle) counters() (counters, error) {
	var text, cerr *C.char
	if status := C.spanwise_processor_counters(h.ptr, &text, &cerr); status != C.SPANWISE_STATUS_OK {
		return counters{}, errors.New(takeString(cerr))
	}
	var c counters
	err := json.Unmarshal([]byte(takeString(text)), &c)
	return c, err
}

// close frees the processor and its instances.
func (h *handle) close() {
	if h.ptr != nil {
		C.spanwise_processor_free(h.ptr)
		h.ptr = nil
	}
}

// sampler is a loaded tail sampler (the tail-sampler world).
type sampler struct {
	ptr *C.SpanwiseSampler
}

func loadSampler(id string, block []byte) (*sampler, error) {
	s := &sampler{}
	err := create(id, block, func(rt *C.SpanwiseRuntime, cid, text *C.char, cerr **C.char) C.SpanwiseStatus {
		return C.spanwise_sampler_new(rt, cid, text, &s.ptr, cerr)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sampler) decide(request []byte) ([]Decision, error) {
	var text, cerr *C.char
	if status := C.spanwise_sampler_decide(s.ptr, pointer(request), C.size_t(len(request)), &text, &cerr); status != C.SPANWISE_STATUS_OK {
		return nil, errors.New(takeString(cerr))
	}
	var decisions []Decision
	err := json.Unmarshal([]byte(takeString(text)), &decisions)
	return decisions, err
}

func (s *sampler) close() {
	if s.ptr != nil {
		C.spanwise_sampler_free(s.ptr)
		s.ptr = nil
	}
}
