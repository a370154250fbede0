//! A plugin as it was built against the released WIT 0.1.0, with wit-bindgen and no SDK: the
//! proof that a host of a newer 0.1.x still runs it. It tags every span with
//! `guest.contract = "0.1.0"` and its span name's length.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated exports
mod component {
    #[allow(missing_docs, clippy::all)]
    mod bindings {
        wit_bindgen::generate!({
            world: "span-processor",
            path: "../../../wit/v0.1.0",
        });
    }

    use bindings::spanwise::processor::batch::SpanBatch;
    use bindings::spanwise::processor::types::{
        ConfigError, Level, ProcessError, StrColumn, StrField, Value,
    };

    struct Component;

    impl bindings::Guest for Component {
        fn configure(_config: String) -> Result<(), ConfigError> {
            Ok(())
        }

        fn process(batch: &SpanBatch) -> Result<(), ProcessError> {
            let names = batch.str_field(StrField::Name);
            let rows: Vec<u32> = (0..batch.len()).collect();
            let mut tags = StrColumn {
                offsets: vec![0],
                data: Vec::new(),
                present: Vec::new(),
            };
            for _ in &rows {
                tags.data.extend_from_slice(b"0.1.0");
                tags.offsets.push(tags.data.len() as u32);
                tags.present.push(1);
            }
            batch.set_str_attribute(Level::Span, "guest.contract", &rows, &tags);
            let lengths: Vec<Value> = names
                .offsets
                .windows(2)
                .map(|w| Value::Int(i64::from(w[1] - w[0])))
                .collect();
            batch.set_attribute(Level::Span, "guest.name_length", &rows, &lengths);
            Ok(())
        }
    }

    bindings::export!(Component with_types_in bindings);
}
