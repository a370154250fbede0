//! The C ABI called as C calls it (raw pointers, status codes, strings to free), with the real
//! plugins and the misbehaving test guest.

// Calling a C ABI from Rust is unsafe by nature.
#![allow(unsafe_code)]

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use spanwise_batch::{BatchBuilder, kv};
use spanwise_ffi::{SpanwiseOutput, SpanwiseProcessor, SpanwiseRuntime, SpanwiseStatus};
use std::ffi::{CStr, CString, c_char};
use std::ptr::null_mut;

/// The C functions, called as C would call them (the pointers are valid, or null on purpose).
mod c {
    use spanwise_ffi::*;
    use std::ffi::c_char;

    pub fn runtime_new(
        options: *const c_char,
        runtime: *mut *mut SpanwiseRuntime,
        error: *mut *mut c_char,
    ) -> SpanwiseStatus {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_runtime_new(options, runtime, error) }
    }

    pub fn runtime_free(runtime: *mut SpanwiseRuntime) {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_runtime_free(runtime) }
    }

    pub fn processor_check(
        id: *const c_char,
        block: *const c_char,
        error: *mut *mut c_char,
    ) -> SpanwiseStatus {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_processor_check(id, block, error) }
    }

    pub fn processor_new(
        runtime: *const SpanwiseRuntime,
        id: *const c_char,
        block: *const c_char,
        processor: *mut *mut SpanwiseProcessor,
        error: *mut *mut c_char,
    ) -> SpanwiseStatus {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_processor_new(runtime, id, block, processor, error) }
    }

    pub fn processor_free(processor: *mut SpanwiseProcessor) {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_processor_free(processor) }
    }

    pub fn processor_process(
        processor: *const SpanwiseProcessor,
        request: *const u8,
        len: usize,
        output: *mut SpanwiseOutput,
        error: *mut *mut c_char,
    ) -> SpanwiseStatus {
        processor_process_with(processor, request, len, 0, output, error)
    }

    pub fn processor_process_with(
        processor: *const SpanwiseProcessor,
        request: *const u8,
        len: usize,
        flags: u32,
        output: *mut SpanwiseOutput,
        error: *mut *mut c_char,
    ) -> SpanwiseStatus {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_processor_process(processor, request, len, flags, output, error) }
    }

    pub fn output_free(output: *mut SpanwiseOutput) {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_output_free(output) }
    }

    pub fn processor_counters(
        processor: *const SpanwiseProcessor,
        json: *mut *mut c_char,
        error: *mut *mut c_char,
    ) -> SpanwiseStatus {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_processor_counters(processor, json, error) }
    }

    pub fn string_free(text: *mut c_char) {
        // SAFETY: the tests pass what each function's safety section asks for, or null.
        unsafe { spanwise_string_free(text) }
    }
}

/// A runtime without a compile cache (each test compiles what it loads).
struct Runtime(*mut SpanwiseRuntime);

impl Runtime {
    fn new() -> Self {
        let options = CString::new(r#"{"cache_dir": ""}"#).unwrap();
        let mut runtime = null_mut();
        let mut error = null_mut();
        let status = c::runtime_new(options.as_ptr(), &mut runtime, &mut error);
        assert_eq!(status, SpanwiseStatus::Ok, "{}", take(error));
        Self(runtime)
    }

    fn processor(
        &self,
        id: &str,
        block: serde_json::Value,
    ) -> Result<Processor, (SpanwiseStatus, String)> {
        let id = CString::new(id).unwrap();
        let block = CString::new(block.to_string()).unwrap();
        let mut processor = null_mut();
        let mut error = null_mut();
        match c::processor_new(
            self.0,
            id.as_ptr(),
            block.as_ptr(),
            &mut processor,
            &mut error,
        ) {
            SpanwiseStatus::Ok => {
                assert!(error.is_null());
                Ok(Processor(processor))
            }
            status => {
                assert!(processor.is_null());
                Err((status, take(error)))
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        c::runtime_free(self.0);
    }
}

struct Processor(*mut SpanwiseProcessor);

// The ABI promises that a processor may be used from several threads at once.
unsafe impl Send for Processor {}
unsafe impl Sync for Processor {}

/// What `spanwise_processor_process` returned, copied out and freed.
#[derive(Debug)]
struct Output {
    request: ExportTraceServiceRequest,
    spans_in: u64,
    spans_out: u64,
    spans_dropped: u64,
    dropped_reason: Option<String>,
    failed: bool,
    failure: Option<String>,
}

impl Processor {
    fn process(&self, request: &[u8]) -> Result<Output, (SpanwiseStatus, String)> {
        let mut output = std::mem::MaybeUninit::<SpanwiseOutput>::uninit();
        let mut error = null_mut();
        let status = c::processor_process(
            self.0,
            request.as_ptr(),
            request.len(),
            output.as_mut_ptr(),
            &mut error,
        );
        if status != SpanwiseStatus::Ok {
            return Err((status, take(error)));
        }
        // SAFETY: written by the call, which succeeded.
        let mut output = unsafe { output.assume_init() };
        // SAFETY: `len` bytes at `data`, owned by the output until it is freed.
        let bytes = unsafe { std::slice::from_raw_parts(output.data, output.len) };
        let copied = Output {
            request: ExportTraceServiceRequest::decode(bytes).expect("the output decodes"),
            spans_in: output.spans_in,
            spans_out: output.spans_out,
            spans_dropped: output.spans_dropped,
            dropped_reason: text(output.dropped_reason),
            failed: output.failed,
            failure: text(output.failure),
        };
        c::output_free(&mut output);
        assert!(
            output.data.is_null() && output.dropped_reason.is_null() && output.failure.is_null()
        );
        c::output_free(&mut output); // a second free frees nothing
        Ok(copied)
    }

    fn counters(&self) -> serde_json::Value {
        let mut json = null_mut();
        let mut error = null_mut();
        assert_eq!(
            c::processor_counters(self.0, &mut json, &mut error),
            SpanwiseStatus::Ok
        );
        serde_json::from_str(&take(json)).unwrap()
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        c::processor_free(self.0);
    }
}

fn text(pointer: *const c_char) -> Option<String> {
    // SAFETY: null or a NUL-terminated string from spanwise.
    (!pointer.is_null()).then(|| {
        unsafe { CStr::from_ptr(pointer) }
            .to_str()
            .unwrap()
            .to_owned()
    })
}

/// A string spanwise returned, copied and freed ("" for null).
fn take(pointer: *mut c_char) -> String {
    let copied = text(pointer).unwrap_or_default();
    c::string_free(pointer);
    copied
}

fn plugin(name: &str) -> String {
    spanwise_test_components::path(name).display().to_string()
}

/// A request of `n` spans named `name`, each with a URL that has a query string.
fn request(name: &str, n: usize) -> Vec<u8> {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "checkout")]);
    for i in 0..n {
        builder = builder.span(
            name,
            vec![
                kv(
                    "url.full",
                    format!("https://shop.example/cart/{i}?patient=p-{i}&token=x").as_str(),
                ),
                kv("index", i as i64),
            ],
        );
    }
    builder.build().into_request().encode_to_vec()
}

fn url_of(output: &Output, span: usize) -> String {
    let spans: Vec<_> = output
        .request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    let attribute = spans[span]
        .attributes
        .iter()
        .find(|a| a.key == "url.full")
        .expect("url.full");
    match &attribute.value.as_ref().unwrap().value {
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => s.clone(),
        other => panic!("url.full is {other:?}"),
    }
}

#[test]
fn a_request_goes_through_a_plugin_and_comes_back_edited() {
    let runtime = Runtime::new();
    let url = runtime
        .processor(
            "spanwise/url",
            serde_json::json!({"plugin": plugin("url"), "pool_size": 1}),
        )
        .unwrap();
    let output = url.process(&request("GET /cart", 3)).unwrap();
    assert_eq!(
        (output.spans_in, output.spans_out, output.spans_dropped),
        (3, 3, 0)
    );
    assert!(!output.failed && output.failure.is_none() && output.dropped_reason.is_none());
    for i in 0..3 {
        assert_eq!(url_of(&output, i), format!("https://shop.example/cart/{i}"));
    }
    let counters = url.counters();
    assert_eq!(counters["host"]["batches"], 1);
    assert_eq!(counters["host"]["spans_in"], 3);
    assert!(
        counters["plugin"]
            .as_object()
            .is_some_and(|c| !c.is_empty()),
        "{counters}"
    );
}

#[test]
fn dropped_spans_are_counted_with_their_reason() {
    let runtime = Runtime::new();
    let filter = runtime
        .processor(
            "spanwise/filter",
            serde_json::json!({
                "plugin": plugin("filter"),
                "config": {"traces": {"span": ["name == \"GET /health\""]}},
            }),
        )
        .unwrap();
    let output = filter.process(&request("GET /health", 4)).unwrap();
    assert_eq!(
        (output.spans_in, output.spans_out, output.spans_dropped),
        (4, 0, 4)
    );
    let reason = output.dropped_reason.expect("a reason");
    assert!(
        reason.contains("4 spans dropped by spanwise/filter"),
        "{reason}"
    );
    assert!(!output.failed);
    let kept = filter.process(&request("GET /cart", 2)).unwrap();
    assert_eq!((kept.spans_out, kept.spans_dropped), (2, 0));
    assert!(kept.dropped_reason.is_none());
}

#[test]
fn config_errors_name_the_key_and_the_reason() {
    let runtime = Runtime::new();
    let url = plugin("url");
    let cases = [
        (
            serde_json::json!({"plugin": url, "limits": {"memory": "2GiB"}}),
            SpanwiseStatus::LoadFailed,
            "processors.spanwise/x.limits.memory: ",
        ),
        (
            serde_json::json!({"plugin": url, "colour": 1}),
            SpanwiseStatus::InvalidArgument,
            "processors.spanwise/x.colour: unknown field `colour`",
        ),
        (
            serde_json::json!({"plugin": url, "on_error": "explode"}),
            SpanwiseStatus::InvalidArgument,
            "processors.spanwise/x.on_error: ",
        ),
        (
            serde_json::json!({"plugin": url, "pool_size": 0}),
            SpanwiseStatus::InvalidArgument,
            "processors.spanwise/x.pool_size: 0 is not between 1",
        ),
        (
            serde_json::json!({"plugin": url, "sha256": "abc"}),
            SpanwiseStatus::InvalidArgument,
            "processors.spanwise/x.sha256: \"abc\" is not 64 hex digits",
        ),
        (
            serde_json::json!({"plugin": url, "sha256": "0".repeat(64)}),
            SpanwiseStatus::LoadFailed,
            "processors.spanwise/x.sha256: ",
        ),
        (
            serde_json::json!({"plugin": "/nonexistent/x.wasm"}),
            SpanwiseStatus::LoadFailed,
            "processors.spanwise/x.plugin: ",
        ),
        (
            serde_json::json!({"plugin": url, "config": {"keep_params": 7}}),
            SpanwiseStatus::LoadFailed,
            "processors.spanwise/x.config",
        ),
        (
            serde_json::json!({"plugin": plugin("sampler")}),
            SpanwiseStatus::LoadFailed,
            "processors.spanwise/x.plugin: ",
        ),
        (
            serde_json::json!({"on_error": "pass"}),
            SpanwiseStatus::InvalidArgument,
            "processors.spanwise/x: missing field `plugin`",
        ),
    ];
    for (block, status, start) in cases {
        let (got, message) = runtime
            .processor("spanwise/x", block.clone())
            .err()
            .unwrap_or_else(|| panic!("{block} was accepted"));
        assert!(
            message.starts_with(start),
            "{block}: {message:?} should start with {start:?}"
        );
        assert_eq!(got, status, "{block}: {message}");
    }
}

#[test]
fn check_reads_the_block_without_loading_it() {
    let check = |id: &str, block: &str| {
        let (id, block) = (CString::new(id).unwrap(), CString::new(block).unwrap());
        let mut error = null_mut();
        let status = c::processor_check(id.as_ptr(), block.as_ptr(), &mut error);
        (status, take(error))
    };
    // The plugin is not read, so a missing file is fine here.
    assert_eq!(
        check("spanwise/a", r#"{"plugin": "later.wasm"}"#),
        (SpanwiseStatus::Ok, String::new())
    );
    assert_eq!(
        check(
            "",
            r#"{"plugin": "x.wasm", "limits": {"deadline": "soon"}}"#
        )
        .0,
        SpanwiseStatus::InvalidArgument
    );
    let (_, message) = check(
        "",
        r#"{"plugin": "x.wasm", "limits": {"deadline": "soon"}}"#,
    );
    assert!(message.starts_with("limits.deadline: "), "{message}");
    let (_, message) = check("spanwise/a", "{not json");
    assert!(
        message.starts_with("processors.spanwise/a: not JSON"),
        "{message}"
    );
}

#[test]
fn bad_arguments_are_refused_and_change_nothing() {
    let runtime = Runtime::new();
    let url = runtime
        .processor("spanwise/url", serde_json::json!({"plugin": plugin("url")}))
        .unwrap();
    let (status, message) = url.process(b"\xff\xff\xff not protobuf").unwrap_err();
    assert_eq!(status, SpanwiseStatus::InvalidArgument);
    assert!(
        message.contains("not an OTLP ExportTraceServiceRequest"),
        "{message}"
    );
    assert_eq!(
        url.counters()["host"]["batches"],
        serde_json::Value::Null,
        "nothing ran"
    );

    let mut error = null_mut();
    let mut output = std::mem::MaybeUninit::<SpanwiseOutput>::uninit();
    assert_eq!(
        c::processor_process(null_mut(), [].as_ptr(), 0, output.as_mut_ptr(), &mut error),
        SpanwiseStatus::InvalidArgument
    );
    assert_eq!(take(error), "processor is a null pointer");
    assert_eq!(
        c::processor_process(url.0, null_mut(), 5, output.as_mut_ptr(), &mut error),
        SpanwiseStatus::InvalidArgument
    );
    assert_eq!(take(error), "request is a null pointer with a length of 5");
    let bad = CString::new(r#"{"cache_dir": "", "max_instnces": 3}"#).unwrap();
    let mut made = null_mut();
    assert_eq!(
        c::runtime_new(bad.as_ptr(), &mut made, &mut error),
        SpanwiseStatus::InvalidArgument
    );
    assert!(made.is_null());
    assert!(take(error).contains("unknown field `max_instnces`"));
    // An empty request is a request with no spans, not an error.
    let output = url.process(&[]).unwrap();
    assert_eq!((output.spans_in, output.spans_out), (0, 0));
    // Freeing null is allowed.
    c::runtime_free(null_mut());
    c::processor_free(null_mut());
    c::output_free(null_mut());
    c::string_free(null_mut());
}

#[test]
fn many_threads_share_one_processor() {
    let runtime = Runtime::new();
    let url = runtime
        .processor(
            "spanwise/url",
            serde_json::json!({"plugin": plugin("url"), "pool_size": 2}),
        )
        .unwrap();
    let (threads, requests) = (8, 25);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let url = &url;
            scope.spawn(move || {
                for r in 0..requests {
                    let n = 1 + (t * requests + r) % 7;
                    let output = url.process(&request(&format!("t{t}"), n)).unwrap();
                    assert_eq!(output.spans_out, n as u64);
                    for i in 0..n {
                        assert_eq!(url_of(&output, i), format!("https://shop.example/cart/{i}"));
                    }
                }
            });
        }
    });
    let counters = url.counters();
    assert_eq!(counters["host"]["batches"], threads * requests);
    let spans: usize = (0..threads * requests).map(|k| 1 + k % 7).sum();
    assert_eq!(counters["host"]["spans_out"], spans);
}

/// Whether `signal`'s handler is the default one (no one installed a handler).
fn default_handler(signal: i32) -> bool {
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: reads the current action into `action`.
    assert_eq!(
        unsafe { libc::sigaction(signal, std::ptr::null(), &mut action) },
        0
    );
    action.sa_sigaction == libc::SIG_DFL
}

#[test]
fn every_way_a_plugin_fails_is_contained_without_signal_handlers() {
    let runtime = Runtime::new();
    let block = |on_error: &str| {
        serde_json::json!({
            "plugin": plugin("misbehave"),
            "on_error": on_error,
            "pool_size": 1,
            "limits": {"deadline": "200ms", "memory": "32MiB"},
            "traps": {"disable_after": 0, "backoff": "1ms", "max_backoff": "1ms"},
        })
    };
    let drop = runtime.processor("spanwise/drop", block("drop")).unwrap();
    let pass = runtime.processor("spanwise/pass", block("pass")).unwrap();
    for mode in ["loop", "alloc", "panic", "oob", "recurse", "fail"] {
        let output = drop.process(&request(mode, 2)).unwrap();
        assert!(output.failed, "{mode}");
        assert_eq!((output.spans_out, output.spans_dropped), (0, 2), "{mode}");
        let reason = output.dropped_reason.unwrap();
        assert!(reason.contains("on_error is drop"), "{mode}: {reason}");

        let output = pass.process(&request(mode, 2)).unwrap();
        assert!(output.failed, "{mode}");
        assert_eq!((output.spans_out, output.spans_dropped), (2, 0), "{mode}");
        assert!(
            output.failure.as_ref().unwrap().contains("on_error: pass"),
            "{mode}"
        );
        // Unedited: the guest's edit before it failed is not in the output.
        assert_eq!(
            url_of(&output, 0),
            "https://shop.example/cart/0?patient=p-0&token=x"
        );

        // The next request runs on a working instance.
        std::thread::sleep(std::time::Duration::from_millis(5));
        for processor in [&drop, &pass] {
            let fine = processor.process(&request("hello", 1)).unwrap();
            assert!(
                !fine.failed && fine.spans_out == 1,
                "after {mode}: {fine:?}"
            );
        }
    }
    let counters = drop.counters();
    assert_eq!(counters["host"]["errors"], 6);
    assert_eq!(counters["host"]["deadline_exceeded"], 1);
    assert_eq!(counters["host"]["traps"], 4, "{counters}");
    // wasmtime would handle SIGILL and SIGFPE as well as SIGSEGV and SIGBUS (which Rust's
    // standard library also handles, for stack overflows in Rust code).
    for signal in [libc::SIGILL, libc::SIGFPE] {
        assert!(
            default_handler(signal),
            "a handler for signal {signal} was installed"
        );
    }
}

#[test]
fn a_tail_sampler_decides_on_whole_traces() {
    let runtime = Runtime::new();
    let id = CString::new("tail_sampling").unwrap();
    let block = CString::new(serde_json::json!({"plugin": plugin("sampler")}).to_string()).unwrap();
    let mut sampler = null_mut();
    let mut error = null_mut();
    // SAFETY: valid strings and out-pointers.
    let status = unsafe {
        spanwise_ffi::spanwise_sampler_new(
            runtime.0,
            id.as_ptr(),
            block.as_ptr(),
            &mut sampler,
            &mut error,
        )
    };
    assert_eq!(status, SpanwiseStatus::Ok, "{}", take(error));
    // Two traces: one with an error span (kept with probability 1 by the test sampler).
    let mut batch = BatchBuilder::new()
        .span("ok", vec![])
        .span("failed", vec![])
        .status(2, "boom")
        .build()
        .into_request();
    let spans = &mut batch.resource_spans[0].scope_spans[0].spans;
    spans[0].trace_id = vec![1; 16];
    spans[1].trace_id = vec![2; 16];
    let request = batch.encode_to_vec();
    let mut json = null_mut();
    // SAFETY: a live sampler, `request.len()` bytes, out-pointers.
    let status = unsafe {
        spanwise_ffi::spanwise_sampler_decide(
            sampler,
            request.as_ptr(),
            request.len(),
            &mut json,
            &mut error,
        )
    };
    assert_eq!(status, SpanwiseStatus::Ok, "{}", take(error));
    let decisions: serde_json::Value = serde_json::from_str(&take(json)).unwrap();
    assert_eq!(decisions.as_array().unwrap().len(), 2, "{decisions}");
    assert_eq!(decisions[0]["trace_id"], "01".repeat(16));
    assert_eq!(decisions[1]["trace_id"], "02".repeat(16));
    assert_eq!(decisions[1]["keep"], true);
    assert_eq!(decisions[1]["probability"], 1.0);
    assert_eq!(decisions[1]["policy"], "errors");
    // A processor is not a sampler, and the error says so.
    let block = CString::new(serde_json::json!({"plugin": plugin("url")}).to_string()).unwrap();
    let mut other = null_mut();
    // SAFETY: as above.
    let status = unsafe {
        spanwise_ffi::spanwise_sampler_new(
            runtime.0,
            id.as_ptr(),
            block.as_ptr(),
            &mut other,
            &mut error,
        )
    };
    assert_eq!(status, SpanwiseStatus::LoadFailed);
    assert!(take(error).contains("is a processor, not a tail sampler"));
    // SAFETY: made above, freed once.
    unsafe { spanwise_ffi::spanwise_sampler_free(sampler) };
}

#[test]
fn a_chain_runs_its_plugins_in_order_behind_one_crossing() {
    let runtime = Runtime::new();
    let chain = runtime
        .processor(
            "spanwise/platform",
            serde_json::json!({"chain": [
                {"plugin": plugin("filter"), "config": {"traces": {"span": ["name == \"GET /health\""]}}},
                {"plugin": plugin("url"), "pool_size": 1},
            ]}),
        )
        .unwrap();
    let mut both = ExportTraceServiceRequest::decode(request("GET /health", 2).as_slice()).unwrap();
    let cart = ExportTraceServiceRequest::decode(request("GET /cart", 3).as_slice()).unwrap();
    both.resource_spans.extend(cart.resource_spans);
    let output = chain.process(&both.encode_to_vec()).unwrap();
    assert_eq!(
        (output.spans_in, output.spans_out, output.spans_dropped),
        (5, 3, 2)
    );
    let reason = output.dropped_reason.clone().unwrap();
    assert!(
        reason.starts_with("2 spans dropped by spanwise/platform.chain.0"),
        "{reason}"
    );
    for i in 0..3 {
        assert_eq!(url_of(&output, i), format!("https://shop.example/cart/{i}"));
    }
    let counters = chain.counters();
    assert_eq!(counters["chain"][0]["id"], "spanwise/platform.chain.0");
    assert_eq!(counters["chain"][0]["host"]["spans_dropped"], 2);
    assert_eq!(counters["chain"][1]["host"]["spans_in"], 3);

    // What is wrong with a chain is named, down to the key inside one of its plugins.
    let url = plugin("url");
    for (block, start) in [
        (
            serde_json::json!({"chain": []}),
            "processors.spanwise/c.chain: must be a list",
        ),
        (
            serde_json::json!({"chain": [{"plugin": url}], "on_error": "pass"}),
            "processors.spanwise/c.on_error: a block with `chain` has nothing else",
        ),
        (
            serde_json::json!({"chain": [{"plugin": url}, {"plugin": url, "limits": {"memory": "2GiB"}}]}),
            "processors.spanwise/c.chain.1.limits.memory: ",
        ),
        (
            serde_json::json!({"chain": [{"plugin": url}, {"plugin": url, "colour": 1}]}),
            "processors.spanwise/c.chain.1.colour: unknown field",
        ),
    ] {
        let (_, message) = runtime
            .processor("spanwise/c", block.clone())
            .err()
            .unwrap_or_else(|| panic!("{block} was accepted"));
        assert!(
            message.starts_with(start),
            "{block}: {message:?} should start with {start:?}"
        );
    }
}

/// With `SPANWISE_PROCESS_KEPT`, the kept spans of `request`, or `None` when the plugins
/// edited more than that (then the request came back encoded).
fn kept(processor: &Processor, request: &[u8]) -> Option<Vec<u8>> {
    let mut output = std::mem::MaybeUninit::<SpanwiseOutput>::uninit();
    let mut error = null_mut();
    let status = c::processor_process_with(
        processor.0,
        request.as_ptr(),
        request.len(),
        spanwise_ffi::SPANWISE_PROCESS_KEPT,
        output.as_mut_ptr(),
        &mut error,
    );
    assert_eq!(status, SpanwiseStatus::Ok, "{}", take(error));
    // SAFETY: written by the call, which succeeded.
    let mut output = unsafe { output.assume_init() };
    let kept = output.kept_only.then(|| {
        assert!(output.data.is_null() && output.len == 0);
        // SAFETY: `kept_len` bytes at `kept`, owned by the output until it is freed.
        unsafe { std::slice::from_raw_parts(output.kept, output.kept_len) }.to_vec()
    });
    if kept.is_none() {
        assert!(output.kept.is_null() && !output.data.is_null());
    }
    c::output_free(&mut output);
    kept
}

#[test]
fn when_plugins_only_drop_spans_the_caller_can_be_told_which_remain() {
    let runtime = Runtime::new();
    let filter = runtime
        .processor(
            "spanwise/filter",
            serde_json::json!({"plugin": plugin("filter"), "config": {"traces": {"span": ["attributes[\"index\"] == 1 or attributes[\"index\"] == 3"]}}}),
        )
        .unwrap();
    assert_eq!(kept(&filter, &request("a", 5)), Some(vec![1, 0, 1, 0, 1]));
    assert_eq!(kept(&filter, &request("a", 1)), Some(vec![1]));
    // Editing anything else sends the request back encoded.
    let url = runtime
        .processor("spanwise/url", serde_json::json!({"plugin": plugin("url")}))
        .unwrap();
    assert_eq!(kept(&url, &request("a", 2)), None);
    // A chain of a filter and a plugin that edits nothing but drops, in two steps.
    let chain = runtime
        .processor(
            "spanwise/two",
            serde_json::json!({"chain": [
                {"plugin": plugin("filter"), "config": {"traces": {"span": ["attributes[\"index\"] == 0"]}}},
                {"plugin": plugin("filter"), "config": {"traces": {"span": ["attributes[\"index\"] == 2"]}}},
            ]}),
        )
        .unwrap();
    assert_eq!(kept(&chain, &request("a", 4)), Some(vec![0, 1, 0, 1]));
    // A failing plugin under on_error: drop keeps nothing, under pass everything.
    for (on_error, want) in [("drop", vec![0, 0]), ("pass", vec![1, 1])] {
        let misbehave = runtime
            .processor(
                "spanwise/m",
                serde_json::json!({"plugin": plugin("misbehave"), "on_error": on_error}),
            )
            .unwrap();
        assert_eq!(
            kept(&misbehave, &request("fail", 2)),
            Some(want),
            "{on_error}"
        );
    }
    // Unknown flags are refused.
    let mut output = std::mem::MaybeUninit::<SpanwiseOutput>::uninit();
    let mut error = null_mut();
    let bytes = request("a", 1);
    assert_eq!(
        c::processor_process_with(
            filter.0,
            bytes.as_ptr(),
            bytes.len(),
            6,
            output.as_mut_ptr(),
            &mut error
        ),
        SpanwiseStatus::InvalidArgument
    );
    assert_eq!(take(error), "unknown flags 0x6");
}
