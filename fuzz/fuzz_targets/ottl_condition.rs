//! An OTTL condition as the filter plugin's config gives it: parsed, then compiled for spans and
//! for span events. Nothing may panic; an error must say where (a column within the text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spanwise_ottl::{Compiler, Context, parse_condition};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_condition(text) {
        Ok(condition) => {
            for context in [Context::Span, Context::SpanEvent] {
                let _ = Compiler::new(context).compile(&condition);
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
