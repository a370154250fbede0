//! The compile cache is something an operator can trust: a private folder, stable keys, an
//! integrity check before anything is loaded, and eviction of what is not used.

use spanwise::runtime::{Limits, LoadError, PluginContext, Runtime, RuntimeSettings};
use spanwise_batch::{BatchBuilder, Level, kv};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn runtime(dir: &Path, max_size: u64) -> Result<Runtime, LoadError> {
    Runtime::new(RuntimeSettings {
        cache_dir: Some(dir.to_owned()),
        cache_max_size: max_size,
        ..Default::default()
    })
}

fn cached_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    files.sort();
    files
}

/// Run the URL plugin from `runtime` over one span; what the span's `url.full` became.
fn url_after(runtime: &Runtime) -> Option<String> {
    Some(url_after_file(runtime, &spanwise_tests::plugin("url"), None).unwrap())
}

#[test]
fn a_component_is_compiled_once_and_loaded_from_the_cache_after() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let runtime = runtime(&cache, 1 << 30).unwrap();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    let files = cached_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let written = std::fs::metadata(&files[0]).unwrap().len();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    assert_eq!(
        cached_files(&cache),
        files,
        "the second load used the same file"
    );
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), written);
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the folder was created private");
    let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file was written private");
}

#[test]
fn a_folder_others_can_write_to_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o777, 0o775, 0o722] {
        let cache = dir.path().join(format!("cache-{mode:o}"));
        std::fs::create_dir(&cache).unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(mode)).unwrap();
        let error = match runtime(&cache, 1 << 30) {
            Ok(_) => panic!("accepted a cache folder of mode {mode:o}"),
            Err(error) => error,
        };
        let message = error.to_string();
        assert!(matches!(error, LoadError::CacheDir(_)), "{message}");
        assert!(message.contains(&format!("mode {mode:o}")), "{message}");
        assert!(message.contains("chmod 700"), "{message}");
    }
}

#[test]
fn a_cached_file_swapped_for_another_components_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let runtime = runtime(&cache, 1 << 30).unwrap();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    let url_file = cached_files(&cache).pop().unwrap();
    runtime.load(&spanwise_tests::guest("noop"), None).unwrap();
    let noop_file = cached_files(&cache)
        .into_iter()
        .find(|f| *f != url_file)
        .unwrap();
    // Someone (or something) puts the do-nothing plugin's code under the URL plugin's name.
    std::fs::copy(&noop_file, &url_file).unwrap();
    let fresh = self::runtime(&cache, 1 << 30).unwrap();
    assert_eq!(
        url_after(&fresh).as_deref(),
        Some("https://h/a"),
        "the URL plugin ran, not the code planted under its name"
    );
    assert_ne!(
        std::fs::read(&url_file).unwrap(),
        std::fs::read(&noop_file).unwrap(),
        "the planted file was replaced by a fresh compile"
    );
}

#[test]
fn a_corrupted_or_truncated_file_is_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let runtime = runtime(&cache, 1 << 30).unwrap();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    let file = cached_files(&cache).pop().unwrap();
    let good = std::fs::read(&file).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    std::fs::write(&file, &flipped).unwrap();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    assert_eq!(std::fs::read(&file).unwrap(), good, "rewritten whole");

    std::fs::write(&file, &good[..good.len() / 3]).unwrap();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    assert_eq!(std::fs::read(&file).unwrap(), good, "rewritten whole");

    // The code without its checksum file is not trusted either.
    let sum = file.with_extension("sum");
    let good_sum = std::fs::read(&sum).unwrap();
    std::fs::remove_file(&sum).unwrap();
    std::fs::write(&file, &flipped).unwrap();
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    assert_eq!(std::fs::read(&file).unwrap(), good, "compiled again");
    assert_eq!(
        std::fs::read(&sum).unwrap(),
        good_sum,
        "its checksum written again"
    );
}

#[test]
fn least_recently_used_files_are_evicted_beyond_the_size_cap() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // Room for about one compiled component: each new one pushes the older ones out.
    let runtime = runtime(&cache, 1).unwrap();
    runtime.load(&spanwise_tests::guest("noop"), None).unwrap();
    let noop = cached_files(&cache);
    assert_eq!(noop.len(), 1);
    assert_eq!(url_after(&runtime).as_deref(), Some("https://h/a"));
    let after = cached_files(&cache);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, noop, "the older file went, the newest stayed");
    assert!(
        !noop[0].with_extension("sum").exists(),
        "its checksum file went with it"
    );
    assert!(after[0].with_extension("sum").exists());
}

/// Run the component at `path` (with `pin`) over one span; what the span's `url.full` became.
fn url_after_file(runtime: &Runtime, path: &Path, pin: Option<&str>) -> Result<String, LoadError> {
    let plugin = runtime.load(path, pin)?;
    let mut instance = plugin
        .instantiate(
            Arc::new(PluginContext::new("wasm/x")),
            Limits::default(),
            "{}",
        )
        .unwrap();
    let mut batch = BatchBuilder::new()
        .span("GET", vec![kv("url.full", "https://h/a?token=t")])
        .build();
    instance.process(&mut batch).unwrap();
    Ok(batch
        .str_attribute(Level::Span, "url.full")
        .get(0)
        .unwrap()
        .to_owned())
}

fn digest_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "digest")
        })
        .count()
}

#[test]
fn a_remembered_digest_never_serves_a_changed_file_or_skips_a_pin() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let runtime = runtime(&cache, 1 << 30).unwrap();
    let plugin = dir.path().join("plugin.wasm");
    let url = std::fs::read(spanwise_tests::plugin("url")).unwrap();
    std::fs::write(&plugin, &url).unwrap();

    // Just written: its digest is not remembered (its change time has not settled).
    assert_eq!(
        url_after_file(&runtime, &plugin, None).unwrap(),
        "https://h/a"
    );
    assert_eq!(digest_files(&cache), 0);
    // Settled: remembered, and the next load takes the fast way.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        url_after_file(&runtime, &plugin, None).unwrap(),
        "https://h/a"
    );
    assert_eq!(digest_files(&cache), 1);
    assert_eq!(
        url_after_file(&runtime, &plugin, None).unwrap(),
        "https://h/a"
    );

    // A pin that does not hold is refused, remembered digest or not.
    let wrong = "0".repeat(64);
    match url_after_file(&runtime, &plugin, Some(&wrong)) {
        Err(LoadError::PinMismatch { expected, .. }) => assert_eq!(expected, wrong),
        other => panic!("a wrong pin was not refused: {other:?}"),
    }

    // New contents under the same path (the do-nothing plugin): they run, not the old code.
    std::fs::write(
        &plugin,
        std::fs::read(spanwise_tests::guest("noop")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        url_after_file(&runtime, &plugin, None).unwrap(),
        "https://h/a?token=t",
        "the new contents ran"
    );
}
