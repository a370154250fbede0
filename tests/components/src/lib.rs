//! The WebAssembly components the tests and benches load, built by this crate's `build.rs` on
//! the first `cargo test` (or `cargo build`) of a fresh clone: every plugin under `plugins/` and
//! every test guest under `tests/guests/`.

use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/components.rs"));

/// The component named `name` (`url`, `misbehave`, `contract_0_1_0`, ...).
///
/// # Panics
///
/// When no component has that name: the names are the package names without `spanwise-` and
/// `guest-`, with `-` turned into `_`.
pub fn path(name: &str) -> PathBuf {
    match COMPONENTS.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, path)) => {
            let path = PathBuf::from(path);
            assert!(
                path.exists(),
                "{} was deleted after it was built: run `cargo clean -p spanwise-test-components` and test again",
                path.display()
            );
            path
        }
        None => panic!(
            "no component named {name:?}; built: {}",
            COMPONENTS
                .iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The plugins (not the test guests), by name.
pub fn plugins() -> impl Iterator<Item = (&'static str, PathBuf)> {
    COMPONENTS
        .iter()
        .filter(|(_, test_only, _)| !test_only)
        .map(|(name, _, path)| (*name, PathBuf::from(path)))
}
