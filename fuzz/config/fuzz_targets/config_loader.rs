//! The config loader on any text: YAML parsing with positions, `${...}` expansion (every
//! variable is set), every component block checked against its type. It may refuse the text
//! with an error naming a key; it may not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match spanwise::config::Config::parse(text, Path::new("fuzz.yaml"), &|name| {
        Some(format!("value-of-{name}"))
    }) {
        Ok(config) => {
            let _ = config.runtime_settings();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
