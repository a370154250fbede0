//! A plugin that loops, hoards memory, panics, fails or writes bad edits is stopped, its edits
//! are never applied, the host keeps going, and the next batch meets a fresh instance.

use spanwise::config::{OnError, TrapsConfig};
use spanwise::pipeline::WasmStage;
use spanwise::runtime::{CallError, Limits, LoadError, Plugin, PluginContext, PluginInstance};
use spanwise_batch::{Batch, BatchBuilder, Level, kv};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Guest {
    _cache: tempfile::TempDir,
    plugin: Plugin,
    _runtime: spanwise::runtime::Runtime,
}

fn misbehave() -> Guest {
    let cache = tempfile::tempdir().unwrap();
    let runtime = spanwise_tests::runtime(cache.path());
    let plugin = runtime
        .load(&spanwise_tests::guest("misbehave"), None)
        .unwrap();
    Guest {
        _cache: cache,
        plugin,
        _runtime: runtime,
    }
}

fn instance(guest: &Guest, limits: Limits) -> PluginInstance {
    let context = Arc::new(PluginContext::new("wasm/misbehave"));
    guest.plugin.instantiate(context, limits, "{}").unwrap()
}

fn batch(command: &str) -> Batch {
    BatchBuilder::new()
        .span(command, vec![kv("url.full", "https://h/a?secret=1")])
        .span("second", vec![])
        .build()
}

fn calls_seen(batch: &Batch) -> Option<String> {
    batch
        .str_attribute(Level::Span, "guest.calls")
        .get(0)
        .map(String::from)
}

#[test]
fn endless_loop_ends_with_a_deadline_trap_within_the_deadline() {
    let guest = misbehave();
    let deadline = Duration::from_millis(50);
    let mut instance = instance(
        &guest,
        Limits {
            deadline,
            ..Limits::default()
        },
    );
    let mut looping = batch("loop");
    let before = looping.to_request();
    let started = Instant::now();
    let error = instance.process(&mut looping).unwrap_err();
    let took = started.elapsed();
    assert_eq!(error, CallError::Deadline { deadline_ms: 50 });
    assert!(
        took >= deadline,
        "interrupted after {took:?}, before the deadline"
    );
    assert!(
        took < deadline + Duration::from_millis(500),
        "interrupted only after {took:?}"
    );
    assert_eq!(looping.to_request(), before, "the batch is untouched");

    let mut next = batch("normal");
    instance.process(&mut next).unwrap();
    assert_eq!(
        calls_seen(&next).as_deref(),
        Some("1"),
        "a fresh instance took the next batch"
    );
    assert_eq!(instance.instantiations(), 2);
}

#[test]
fn allocation_beyond_the_memory_cap_traps_without_taking_the_host_down() {
    let guest = misbehave();
    let mut instance = instance(
        &guest,
        Limits {
            memory: 16 << 20,
            deadline: Duration::from_secs(5),
            ..Limits::default()
        },
    );
    let mut hoarding = batch("alloc");
    let before = hoarding.to_request();
    let error = instance.process(&mut hoarding).unwrap_err();
    match &error {
        CallError::Trap(message) => assert!(message.contains("memory"), "{message}"),
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(hoarding.to_request(), before);

    let mut next = batch("normal");
    instance.process(&mut next).unwrap();
    assert_eq!(calls_seen(&next).as_deref(), Some("1"));
}

#[test]
fn trap_mid_batch_leaves_the_batch_unedited_and_the_next_batch_gets_a_fresh_instance() {
    let guest = misbehave();
    let mut instance = instance(&guest, Limits::default());
    let mut first = batch("normal");
    instance.process(&mut first).unwrap();
    assert_eq!(calls_seen(&first).as_deref(), Some("1"));

    let mut panicking = batch("panic");
    let before = panicking.to_request();
    let error = instance.process(&mut panicking).unwrap_err();
    assert!(matches!(error, CallError::Trap(_)), "{error}");
    assert_eq!(
        panicking.to_request(),
        before,
        "the edit recorded before the panic was discarded"
    );
    assert_eq!(
        panicking.str_attribute(Level::Span, "guest.touched").get(0),
        None
    );

    let mut next = batch("normal");
    instance.process(&mut next).unwrap();
    assert_eq!(
        calls_seen(&next).as_deref(),
        Some("1"),
        "the old instance would have said 3"
    );
}

#[test]
fn an_error_return_discards_edits_but_keeps_the_instance() {
    let guest = misbehave();
    let mut instance = instance(&guest, Limits::default());
    let mut failing = batch("fail");
    let before = failing.to_request();
    let error = instance.process(&mut failing).unwrap_err();
    assert_eq!(
        error,
        CallError::Failed("internal error: failed on purpose".into())
    );
    assert_eq!(failing.to_request(), before);

    let mut next = batch("normal");
    instance.process(&mut next).unwrap();
    assert_eq!(
        calls_seen(&next).as_deref(),
        Some("2"),
        "same instance, second good batch"
    );
    assert_eq!(instance.instantiations(), 1);
}

#[test]
fn an_invalid_edit_traps_the_call_and_nothing_is_applied() {
    let guest = misbehave();
    let mut instance = instance(&guest, Limits::default());
    let mut bad = batch("bad-edit");
    let before = bad.to_request();
    let error = instance.process(&mut bad).unwrap_err();
    match &error {
        CallError::Trap(message) => assert!(message.contains("out of range"), "{message}"),
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(bad.to_request(), before);
}

#[test]
fn a_complex_value_that_does_not_decode_traps_and_not_even_the_edit_before_it_is_applied() {
    let guest = misbehave();
    let mut instance = instance(&guest, Limits::default());
    let mut bad = batch("bad-complex");
    let before = bad.to_request();
    let error = instance.process(&mut bad).unwrap_err();
    match &error {
        CallError::Trap(message) => assert!(
            message.contains("\"guest.complex\" is not an encoded AnyValue"),
            "{message}"
        ),
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(bad.to_request(), before, "no edit of the call was applied");
    assert_eq!(bad.str_attribute(Level::Span, "guest.touched").get(0), None);
}

#[test]
fn with_on_error_pass_a_call_with_an_undecodable_value_passes_the_batch_on_unedited() {
    let guest = misbehave();
    let stage = WasmStage::new(
        "wasm/misbehave",
        vec![instance(&guest, Limits::default())],
        OnError::Pass,
        Arc::default(),
    );
    let input = batch("bad-complex");
    let before = input.to_request();
    let outcome = stage.run(input);
    assert_eq!(outcome.batch.to_request(), before, "never half-edited");
    assert_eq!(stage.stats.get("traps"), 1);
    assert_eq!(stage.stats.get("spans_passed_on_error"), 2);
}

#[test]
fn malformed_string_columns_sent_through_wit_trap_the_call() {
    let guest = misbehave();
    let mut instance = instance(&guest, Limits::default());
    for (command, reason) in [
        ("bad-column-order", "offsets decrease at row 1"),
        ("bad-column-utf8", "row 0 is not valid UTF-8"),
    ] {
        let mut bad = batch(command);
        let before = bad.to_request();
        let error = instance.process(&mut bad).unwrap_err();
        match &error {
            CallError::Trap(message) => assert!(message.contains(reason), "{command}: {message}"),
            other => panic!("{command}: expected a trap, got {other}"),
        }
        assert_eq!(bad.to_request(), before, "{command}: nothing applied");
    }
    let mut next = batch("normal");
    instance.process(&mut next).unwrap();
    assert_eq!(calls_seen(&next).as_deref(), Some("1"), "a fresh instance");
}

#[test]
fn a_trap_in_configure_fails_the_load_and_names_the_processor() {
    let guest = misbehave();
    let context = Arc::new(PluginContext::new("wasm/misbehave"));
    let error = guest
        .plugin
        .instantiate(
            context.clone(),
            Limits::default(),
            r#"{"panic_in_configure": true}"#,
        )
        .unwrap_err();
    match &error {
        LoadError::Instantiate { name, reason } => {
            assert_eq!(name, "wasm/misbehave");
            assert!(reason.contains("configure trapped"), "{reason}");
        }
        other => panic!("expected an instantiation error, got {other}"),
    }
    // The same plugin still loads with a config it accepts, and rejects a bad one by field.
    let error = guest
        .plugin
        .instantiate(
            context.clone(),
            Limits::default(),
            r#"{"panic_in_configure": 3}"#,
        )
        .unwrap_err();
    assert!(
        matches!(&error, LoadError::Config { field, .. } if field == "panic_in_configure"),
        "{error}"
    );
    let mut fine = guest
        .plugin
        .instantiate(context, Limits::default(), "{}")
        .unwrap();
    let mut next = batch("normal");
    fine.process(&mut next).unwrap();
    assert_eq!(calls_seen(&next).as_deref(), Some("1"));
}

#[test]
fn output_beyond_the_cap_traps() {
    let guest = misbehave();
    let mut instance = instance(
        &guest,
        Limits {
            output: 8,
            ..Limits::default()
        },
    );
    let mut normal = batch("normal");
    let before = normal.to_request();
    let error = instance.process(&mut normal).unwrap_err();
    match &error {
        CallError::Trap(message) => assert!(message.contains("output cap"), "{message}"),
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(normal.to_request(), before);
}

#[test]
fn guest_output_goes_to_the_log_without_failing() {
    let guest = misbehave();
    let mut instance = instance(&guest, Limits::default());
    let mut logging = batch("log");
    instance.process(&mut logging).unwrap();
}

#[test]
fn on_error_drop_drops_and_on_error_pass_passes_the_unedited_batch() {
    let guest = misbehave();
    let stage = |on_error| {
        WasmStage::new(
            "wasm/misbehave",
            vec![instance(&guest, Limits::default())],
            on_error,
            Arc::default(),
        )
    };

    let drop_stage = stage(OnError::Drop);
    let outcome = drop_stage.run(batch("panic"));
    assert!(outcome.batch.is_empty());
    let dropped = outcome.dropped.expect("the drop is reported");
    assert_eq!(
        (dropped.processor.as_str(), dropped.spans),
        ("wasm/misbehave", 2)
    );
    assert!(
        dropped.reason.contains("on_error is drop"),
        "{}",
        dropped.reason
    );
    assert_eq!(drop_stage.stats.get("spans_dropped_on_error"), 2);
    assert_eq!(drop_stage.stats.get("traps"), 1);

    let pass_stage = stage(OnError::Pass);
    let input = batch("panic");
    let before = input.to_request();
    let outcome = pass_stage.run(input);
    assert_eq!(
        outcome.batch.to_request(),
        before,
        "passed on exactly as it came"
    );
    assert!(outcome.dropped.is_none());
    assert_eq!(pass_stage.stats.get("spans_passed_on_error"), 2);

    let outcome = pass_stage.run(batch("normal"));
    assert_eq!(calls_seen(&outcome.batch).as_deref(), Some("1"));
}

#[test]
fn keyed_hash_uses_the_host_held_key_and_fails_cleanly_without_one() {
    let guest = misbehave();
    let key = b"a-key-of-at-least-16-bytes".to_vec();
    let mut context = PluginContext::new("wasm/misbehave");
    context.keys.insert("patient".into(), key.clone());
    let mut keyed = guest
        .plugin
        .instantiate(Arc::new(context), Limits::default(), "{}")
        .unwrap();
    let mut hashing = batch("hash");
    keyed.process(&mut hashing).unwrap();
    let names = hashing.str_field(spanwise_batch::StrField::Name);
    let expected = spanwise_batch::hash::hmac_sha256_column(&key, &names);
    let expected: Vec<String> = expected
        .chunks(32)
        .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    let column = hashing.str_attribute(Level::Span, "guest.hash");
    let got: Vec<Option<&str>> = column.iter().collect();
    assert_eq!(
        got,
        expected
            .iter()
            .map(|h| Some(h.as_str()))
            .collect::<Vec<_>>()
    );

    let mut keyless = instance(&guest, Limits::default());
    let mut hashing = batch("hash");
    keyless.process(&mut hashing).unwrap();
    let error = hashing.str_attribute(Level::Span, "guest.hash_error");
    assert!(
        error.get(0).unwrap().contains("no key named \"patient\""),
        "{:?}",
        error.get(0)
    );
}

#[test]
fn hashing_in_the_host_hashes_the_values_edited_before_it_and_traps_on_an_unknown_key() {
    let guest = misbehave();
    let key = b"a-key-of-at-least-16-bytes".to_vec();
    let mut context = PluginContext::new("wasm/misbehave");
    context.keys.insert("patient".into(), key.clone());
    let context = Arc::new(context);
    let mut keyed = guest
        .plugin
        .instantiate(context.clone(), Limits::default(), "{}")
        .unwrap();
    let mut hashing = batch("hash-in-host");
    keyed.process(&mut hashing).unwrap();
    let digest = |text: &str| -> String {
        let column = spanwise_batch::StrColumn::from_options([Some(text)]);
        spanwise_batch::hash::hmac_sha256_column(&key, &column)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let secret = hashing.str_attribute(Level::Span, "guest.secret");
    assert_eq!(
        secret.get(0),
        Some(digest("s3cret").as_str()),
        "the value set, hashed"
    );
    assert_eq!(secret.get(1), Some(digest("s3cret").as_str()));
    let url = hashing.str_attribute(Level::Span, "url.full");
    assert_eq!(url.get(0), Some(digest("https://h/a?secret=1").as_str()));
    assert_eq!(url.get(1), None, "a row without the key is left alone");
    assert_eq!(context.counters.get("hashed"), 3, "two secrets and one URL");

    let mut keyless = instance(&guest, Limits::default());
    let mut hashing = batch("hash-in-host");
    let before = hashing.to_request();
    match keyless.process(&mut hashing).unwrap_err() {
        CallError::Trap(message) => {
            assert!(message.contains("no key named \"patient\""), "{message}")
        }
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(hashing.to_request(), before, "not even the edit before it");
}

/// Two batches at once on a stage of `pool` instances: one that loops until its deadline, and
/// a normal one started while the first is running. Returns how long the normal one took.
fn normal_call_beside_a_loop(pool: usize, deadline: Duration) -> Duration {
    let guest = misbehave();
    let limits = Limits {
        deadline,
        ..Limits::default()
    };
    let stage = Arc::new(WasmStage::new(
        "wasm/misbehave",
        (0..pool).map(|_| instance(&guest, limits)).collect(),
        OnError::Pass,
        Arc::default(),
    ));
    let looping = {
        let stage = stage.clone();
        std::thread::spawn(move || stage.run(batch("loop")))
    };
    let waiting = Instant::now();
    while stage.busy() == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the looping call never started"
        );
        std::thread::yield_now();
    }
    let started = Instant::now();
    let outcome = stage.run(batch("normal"));
    let took = started.elapsed();
    assert_eq!(calls_seen(&outcome.batch).as_deref(), Some("1"));
    let looped = looping.join().unwrap();
    assert!(looped.dropped.is_none(), "on_error: pass");
    assert_eq!(stage.stats.get("deadline_exceeded"), 1);
    took
}

#[test]
fn a_pool_of_instances_runs_batches_side_by_side_and_a_pool_of_one_serializes_them() {
    let beside = normal_call_beside_a_loop(2, Duration::from_secs(5));
    assert!(
        beside < Duration::from_millis(2500),
        "with two instances the normal batch does not wait for the looping one: {beside:?}"
    );
    let after = normal_call_beside_a_loop(1, Duration::from_millis(400));
    assert!(
        after >= Duration::from_millis(200),
        "with one instance the normal batch waits for the looping one: {after:?}"
    );
}

#[test]
fn a_plugin_that_keeps_trapping_is_left_alone_then_disabled_and_on_error_applies() {
    let guest = misbehave();
    let stage = |disable_after, backoff| {
        WasmStage::new(
            "wasm/misbehave",
            vec![instance(&guest, Limits::default())],
            OnError::Pass,
            Arc::default(),
        )
        .with_traps(TrapsConfig {
            disable_after,
            backoff,
            max_backoff: backoff,
        })
    };
    // Two traps in a row: the plugin is left alone for the backoff; a batch meanwhile passes
    // on unedited without a call, and once it is over the plugin runs again.
    let waiting = stage(0, Duration::from_millis(300));
    waiting.run(batch("panic"));
    waiting.run(batch("panic"));
    let skipped = waiting.run(batch("normal"));
    assert_eq!(
        calls_seen(&skipped.batch),
        None,
        "no call during the backoff"
    );
    assert_eq!(waiting.stats.get("batches_skipped_after_traps"), 1);
    std::thread::sleep(Duration::from_millis(350));
    let after = waiting.run(batch("normal"));
    assert!(calls_seen(&after.batch).is_some(), "called again after it");
    // A call that does not trap resets the count: three traps, but never three in a row.
    let resetting = stage(3, Duration::from_millis(1));
    for command in ["panic", "panic", "normal", "panic"] {
        std::thread::sleep(Duration::from_millis(5));
        resetting.run(batch(command));
    }
    assert_eq!(resetting.stats.get("disabled"), 0);
    // Three in a row: disabled, on_error for every batch from then on, nothing more called.
    let disabled = stage(3, Duration::from_millis(1));
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(5));
        disabled.run(batch("panic"));
    }
    assert_eq!(disabled.stats.get("disabled"), 1);
    assert_eq!(disabled.stats.get("traps"), 3);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(5));
        let outcome = disabled.run(batch("normal"));
        assert_eq!(calls_seen(&outcome.batch), None);
        assert_eq!(outcome.batch.len(), 2, "on_error: pass sends it on");
    }
    assert_eq!(disabled.stats.get("batches_skipped_after_traps"), 3);
    assert_eq!(disabled.stats.get("traps"), 3, "no further call");
}
